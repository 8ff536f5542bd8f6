// base/log.h — process-wide logger with runc's two formats.
// text: `time="..." level=error msg="..."`; json: {"level":..,"msg":..,"time":..}
// (containerd reads runc's json log lines, so the keys match runc's).
// The sink is stderr by default, or a file set by log_set_file().
// Thread-safety: configure once at start-up, then log from any thread.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

enum class LogLevel { Debug = 0, Info, Warn, Error };
enum class LogFormat { Text, Json };

void log_set_level(LogLevel l);
void log_set_format(LogFormat f);
// Appends to path (created 0640). Returns the error when it cannot be opened.
Result<void> log_set_file(const std::string& path);
bool log_enabled(LogLevel l);
void log_write(LogLevel l, std::string_view msg);

template <typename... A>
void log_debug(fmt::format_string<A...> f, A&&... a) {
  if (log_enabled(LogLevel::Debug))
    log_write(LogLevel::Debug, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_info(fmt::format_string<A...> f, A&&... a) {
  if (log_enabled(LogLevel::Info)) log_write(LogLevel::Info, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_warn(fmt::format_string<A...> f, A&&... a) {
  if (log_enabled(LogLevel::Warn)) log_write(LogLevel::Warn, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_error(fmt::format_string<A...> f, A&&... a) {
  log_write(LogLevel::Error, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace berth
