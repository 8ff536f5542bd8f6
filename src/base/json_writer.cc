#include "base/json_writer.h"

#include <fmt/format.h>

namespace berth {
namespace {

// Printable ASCII other than '"' and '\\' is written as is by every JSON
// serializer; everything else (escapes, control characters, UTF-8 that may
// be invalid) is left to nlohmann's.
bool plain(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

void append_string(std::string& out, std::string_view s) {
  if (plain(s)) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += dump_json(Json(std::string(s)));
  }
}

}  // namespace

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  separate();
  append_string(out_, k);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  separate();
  append_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t n) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", n);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::value(const Json& j) {
  separate();
  out_ += dump_json(j);
  return *this;
}

JsonWriter& JsonWriter::strings(const std::vector<std::string>& v, bool null_if_empty) {
  if (v.empty() && null_if_empty) return null();
  begin_array();
  for (const auto& s : v) value(s);
  return end_array();
}

JsonWriter& JsonWriter::string_map(const std::map<std::string, std::string>& m) {
  begin_object();
  for (const auto& [k, v] : m) field(k, v);
  return end_object();
}

}  // namespace berth
