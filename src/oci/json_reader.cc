#include "oci/json_reader.h"

namespace berth::oci::detail {

Error JsonReader::error(std::string_view msg) const {
  if (path_.empty()) return make_error(Errc::InvalidArgument, "{}", msg);
  return make_error(Errc::InvalidArgument, "{}: {}", path_, msg);
}

Error JsonReader::type_error(std::string_view expected) const {
  return error(fmt::format("expected {}, got {}", expected, j_->type_name()));
}

Error JsonReader::range_error(std::string_view value, std::string_view min,
                              std::string_view max) const {
  return error(fmt::format("{} is out of range [{}, {}]", value, min, max));
}

Result<void> JsonReader::expect_object() const {
  if (!j_->is_object()) return type_error("object");
  return ok();
}

Result<std::string> JsonReader::as_string() const {
  if (!j_->is_string()) return type_error("string");
  return *j_->get_ptr<const Json::string_t*>();
}

Result<bool> JsonReader::as_bool() const {
  if (!j_->is_boolean()) return type_error("boolean");
  return *j_->get_ptr<const Json::boolean_t*>();
}

Result<std::vector<std::string>> JsonReader::as_strings() const {
  return as_array([](const JsonReader& e) { return e.as_string(); });
}

Result<std::map<std::string, std::string>> JsonReader::as_string_map() const {
  BERTH_TRY(expect_object());
  std::map<std::string, std::string> out;
  for (auto it = j_->begin(); it != j_->end(); ++it) {
    JsonReader v(it.value(), path_.empty() ? it.key() : fmt::format("{}.{}", path_, it.key()));
    out.emplace(it.key(), BERTH_TRY(v.as_string()));
  }
  return out;
}

bool JsonReader::has(std::string_view key) const {
  if (!j_->is_object()) return false;
  auto it = j_->find(key);
  return it != j_->end() && !it->is_null();
}

JsonReader JsonReader::member(std::string_view key) const {
  std::string p = path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  return JsonReader(*j_->find(key), std::move(p));
}

Result<std::string> JsonReader::string(std::string_view key, std::string_view def) const {
  if (!has(key)) return std::string(def);
  return member(key).as_string();
}

Result<bool> JsonReader::boolean(std::string_view key, bool def) const {
  if (!has(key)) return def;
  return member(key).as_bool();
}

Result<std::optional<bool>> JsonReader::opt_boolean(std::string_view key) const {
  if (!has(key)) return std::optional<bool>();
  bool v = BERTH_TRY(member(key).as_bool());
  return std::optional<bool>(v);
}

Result<std::vector<std::string>> JsonReader::strings(std::string_view key) const {
  if (!has(key)) return std::vector<std::string>();
  return member(key).as_strings();
}

Result<std::map<std::string, std::string>> JsonReader::string_map(std::string_view key) const {
  if (!has(key)) return std::map<std::string, std::string>();
  return member(key).as_string_map();
}

Result<std::optional<JsonReader>> JsonReader::object(std::string_view key) const {
  if (!has(key)) return std::optional<JsonReader>();
  JsonReader m = member(key);
  BERTH_TRY(m.expect_object());
  return std::optional<JsonReader>(std::move(m));
}

}  // namespace berth::oci::detail
