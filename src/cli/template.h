// cli/template.h — the subset of Go's text/template that docker's --format
// flags use, parsed and evaluated over JSON values.
//
// Grammar: text and {{actions}} with trim markers ({{- -}}) and comments
// ({{/* */}}); pipelines with '|'; operands: . .A.B $ $x $x.A "str" `raw`
// 123 1.5 true false nil (pipeline).A; actions: {{pipeline}}, {{$x := p}},
// {{$x = p}}, if/else if/else/end, with/else/end, range (with `$i, $e :=`)
// /else/end. Functions: docker's json, join, split, lower, upper, title, pad,
// truncate, and Go's printf, print, println, len, index, eq, ne, lt, le, gt,
// ge, and, or, not.
//
// Values print as Go's fmt %v prints the decoded JSON: strings raw, arrays
// "[a b]", objects "map[k:v]", null "<nil>", a missing map key "<no value>".
// Errors read like Go's: parse errors "template: :1: function \"x\" not
// defined" (docker prefixes "template parsing error: "), execution errors
// "template: :1:3: executing \"\" at <.Foo>: ...".
// Depends on: base (Json, OrderedJson, Result).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berth::cli {

namespace tmpl {
struct List;
}

struct TemplateExecOptions {
  // docker renders a table's header row with the same template over a map
  // field -> title, and with json/join/split/lower/upper/title/pad/truncate
  // returning their first argument unchanged.
  bool header = false;
  // When set, `.Field` on the root object fails for unknown fields like Go
  // does on docker's formatter contexts ("can't evaluate field X in type T");
  // otherwise a missing key prints "<no value>" like Go's maps.
  std::string strict_type;
  // `json .` of the root marshals like docker's formatter contexts do
  // (Go's json.Marshal: <, > and & escaped as \u003c, \u003e, \u0026).
  bool root_json_escapes_html = false;
  // Go field name -> JSON member name, for docker types whose JSON tags differ
  // from their fields (types.Version's APIVersion is "ApiVersion",
  // events.Message's Status "status"): `.Field` that an object lacks is read
  // under its JSON name. `json` prints the members as they are.
  std::map<std::string, std::string, std::less<>> go_field_names;
  // docker's `Label` method of its container, network and volume contexts:
  // `.Label "key"` on the root is this map's value for key ("" when absent).
  // Without it `.Label` is an ordinary field.
  const std::map<std::string, std::string>* labels = nullptr;
};

class Template {
 public:
  // InvalidArgument with Go's message ("template: :1: unclosed action").
  static Result<Template> parse(std::string_view text);
  // The data's objects keep their member order for `json` (docker marshals
  // its Go structs in field order; a daemon's answer parsed as OrderedJson
  // has it); printing and ranging over an object go by sorted key, as Go
  // does for maps. A Json argument converts (sorted, as Go's maps).
  Result<std::string> execute(const OrderedJson& data, const TemplateExecOptions& opts = {}) const;
  // The top-level fields of the data that execute() may read (`.ID`,
  // `(.A).B`, `if .X`), or nullopt when it may read any part of it (`.`,
  // `$`, variables, `range .`): list commands then compute only those
  // columns of each row.
  std::optional<std::set<std::string>> root_fields() const;

 private:
  std::shared_ptr<const tmpl::List> root_;
};

// Row fields a format reads (Template::root_fields); nullopt: any of them.
using FieldSet = std::optional<std::set<std::string>>;
inline bool wants(const FieldSet& f, const char* field) { return !f || f->count(field) > 0; }
// row[field] = make(), only when the format reads `field`.
template <class Make>
void put_field(Json& row, const FieldSet& f, const char* field, Make&& make) {
  if (wants(f, field)) row[field] = make();
}

// An object's members by sorted key (views into `o`), as Go prints and
// ranges over a map.
std::vector<std::pair<const std::string*, const OrderedJson*>> sorted_members(const OrderedJson& o);

// Go's %v of a JSON value ("[a b]", "map[k:v]" by sorted key, "<nil>").
std::string go_print(const OrderedJson& v);
// JSON the way docker's `json` template function writes it (no HTML
// escaping, no trailing newline); `escape_html` for formatter contexts.
std::string go_json(const OrderedJson& v, bool escape_html = false);
// Go's fmt.Sprintf over JSON arguments for the verbs %v %s %d %q %t %x %X
// %f %e %g %c %%, with flags - + # 0 space, width and precision.
std::string go_sprintf(std::string_view format, const std::vector<OrderedJson>& args);

}  // namespace berth::cli
