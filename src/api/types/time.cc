#include "api/types/time.h"

#include <fmt/format.h>
#include <time.h>

#include <cctype>
#include <chrono>
#include <cmath>

#include "base/strings.h"

namespace berth::api {

int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_rfc3339_nano(int64_t unix_ns) {
  if (unix_ns <= 0) return "0001-01-01T00:00:00Z";
  time_t secs = static_cast<time_t>(unix_ns / 1000000000);
  int64_t frac = unix_ns % 1000000000;
  struct tm tm {};
  gmtime_r(&secs, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac) {
    std::string f = fmt::format("{:09}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "Z";
}

namespace {

// RFC 3339 (or a bare date) in UTC; nullopt-as-error when it is not one.
Result<int64_t> parse_rfc3339(std::string_view s) {
  std::string str(s);
  struct tm tm {};
  const char* rest = strptime(str.c_str(), "%Y-%m-%d", &tm);
  if (!rest) return make_error(Errc::InvalidArgument, "not a date");
  int64_t frac_ns = 0;
  int64_t offset = 0;
  if (*rest == 'T' || *rest == ' ') {
    rest = strptime(rest + 1, "%H:%M:%S", &tm);
    if (!rest) return make_error(Errc::InvalidArgument, "not a time");
    if (*rest == '.') {
      ++rest;
      std::string digits;
      while (std::isdigit(static_cast<unsigned char>(*rest))) digits += *rest++;
      if (digits.empty() || digits.size() > 9)
        return make_error(Errc::InvalidArgument, "bad fraction");
      digits.resize(9, '0');
      frac_ns = static_cast<int64_t>(*parse_uint(digits));
    }
    if (*rest == 'Z' || *rest == 'z') {
      ++rest;
    } else if (*rest == '+' || *rest == '-') {
      int sign = *rest == '-' ? -1 : 1;
      int hh = 0, mm = 0, n = 0;
      if (std::sscanf(rest + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5)
        return make_error(Errc::InvalidArgument, "bad zone");
      offset = sign * (hh * 3600 + mm * 60);
      rest += 1 + n;
    }
  }
  if (*rest != '\0') return make_error(Errc::InvalidArgument, "trailing characters");
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
  return secs * 1000000000 + frac_ns;
}

}  // namespace

Result<int64_t> parse_timestamp(std::string_view s, int64_t now_ns, std::string_view what) {
  s = trim(s);
  auto bad = [&] {
    return make_error(Errc::InvalidArgument,
                      "invalid value for {}: \"{}\" is not a unix timestamp, an RFC 3339 time "
                      "or a duration",
                      what, s);
  };
  if (s.empty()) return bad();
  // Unix seconds with an optional fraction.
  {
    auto dot = s.find('.');
    auto secs = parse_int(s.substr(0, dot));
    if (secs) {
      int64_t ns = 0;
      if (dot != std::string_view::npos) {
        std::string digits(s.substr(dot + 1));
        if (digits.empty() || digits.size() > 9 || !parse_uint(digits)) return bad();
        digits.resize(9, '0');
        ns = static_cast<int64_t>(*parse_uint(digits));
      }
      return *secs * 1000000000 + ns;
    }
  }
  if (auto t = parse_rfc3339(s); t) return *t;
  if (auto d = parse_go_duration(s); d) return now_ns - *d;
  return bad();
}

}  // namespace berth::api
