#include "base/duration.h"

#include <cctype>
#include <cmath>
#include <string>

namespace berth {

Result<int64_t> parse_go_duration(std::string_view s) {
  if (s.empty()) return make_error(Errc::InvalidArgument, "empty duration");
  bool neg = false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  if (s.substr(i) == "0") return int64_t{0};
  double total = 0;
  bool any = false;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return make_error(Errc::InvalidArgument, "invalid duration \"{}\"", s);
    double num = 0;
    try {
      num = std::stod(std::string(s.substr(start, i - start)));
    } catch (...) {
      return make_error(Errc::InvalidArgument, "invalid duration \"{}\"", s);
    }
    size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    double mul = 0;
    if (unit == "ns")
      mul = 1;
    else if (unit == "us" || unit == "µs")
      mul = 1e3;
    else if (unit == "ms")
      mul = 1e6;
    else if (unit == "s")
      mul = 1e9;
    else if (unit == "m")
      mul = 60e9;
    else if (unit == "h")
      mul = 3600e9;
    else
      return make_error(Errc::InvalidArgument, "invalid duration \"{}\": unknown unit", s);
    total += num * mul;
    any = true;
  }
  if (!any) return make_error(Errc::InvalidArgument, "invalid duration \"{}\"", s);
  auto v = static_cast<int64_t>(std::llround(total));
  return neg ? -v : v;
}

}  // namespace berth
