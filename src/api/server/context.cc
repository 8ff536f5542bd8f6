#include "api/server/context.h"

#include <algorithm>
#include <cctype>

#include "api/server/router.h"
#include "api/types/system.h"
#include "base/log.h"
#include "base/strings.h"
#include "http/status.h"

namespace berth::api::server {

int status_for_errc(Errc c) { return http::status_for_errc(c); }

http::Headers json_headers(const Ctx& c) {
  auto h = c.base_headers;
  h.emplace("Content-Type", "application/json");
  return h;
}

void send_json(Ctx& c, int status, const Json& body) {
  [[maybe_unused]] auto r = c.res.send(status, json_headers(c), dump_json(body) + "\n");
}

void send_error(Ctx& c, const Error& e) {
  int status = status_for_errc(e.code);
  if (status >= 500) log_warn("api: {} {}: {}", c.req.method(), c.req.path(), e.message);
  [[maybe_unused]] auto r = c.res.send(status, json_headers(c), error_body(e.message) + "\n");
}

void send_status(Ctx& c, int status) {
  [[maybe_unused]] auto r = c.res.send(status, c.base_headers, "");
}

Result<bool> bool_param(const Ctx& c, std::string_view key, bool def) {
  auto v = c.req.param(key);
  if (!v) return def;
  std::string s(trim(*v));
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s.empty() || s == "0" || s == "false" || s == "no" || s == "off" || s == "none") return false;
  return make_error(Errc::InvalidArgument,
                    "invalid value for parameter {}: \"{}\" (expected a boolean: 1, 0, true, "
                    "false)",
                    key, *v);
}

Result<std::optional<long long>> int_param(const Ctx& c, std::string_view key) {
  auto v = c.req.param(key);
  if (!v || trim(*v).empty()) return std::optional<long long>{};
  auto n = parse_int(trim(*v));
  if (!n)
    return make_error(Errc::InvalidArgument,
                      "invalid value for parameter {}: \"{}\" is not an integer", key, *v);
  return std::optional<long long>(*n);
}

Result<ResizeParams> resize_params(const Ctx& c) {
  auto h = BERTH_TRY(int_param(c, "h"));
  auto w = BERTH_TRY(int_param(c, "w"));
  auto in_range = [](const std::optional<long long>& v) { return v && *v >= 0 && *v <= 65535; };
  if (!in_range(h) || !in_range(w)) {
    return make_error(Errc::InvalidArgument,
                      "invalid resize parameters: h and w must be numbers from 0 to 65535");
  }
  return ResizeParams{static_cast<int>(*h), static_cast<int>(*w)};
}

Result<Filters> filters_param(const Ctx& c) {
  auto v = c.req.param("filters");
  if (!v) return Filters{};
  auto f = Filters::parse(*v);
  if (!f) return f.error();
  return f;
}

std::string str_param(const Ctx& c, std::string_view key) { return c.req.param(key).value_or(""); }

std::vector<std::string> all_params(const Ctx& c, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : c.req.query())
    if (k == key) out.push_back(v);
  return out;
}

}  // namespace berth::api::server
