// logs/decode.cc — the reader's hot path. `logs` of a million lines must be
// a small fraction of docker's time, and a full nlohmann parse per line
// (~1.5 us) is most of that budget; so a line in the writer's own shape,
//   {"log":"...","stream":"stdout","time":"..."}
// is taken apart at its fixed keys, and only the "log" string token goes
// through nlohmann (which decodes its escapes). A token with no escape and
// only printable ASCII is its own value and is copied as is. Anything else
// — other key orders, "attrs", a malformed line — is parsed whole by
// nlohmann.
#include <cstring>

#include "base/json.h"
#include "logs/decode_internal.h"
#include "logs/time_internal.h"

namespace berth::logs {
namespace {

constexpr std::string_view kPrefix = "{\"log\":";
constexpr std::string_view kStreamKey = ",\"stream\":\"std";
constexpr std::string_view kTimeKey = ",\"time\":\"";

// The JSON string token starting at line[pos] (its opening quote) into out;
// returns the index after the closing quote, or 0 to ask for the slow path.
// Only finds where the token ends (a backslash escapes the next byte); the
// decoding is nlohmann's.
size_t string_token(std::string_view line, size_t pos, std::string& out) {
  if (pos >= line.size() || line[pos] != '"') return 0;
  bool plain = true;  // no escape, printable ASCII only
  size_t i = pos + 1;
  for (; i < line.size(); i++) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == '"') break;
    if (c == '\\') {
      plain = false;
      i++;
    } else if (c < 0x20 || c >= 0x7f) {
      plain = false;
    }
  }
  if (i >= line.size()) return 0;
  if (plain) {
    out.assign(line.data() + pos + 1, i - pos - 1);
    return i + 1;
  }
  Json j = Json::parse(line.substr(pos, i + 1 - pos), nullptr, /*allow_exceptions=*/false);
  if (!j.is_string()) return 0;
  out = std::move(j.get_ref<std::string&>());
  return i + 1;
}

bool decode_fast(std::string_view line, Entry& e) {
  if (line.size() < kPrefix.size() || std::memcmp(line.data(), kPrefix.data(), kPrefix.size()) != 0)
    return false;
  size_t pos = string_token(line, kPrefix.size(), e.line);
  if (pos == 0) return false;
  std::string_view rest = line.substr(pos);
  if (rest.size() < kStreamKey.size() + 4 ||
      std::memcmp(rest.data(), kStreamKey.data(), kStreamKey.size()) != 0)
    return false;
  rest.remove_prefix(kStreamKey.size());
  if (rest.starts_with("out\""))
    e.stream = Stream::Stdout;
  else if (rest.starts_with("err\""))
    e.stream = Stream::Stderr;
  else
    return false;
  rest.remove_prefix(4);
  if (!rest.starts_with(kTimeKey)) return false;
  rest.remove_prefix(kTimeKey.size());
  if (rest.size() < 2 || rest[rest.size() - 1] != '}' || rest[rest.size() - 2] != '"') return false;
  e.attrs.clear();
  return parse_time_fast(rest.substr(0, rest.size() - 2), e.time_ns);
}

}  // namespace

bool decode_line_slow(std::string_view line, Entry& e) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto log = j.find("log");
  auto stream = j.find("stream");
  auto time = j.find("time");
  if (stream == j.end() || !stream->is_string() || time == j.end() || !time->is_string())
    return false;
  const auto& s = stream->get_ref<const std::string&>();
  if (s == "stdout")
    e.stream = Stream::Stdout;
  else if (s == "stderr")
    e.stream = Stream::Stderr;
  else
    return false;
  if (!parse_time_fast(time->get_ref<const std::string&>(), e.time_ns)) return false;
  e.attrs.clear();
  if (auto a = j.find("attrs"); a != j.end()) e.attrs = details_prefix(*a);
  e.line.clear();
  if (log != j.end()) {  // docker omits an empty "log"
    if (!log->is_string()) return false;
    e.line = log->get_ref<const std::string&>();
  }
  return true;
}

bool decode_line(std::string_view line, Entry& e) {
  return decode_fast(line, e) || decode_line_slow(line, e);
}

}  // namespace berth::logs
