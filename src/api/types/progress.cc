#include "api/types/progress.h"

#include <fmt/format.h>

#include "base/json.h"

namespace berth::api {

std::string human_size(int64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 5) {
    v /= 1000.0;
    ++u;
  }
  std::string s = fmt::format("{:.3g}", v);
  return s + kUnits[u];
}

std::string progress_bar(int64_t current, int64_t total) {
  if (current < 0) return "";
  if (total <= 0) return human_size(current);
  constexpr int kWidth = 50;
  int64_t cur = current > total ? total : current;
  int filled = static_cast<int>(cur * kWidth / total);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  return fmt::format("[{}] {:>8}/{}", bar, human_size(current), human_size(total));
}

std::string encode_progress_line(const ProgressMessage& m) {
  Json j = Json::object();
  j["status"] = m.status;
  if (!m.id.empty()) j["id"] = m.id;
  if (m.current >= 0) {
    Json d = {{"current", m.current}};
    if (m.total > 0) d["total"] = m.total;
    j["progressDetail"] = d;
    j["progress"] = progress_bar(m.current, m.total);
  } else {
    j["progressDetail"] = Json::object();
  }
  return dump_json(j) + "\n";
}

std::string encode_error_line(std::string_view message) {
  return dump_json(Json{{"errorDetail", {{"message", message}}}, {"error", message}}) + "\n";
}

std::string encode_stream_line(std::string_view text) {
  return dump_json(Json{{"stream", text}}) + "\n";
}

std::string encode_aux_line(std::string_view key, std::string_view value) {
  return dump_json(Json{{"aux", {{key, value}}}}) + "\n";
}

}  // namespace berth::api
