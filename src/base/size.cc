// base/size: go-units' RAMInBytes rules (see size.h).
#include "base/size.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "base/ascii.h"

namespace berth {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Go's strconv.ParseFloat syntax for a decimal: [+-]digits[.digits][e[+-]digits],
// with digits on at least one side of the point.
bool go_decimal(std::string_view n) {
  size_t i = 0;
  if (i < n.size() && (n[i] == '+' || n[i] == '-')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < n.size() && is_digit(n[i])) ++i, ++int_digits;
  if (i < n.size() && n[i] == '.') {
    ++i;
    while (i < n.size() && is_digit(n[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < n.size() && (n[i] == 'e' || n[i] == 'E')) {
    ++i;
    if (i < n.size() && (n[i] == '+' || n[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < n.size() && is_digit(n[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == n.size();
}

}  // namespace

Result<int64_t> parse_ram_in_bytes(std::string_view s) {
  auto bad_size = [&] { return make_error(Errc::InvalidArgument, "invalid size: '{}'", s); };
  size_t sep = s.find_last_of("0123456789. ");
  if (sep == std::string_view::npos) return bad_size();
  std::string_view sfx = s.substr(sep + 1);
  std::string_view num = s[sep] == ' ' ? s.substr(0, sep) : s.substr(0, sep + 1);
  if (!go_decimal(num))
    return make_error(Errc::InvalidArgument, "strconv.ParseFloat: parsing \"{}\": invalid syntax",
                      num);
  std::string n(num);
  double size = std::strtod(n.c_str(), nullptr);
  if (size < 0) return bad_size();
  if (!sfx.empty()) {
    std::string low = ascii_lower(sfx);
    auto bad_suffix = [&] {
      return make_error(Errc::InvalidArgument, "invalid suffix: '{}'", sfx.size() > 3 ? sfx : low);
    };
    if (sfx.size() > 3) return bad_suffix();
    if (low[0] == 'b') {
      if (low.size() > 1) return bad_suffix();
    } else {
      static constexpr std::string_view kUnits = "kmgtp";
      size_t u = kUnits.find(low[0]);
      if (u == std::string_view::npos) return bad_suffix();
      if ((low.size() == 2 && low[1] != 'b') || (low.size() == 3 && low.substr(1) != "ib"))
        return bad_suffix();
      size *= std::ldexp(1.0, 10 * static_cast<int>(u + 1));
    }
  }
  if (!std::isfinite(size) || size >= 9.2e18) return bad_size();
  return static_cast<int64_t>(size);
}

}  // namespace berth
