#include "cli/units.h"

#include "api/types/time.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <optional>
#include <utility>

namespace berth::cli {

std::string human_size(double bytes, int precision) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  constexpr int kLast = sizeof(kUnits) / sizeof(kUnits[0]) - 1;
  int i = 0;
  while (bytes >= 1000.0 && i < kLast) {
    bytes /= 1000.0;
    ++i;
  }
  // Go's %.*g and C's agree: shortest of %e/%f with `precision` significant
  // digits, trailing zeros dropped, exponent of at least two digits.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, bytes);
  return std::string(buf) + kUnits[i];
}

std::string human_duration(double seconds_f) {
  long long seconds = static_cast<long long>(seconds_f);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt::format("{} seconds", seconds);
  long long minutes = static_cast<long long>(seconds_f / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  long long hours = static_cast<long long>(seconds_f / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
  if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
  return fmt::format("{} years", static_cast<long long>(seconds_f / 3600) / 24 / 365);
}

std::string time_ago(int64_t unix_seconds, int64_t now) {
  return human_duration(static_cast<double>(now - unix_seconds)) + " ago";
}

namespace {

struct LocalTime {
  std::tm tm{};
  long offset = 0;  // seconds east of UTC
  std::string zone;
};

LocalTime local(int64_t unix_seconds) {
  LocalTime lt;
  time_t t = static_cast<time_t>(unix_seconds);
  localtime_r(&t, &lt.tm);
  lt.offset = lt.tm.tm_gmtoff;
  lt.zone = lt.tm.tm_zone ? lt.tm.tm_zone : "";
  return lt;
}

std::string offset_str(long off, bool colon) {
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  return colon ? fmt::format("{}{:02}:{:02}", sign, off / 3600, (off % 3600) / 60)
               : fmt::format("{}{:02}{:02}", sign, off / 3600, (off % 3600) / 60);
}

std::string date_time(const std::tm& tm, char sep) {
  return fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

namespace {

// Unix ns as whole seconds and a non-negative nanosecond part (floor).
std::pair<int64_t, int64_t> split_unix_ns(int64_t unix_ns) {
  int64_t secs = unix_ns / 1000000000;
  int64_t ns = unix_ns % 1000000000;
  if (ns < 0) {
    ns += 1000000000;
    --secs;
  }
  return {secs, ns};
}

}  // namespace

std::string go_time_string(int64_t unix_seconds) {
  LocalTime lt = local(unix_seconds);
  std::string zone = lt.zone;
  // Go names UTC "UTC" (glibc says "GMT" when TZ is unset on some systems).
  if (lt.offset == 0 && (zone == "GMT" || zone.empty())) zone = "UTC";
  return fmt::format("{} {} {}", date_time(lt.tm, ' '), offset_str(lt.offset, false), zone);
}

std::string go_time_string_utc_ns(int64_t unix_ns) {
  auto [secs, ns] = split_unix_ns(unix_ns);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string frac;
  if (ns != 0) {
    frac = fmt::format(".{:09}", ns);
    while (frac.back() == '0') frac.pop_back();
  }
  return date_time(tm, ' ') + frac + " +0000 UTC";
}

std::string rfc3339_local(int64_t unix_seconds) {
  LocalTime lt = local(unix_seconds);
  return date_time(lt.tm, 'T') + (lt.offset == 0 ? "Z" : offset_str(lt.offset, true));
}

std::string rfc3339_nano_fixed_local(int64_t unix_ns) {
  auto [secs, ns] = split_unix_ns(unix_ns);
  LocalTime lt = local(secs);
  return fmt::format("{}.{:09}{}", date_time(lt.tm, 'T'), ns,
                     lt.offset == 0 ? "Z" : offset_str(lt.offset, true));
}

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string ellipsis(const std::string& s, size_t max) {
  if (max == 0) return "";
  if (rune_count(s) <= max) return s;
  if (max == 1) {  // docker keeps the first rune, without "…"
    size_t i = 1;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    return s.substr(0, i);
  }
  // Keep max-1 runes, then "…".
  size_t runes = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (runes == max - 1) break;
      ++runes;
    }
  }
  return s.substr(0, i) + "\xE2\x80\xA6";
}

}  // namespace berth::cli

namespace berth::cli {

std::string bytes_size(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  int i = 0;
  while (bytes >= 1024.0 && i < 8) {
    bytes /= 1024.0;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", bytes);
  return std::string(buf) + kUnits[i];
}

Result<std::string> docker_timestamp(std::string_view value, int64_t now_ns) {
  std::string v(value);
  if (v.empty()) return v;
  // Unix seconds with an optional fraction.
  {
    size_t dot = v.find('.');
    std::string secs = v.substr(0, dot);
    std::string frac = dot == std::string::npos ? "" : v.substr(dot + 1);
    auto all_digits = [](const std::string& s) {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (all_digits(secs) && (dot == std::string::npos || all_digits(frac))) return v;
  }
  if (auto d = api::parse_go_duration(v)) {
    int64_t ns = now_ns - *d;
    return fmt::format("{}.{:09}", ns / 1000000000, ns % 1000000000);
  }
  // RFC 3339 / date forms.
  std::tm tm{};
  int y, mo, d, h = 0, mi = 0, s = 0, consumed = 0;
  if (std::sscanf(v.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3 || consumed != 10)
    return make_error(Errc::InvalidArgument, "failed to parse value as time or duration: \"{}\"",
                      v);
  std::string rest = v.substr(10);
  int64_t nanos = 0;
  bool has_zone = false;
  long offset = 0;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ')
      return make_error(Errc::InvalidArgument, "failed to parse value as time or duration: \"{}\"",
                        v);
    int n = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &n) != 3)
      return make_error(Errc::InvalidArgument, "failed to parse value as time or duration: \"{}\"",
                        v);
    rest = rest.substr(1 + n);
    if (!rest.empty() && rest[0] == '.') {
      size_t k = 1;
      std::string digits;
      while (k < rest.size() && std::isdigit(static_cast<unsigned char>(rest[k])))
        digits += rest[k++];
      digits.resize(9, '0');
      nanos = std::stoll(digits.substr(0, 9));
      rest = rest.substr(k);
    }
    if (rest == "Z") {
      has_zone = true;
    } else if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      int oh = 0, om = 0;
      if (std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) != 2)
        return make_error(Errc::InvalidArgument,
                          "failed to parse value as time or duration: \"{}\"", v);
      has_zone = true;
      offset = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
    } else if (!rest.empty()) {
      return make_error(Errc::InvalidArgument, "failed to parse value as time or duration: \"{}\"",
                        v);
    }
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs;
  if (has_zone) {
    secs = static_cast<int64_t>(timegm(&tm)) - offset;
  } else {
    tm.tm_isdst = -1;
    secs = static_cast<int64_t>(mktime(&tm));
  }
  return fmt::format("{}.{:09}", secs, nanos);
}

}  // namespace berth::cli
