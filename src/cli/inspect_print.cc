// cli/inspect_print.cc — shared by the inspect commands.
#include "cli/inspect_print.h"

#include <fmt/format.h>

#include <optional>

#include "base/json.h"
#include "base/strings.h"
#include "cli/format.h"

namespace berth::cli {

// Raw inspect JSON is re-indented in the daemon's key order (ordered_json),
// as docker's IndentedInspector does with the raw answer.
using Ordered = nlohmann::ordered_json;

Result<int> print_inspect(Context& ctx, const std::vector<std::string>& names,
                          const std::string& format, const InspectFetch& fetch) {
  std::optional<Template> tmpl;
  if (!format.empty()) {
    auto t = parse_user_template(format == "json" ? "{{json .}}" : format);
    if (!t) {
      ctx.err(t.error().message + "\n");
      return 64;  // docker's status for a bad inspect template
    }
    tmpl = std::move(*t);
  }
  Ordered all = Ordered::array();
  std::vector<std::string> errors;
  std::string out;
  for (const auto& name : names) {
    auto raw = fetch(name);
    if (!raw) {
      if (raw.error().code == Errc::Unavailable) return raw.error();
      errors.push_back(raw.error().message);
      continue;
    }
    Ordered j = Ordered::parse(*raw, nullptr, false);
    if (j.is_discarded()) {
      errors.push_back(fmt::format("invalid JSON from the daemon for {}", name));
      continue;
    }
    if (tmpl) {
      auto r = tmpl->execute(j);  // in the daemon's member order, as docker's typed structs
      if (!r) {
        errors.push_back(r.error().message);
        continue;
      }
      out += *r + "\n";
    } else {
      all.push_back(std::move(j));
    }
  }
  if (!tmpl) {
    out = all.empty() ? "[]\n" : all.dump(4, ' ', false, Ordered::error_handler_t::replace) + "\n";
  }
  ctx.out(out);
  if (!errors.empty()) {
    ctx.err(join(errors, "\n") + "\n");
    return 1;
  }
  return 0;
}

}  // namespace berth::cli
