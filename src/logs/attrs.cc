// logs/attrs.cc — docker's extra log attributes (labels/env log opts) and
// their `logs --details` form. Only berthd uses these: the monitor gets the
// attributes ready-made (RotateOptions::attrs), so it links no regex code.
#include <regex>

#include "base/strings.h"
#include "logs/decode_internal.h"
#include "logs/json_file.h"

namespace berth::logs {
namespace {

Result<std::regex> compile(const std::string& key, const std::string& re) {
  try {
    return std::regex(re, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return make_error(Errc::InvalidArgument, "invalid regular expression for log opt {}: {}: {}",
                      key, re, e.what());
  }
}

// Go's url.QueryEscape: unreserved bytes as they are, ' ' as '+', the rest %XX.
std::string query_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> log_attributes(
    const std::map<std::string, std::string>& opts,
    const std::map<std::string, std::string>& labels, const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  // The entries of `from` named by opts[names] (comma-separated) or whose key
  // matches opts[regex].
  auto pick = [&](const char* names, const char* regex,
                  const std::map<std::string, std::string>& from) -> Result<void> {
    if (auto it = opts.find(names); it != opts.end()) {
      for (const std::string& n : split(it->second, ',', true))
        if (auto f = from.find(n); f != from.end()) out[n] = f->second;
    }
    if (auto it = opts.find(regex); it != opts.end() && !it->second.empty()) {
      std::regex r = BERTH_TRY(compile(regex, it->second));
      for (const auto& [k, v] : from)
        if (std::regex_search(k, r)) out[k] = v;
    }
    return ok();
  };
  BERTH_TRY(pick("labels", "labels-regex", labels));
  std::map<std::string, std::string> vars;
  for (const std::string& e : env) {
    auto eq = e.find('=');
    if (eq != std::string::npos) vars[e.substr(0, eq)] = e.substr(eq + 1);
  }
  BERTH_TRY(pick("env", "env-regex", vars));
  return out;
}

std::string details_prefix(const Json& attrs) {
  if (!attrs.is_object()) return {};
  std::string out;
  for (auto it = attrs.begin(); it != attrs.end(); ++it) {  // nlohmann keeps keys sorted
    if (!it->is_string()) continue;
    if (!out.empty()) out += ',';
    out += query_escape(it.key()) + "=" + query_escape(it->get<std::string>());
  }
  return out;
}

}  // namespace berth::logs
