#include "cli/format.h"

#include "base/strings.h"
#include "cli/tabwriter.h"

namespace berth::cli {

std::string preformat(const std::string& format, bool* is_table) {
  std::string f = format;
  bool table = starts_with(f, "table");
  if (table) f = f.substr(5);
  if (is_table) *is_table = table;
  size_t b = f.find_first_not_of(' ');
  size_t e = f.find_last_not_of(' ');
  f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      out += f[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += f[i];
    }
  }
  return out;
}

Result<Template> parse_user_template(const std::string& format) {
  auto t = Template::parse(format);
  if (!t) return t.error().context("template parsing error");
  return t;
}

Result<ListFormatter> ListFormatter::create(std::string format, const std::string& default_table,
                                            Json headers, std::string type_name) {
  if (format.empty() || format == "table") format = default_table;
  if (format == "json") format = "{{json .}}";
  ListFormatter f;
  std::string body = preformat(format, &f.table_);
  f.tmpl_ = BERTH_TRY(parse_user_template(body));
  f.headers_ = std::move(headers);
  f.type_name_ = std::move(type_name);
  return f;
}

Result<std::string> ListFormatter::render(const std::vector<Json>& rows) const {
  std::string body;
  TemplateExecOptions row_opts;
  row_opts.strict_type = type_name_;
  row_opts.root_json_escapes_html = true;
  std::map<std::string, std::string> labels;
  for (const Json& given : rows) {
    const Json* row = &given;
    Json stripped;
    row_opts.labels = nullptr;
    if (auto it = given.find(kRowLabels); it != given.end()) {
      labels.clear();
      if (it->is_object())
        for (auto l = it->begin(); l != it->end(); ++l)
          labels[l.key()] = l->is_string() ? l->get<std::string>() : "";
      row_opts.labels = &labels;
      stripped = given;
      stripped.erase(kRowLabels);
      row = &stripped;
    }
    auto r = tmpl_.execute(*row, row_opts);
    if (!r) return r.error().context(exec_prefix_);
    body += *r;
    body += '\n';
  }
  if (!table_) return body;
  TemplateExecOptions head_opts;
  head_opts.header = true;
  auto head = tmpl_.execute(headers_, head_opts);
  std::string text = (head ? *head : std::string()) + "\n" + body;
  return tabwrite(text);
}

}  // namespace berth::cli
