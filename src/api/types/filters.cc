#include "api/types/filters.h"

#include "base/json.h"
#include "base/strings.h"

namespace berth::api {

Result<Filters> Filters::parse(std::string_view json) {
  Filters f;
  if (trim(json).empty()) return f;
  auto j = parse_json(json, "filters");
  if (!j)
    return make_error(Errc::InvalidArgument, "invalid filters parameter: {}", j.error().message);
  if (!j->is_object())
    return make_error(Errc::InvalidArgument,
                      "invalid filters parameter: expected a JSON object, got {}", j->type_name());
  for (const auto& [key, val] : j->items()) {
    if (val.is_object()) {
      for (const auto& [v, on] : val.items()) {
        if (!on.is_boolean())
          return make_error(Errc::InvalidArgument,
                            "invalid filters parameter: filters.{}.{} must be true or false", key,
                            v);
        if (on.get<bool>()) f.values_[key].insert(v);
      }
      f.values_.try_emplace(key);
    } else if (val.is_array()) {
      for (const auto& v : val) {
        if (!v.is_string())
          return make_error(Errc::InvalidArgument,
                            "invalid filters parameter: filters.{} must hold strings", key);
        f.values_[key].insert(v.get<std::string>());
      }
      f.values_.try_emplace(key);
    } else {
      return make_error(Errc::InvalidArgument,
                        "invalid filters parameter: filters.{} must be an object or an array, got "
                        "{}",
                        key, val.type_name());
    }
  }
  return f;
}

Result<void> Filters::validate(const std::set<std::string>& allowed) const {
  for (const auto& [k, _] : values_)
    if (!allowed.count(k)) return make_error(Errc::InvalidArgument, "invalid filter '{}'", k);
  return ok();
}

std::vector<std::string> Filters::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

Result<std::optional<bool>> Filters::get_bool(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty()) return std::optional<bool>{};
  std::optional<bool> out;
  for (const auto& v : it->second) {
    bool b;
    if (v == "true" || v == "1")
      b = true;
    else if (v == "false" || v == "0")
      b = false;
    else
      return make_error(Errc::InvalidArgument, "invalid filter '{}={}': expected true or false",
                        key, v);
    if (out && *out != b)
      return make_error(Errc::InvalidArgument, "invalid filter '{}': conflicting values", key);
    out = b;
  }
  return out;
}

std::string Filters::to_json() const {
  Json j = Json::object();
  for (const auto& [k, vs] : values_) {
    Json o = Json::object();
    for (const auto& v : vs) o[v] = true;
    j[k] = o;
  }
  return dump_json(j);
}

}  // namespace berth::api
