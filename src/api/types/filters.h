// api/types/filters.h — docker's `filters` query parameter.
//
// Wire forms (both accepted, as dockerd does):
//   {"dangling":{"true":true},"label":{"a=b":true}}   (current)
//   {"dangling":["true"],"label":["a=b"]}              (legacy, API < 1.22 clients)
// Depends on: base.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::api {

class Filters {
 public:
  // "" (or "{}") is no filter. InvalidArgument naming the bad key or value
  // ("invalid filters parameter: ...") when the JSON is malformed.
  static Result<Filters> parse(std::string_view json);

  // InvalidArgument "invalid filter 'x'" for a key outside `allowed`.
  Result<void> validate(const std::set<std::string>& allowed) const;

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  // Values of key, sorted; empty when absent.
  std::vector<std::string> get(const std::string& key) const;
  // Single boolean value (dangling=true|false|1|0); InvalidArgument naming the
  // key for other values or conflicting ones; nullopt when absent.
  Result<std::optional<bool>> get_bool(const std::string& key) const;
  bool empty() const { return values_.empty(); }
  void add(const std::string& key, const std::string& value) { values_[key].insert(value); }

  // Re-encodes in the current form.
  std::string to_json() const;

 private:
  std::map<std::string, std::set<std::string>> values_;
};

}  // namespace berth::api
