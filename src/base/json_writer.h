// base/json_writer.h — writes a JSON document straight into a string, for the
// few large answers (the container list) where building an nlohmann tree and
// then dumping it cost more than the rest of the request.
//
// Contract: calls must form a valid document (key() before each value inside
// an object, begin/end balanced); the writer adds the commas and colons. It
// checks nothing in release builds beyond that. Strings are escaped as
// dump_json (base/json.h) escapes them, invalid UTF-8 replaced by U+FFFD:
// plain printable ASCII is copied, anything else goes through nlohmann's
// serializer, so parse_json(out) equals the tree the same calls would build.
// Output is compact (no spaces, no trailing newline).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"

namespace berth {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t n);
  JsonWriter& value(int n) { return value(static_cast<int64_t>(n)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  // An existing tree, dumped in place.
  JsonWriter& value(const Json& j);

  // Shorthands: key(k).value(v).
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  // ["a","b"], or null when empty and `null_if_empty`.
  JsonWriter& strings(const std::vector<std::string>& v, bool null_if_empty = false);
  // {"k":"v",...} in key order.
  JsonWriter& string_map(const std::map<std::string, std::string>& m);

 private:
  void separate();  // the comma before a value or key after the first

  std::string& out_;
  // One entry per open object/array: true until its first member is written.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace berth
