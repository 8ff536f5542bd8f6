#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include "base/clock.h"
#include "base/json.h"

namespace berth {
namespace {

LogLevel g_level = LogLevel::Warn;
LogFormat g_format = LogFormat::Text;
int g_fd = 2;

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warning";
    case LogLevel::Error:
      return "error";
  }
  return "info";
}

}  // namespace

void log_set_level(LogLevel l) { g_level = l; }
void log_set_format(LogFormat f) { g_format = f; }
bool log_enabled(LogLevel l) { return l >= g_level; }

Result<void> log_set_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return sys_error(fmt::format("open log file {}", path));
  if (g_fd > 2) ::close(g_fd);
  g_fd = fd;
  return ok();
}

void log_write(LogLevel l, std::string_view msg) {
  std::string line;
  if (g_format == LogFormat::Json) {
    Json j = {{"level", level_name(l)}, {"msg", msg}, {"time", now_rfc3339()}};
    line = dump_json(j) + "\n";
  } else {
    line = fmt::format("time=\"{}\" level={} msg=\"{}\"\n", now_rfc3339(), level_name(l), msg);
  }
  // One write() per line so lines from concurrent processes do not interleave.
  [[maybe_unused]] ssize_t n = ::write(g_fd, line.data(), line.size());
}

}  // namespace berth
