// logs/decode.cc — the reader's hot path. `logs` of a million lines must be
// a small fraction of docker's time, so a line in the writer's own shape is
// decoded without building a DOM: prefix check, string unescape, fixed
// tail. Everything else falls back to nlohmann's parser.
#include <cstring>

#include "base/json.h"
#include "logs/decode_internal.h"
#include "logs/time_internal.h"

namespace berth::logs {
namespace {

constexpr std::string_view kPrefix = "{\"log\":\"";
constexpr std::string_view kStreamKey = ",\"stream\":\"std";
constexpr std::string_view kTimeKey = ",\"time\":\"";

int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the JSON string body starting at line[pos] (just after the
// opening quote) into out; returns the index after the closing quote, or 0
// to ask for the slow path (an escape not handled here, or malformed).
size_t unescape(std::string_view line, size_t pos, std::string& out) {
  const char* p = line.data();
  size_t n = line.size();
  for (;;) {
    size_t start = pos;
    while (pos < n && p[pos] != '"' && p[pos] != '\\' && static_cast<unsigned char>(p[pos]) >= 0x20)
      pos++;
    out.append(p + start, pos - start);
    if (pos >= n) return 0;
    char c = p[pos];
    if (c == '"') return pos + 1;
    if (c != '\\') return 0;  // raw control character: let nlohmann reject it
    if (pos + 1 >= n) return 0;
    char e = p[pos + 1];
    switch (e) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        if (pos + 6 > n) return 0;
        unsigned cp = 0;
        for (size_t i = 0; i < 4; i++) {
          int v = hex_val(p[pos + 2 + i]);
          if (v < 0) return 0;
          cp = cp << 4 | static_cast<unsigned>(v);
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) return 0;  // surrogate pair: slow path
        append_utf8(out, cp);
        pos += 6;
        continue;
      }
      default:
        return 0;
    }
    pos += 2;
  }
}

bool decode_fast(std::string_view line, Entry& e) {
  if (line.size() < kPrefix.size() || std::memcmp(line.data(), kPrefix.data(), kPrefix.size()) != 0)
    return false;
  e.line.clear();
  size_t pos = unescape(line, kPrefix.size(), e.line);
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
