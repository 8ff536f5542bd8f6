// oci/json_reader.h — typed, path-tracking reads from a parsed JSON document.
//
// Internal to the oci module (spec and state codecs). Every accessor checks the
// JSON type before it reads, so decoding never throws, and every error names
// the offending value by its JSON path: "process.args[1]: expected string, got
// number". The caller adds the document name ("config.json") as context.
//
// A member that is absent or null reads as "not set", as Go's encoding/json
// does: most config.json files are written by Go programs, which emit null for
// nil slices and maps.
// Depends on: base (Result, Json).
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berth::oci::detail {

class JsonReader {
 public:
  // `j` must outlive the reader and every reader derived from it.
  JsonReader(const Json& j, std::string path) : j_(&j), path_(std::move(path)) {}

  const Json& json() const { return *j_; }
  // "" for the document root, else e.g. "linux.resources.memory".
  const std::string& path() const { return path_; }

  // InvalidArgument "path: msg" (just "msg" at the root).
  Error error(std::string_view msg) const;
  // InvalidArgument "path: expected <expected>, got <json type>".
  Error type_error(std::string_view expected) const;

  // --- this value ---
  Result<void> expect_object() const;
  Result<std::string> as_string() const;
  Result<bool> as_bool() const;
  // Integers only (1.0 and 1e3 are rejected, as Go does for integer fields).
  // Range-checked for T; a negative value for an unsigned T is an error.
  template <std::integral T>
  Result<T> as_int() const;
  Result<std::vector<std::string>> as_strings() const;
  Result<std::map<std::string, std::string>> as_string_map() const;

  // --- members of this object (call expect_object() first) ---
  bool has(std::string_view key) const;  // present and not null
  // Precondition: has(key).
  JsonReader member(std::string_view key) const;
  // Absent members read as the default / nullopt / empty.
  Result<std::string> string(std::string_view key, std::string_view def = {}) const;
  Result<bool> boolean(std::string_view key, bool def = false) const;
  Result<std::optional<bool>> opt_boolean(std::string_view key) const;
  template <std::integral T>
  Result<T> integer(std::string_view key, T def = 0) const;
  template <std::integral T>
  Result<std::optional<T>> opt_integer(std::string_view key) const;
  Result<std::vector<std::string>> strings(std::string_view key) const;
  Result<std::map<std::string, std::string>> string_map(std::string_view key) const;
  // The member as an object reader; nullopt when absent; error when not an object.
  Result<std::optional<JsonReader>> object(std::string_view key) const;
  // Decodes each element of the array member with `decode(const JsonReader&)
  // -> Result<T>`; an absent member is an empty vector.
  template <typename F>
  auto array(std::string_view key, F&& decode) const
      -> Result<std::vector<typename std::invoke_result_t<F&, const JsonReader&>::value_type>>;
  // Same, for this value itself.
  template <typename F>
  auto as_array(F&& decode) const
      -> Result<std::vector<typename std::invoke_result_t<F&, const JsonReader&>::value_type>>;

 private:
  Error range_error(std::string_view value, std::string_view min, std::string_view max) const;

  const Json* j_;
  std::string path_;
};

template <std::integral T>
Result<T> JsonReader::as_int() const {
  using Lim = std::numeric_limits<T>;
  if (j_->is_number_unsigned()) {
    uint64_t v = *j_->get_ptr<const Json::number_unsigned_t*>();
    if (v > static_cast<uint64_t>(Lim::max())) {
      return range_error(std::to_string(v), std::to_string(Lim::min()), std::to_string(Lim::max()));
    }
    return static_cast<T>(v);
  }
  if (j_->is_number_integer()) {
    int64_t v = *j_->get_ptr<const Json::number_integer_t*>();
    if constexpr (std::is_unsigned_v<T>) {
      if (v < 0) return error(fmt::format("expected non-negative integer, got {}", v));
      if (static_cast<uint64_t>(v) > static_cast<uint64_t>(Lim::max())) {
        return range_error(std::to_string(v), "0", std::to_string(Lim::max()));
      }
    } else {
      if (v < static_cast<int64_t>(Lim::min()) || v > static_cast<int64_t>(Lim::max())) {
        return range_error(std::to_string(v), std::to_string(Lim::min()),
                           std::to_string(Lim::max()));
      }
    }
    return static_cast<T>(v);
  }
  if (j_->is_number_float()) {
    return error(fmt::format("expected integer, got number {}", dump_json(*j_)));
  }
  return type_error("integer");
}

template <std::integral T>
Result<T> JsonReader::integer(std::string_view key, T def) const {
  if (!has(key)) return def;
  return member(key).as_int<T>();
}

template <std::integral T>
Result<std::optional<T>> JsonReader::opt_integer(std::string_view key) const {
  if (!has(key)) return std::optional<T>();
  T v = BERTH_TRY(member(key).as_int<T>());
  return std::optional<T>(v);
}

template <typename F>
auto JsonReader::as_array(F&& decode) const
    -> Result<std::vector<typename std::invoke_result_t<F&, const JsonReader&>::value_type>> {
  using T = typename std::invoke_result_t<F&, const JsonReader&>::value_type;
  if (!j_->is_array()) return type_error("array");
  std::vector<T> out;
  out.reserve(j_->size());
  size_t i = 0;
  for (const Json& e : *j_) {
    JsonReader er(e, fmt::format("{}[{}]", path_, i++));
    out.push_back(BERTH_TRY(decode(er)));
  }
  return out;
}

template <typename F>
auto JsonReader::array(std::string_view key, F&& decode) const
    -> Result<std::vector<typename std::invoke_result_t<F&, const JsonReader&>::value_type>> {
  using T = typename std::invoke_result_t<F&, const JsonReader&>::value_type;
  if (!has(key)) return std::vector<T>();
  return member(key).as_array(decode);
}

}  // namespace berth::oci::detail
