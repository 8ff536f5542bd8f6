// cli/format.h — docker's --format handling for lists: named formats
// ("table", "json", "table TEMPLATE", TEMPLATE), `\t`/`\n` escapes, the
// header row rendered from field titles, and tabwriter alignment.
// Depends on: base, cli/template, cli/tabwriter.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "cli/template.h"

namespace berth::cli {

// The member of a list row holding its labels as an object, for `.Label`.
// Not a name a template can reach as a field (it has a space).
inline constexpr const char* kRowLabels = " labels";

class ListFormatter {
 public:
  // `format` as the user gave it ("" = default_table). `headers`: field ->
  // column title ("ID" -> "IMAGE ID"). `type_name`: shown in Go-like errors
  // for unknown fields ("*formatter.imageContext" in docker).
  // InvalidArgument "template parsing error: template: :1: ..." on a bad template.
  static Result<ListFormatter> create(std::string format, const std::string& default_table,
                                      Json headers, std::string type_name);
  // Whole output for these rows (each a JSON object of field -> value). A
  // row's kRowLabels member (an object), if any, is not a field: it is what
  // the `.Label "key"` method reads, and `json .` does not print it.
  // Execution errors: "template parsing error: template: :1:2: executing ...",
  // as docker 28 words them.
  Result<std::string> render(const std::vector<Json>& rows) const;
  bool is_table() const { return table_; }
  // docker's ps words execution errors "failed to execute template: ..."
  // (it runs the template before it writes); other lists say "template
  // parsing error: ...".
  void set_exec_error_prefix(std::string prefix) { exec_prefix_ = std::move(prefix); }
  // The row fields the format reads (Template::root_fields); nullopt: any.
  std::optional<std::set<std::string>> fields() const { return tmpl_.root_fields(); }

 private:
  Template tmpl_;
  bool table_ = false;
  Json headers_;
  std::string type_name_;
  std::string exec_prefix_ = "template parsing error";
};

// docker's Format.IsTable + preFormat: strips "table", trims spaces, turns
// the two-character sequences \t and \n into a tab / a newline.
std::string preformat(const std::string& format, bool* is_table);

// One template over one value (inspect --format, version --format): parse
// errors prefixed "template parsing error: ". The result has no newline added.
Result<Template> parse_user_template(const std::string& format);

}  // namespace berth::cli
