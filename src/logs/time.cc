// logs/time.cc — docker's RFC3339Nano timestamps and the stdcopy frame.
// Civil-date conversion is done by hand (Howard Hinnant's days-from-civil
// algorithm) instead of timegm/gmtime_r: it is thread-safe without locks,
// needs no TZ lookup, and the reader calls it once per log line.
#include <cstring>

#include "logs/json_file.h"
#include "logs/time_internal.h"

namespace berth::logs {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

size_t format_time_buf(int64_t unix_ns, char* out, bool fixed) {
  int64_t secs = unix_ns / kNsPerSec;
  int64_t ns = unix_ns % kNsPerSec;
  if (ns < 0) {
    ns += kNsPerSec;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned mo, d;
  civil_from_days(days, y, mo, d);
  if (y < 0) y = 0;
  if (y > 9999) y = 9999;
  unsigned hh = static_cast<unsigned>(rem / 3600), mi = static_cast<unsigned>(rem / 60 % 60),
           ss = static_cast<unsigned>(rem % 60);
  char* p = out;
  auto put = [&p](unsigned v, int width) {
    for (int i = width - 1; i >= 0; i--) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  put(static_cast<unsigned>(y), 4);
  *p++ = '-';
  put(mo, 2);
  *p++ = '-';
  put(d, 2);
  *p++ = 'T';
  put(hh, 2);
  *p++ = ':';
  put(mi, 2);
  *p++ = ':';
  put(ss, 2);
  if (ns != 0 || fixed) {
    *p++ = '.';
    char frac[9];
    unsigned v = static_cast<unsigned>(ns);
    for (int i = 8; i >= 0; i--) {
      frac[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    int n = 9;
    while (!fixed && n > 0 && frac[n - 1] == '0') n--;  // RFC3339Nano trims trailing zeros
    std::memcpy(p, frac, static_cast<size_t>(n));
    p += n;
  }
  *p++ = 'Z';
  return static_cast<size_t>(p - out);
}

std::string format_time(int64_t unix_ns) {
  char buf[kMaxTimeLen];
  return std::string(buf, format_time_buf(unix_ns, buf));
}

bool parse_time_fast(std::string_view s, int64_t& out) {
  // 2006-01-02T15:04:05[.999999999](Z|+07:00|-07:00)
  unsigned y, mo, d, hh, mi, ss;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hh) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, ss))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || hh > 23 || mi > 59 || ss > 59)
    return false;
  size_t pos = 19;
  int64_t ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    pos++;
    size_t start = pos;
    int64_t scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 9) {
        ns += (s[pos] - '0') * scale;
        scale /= 10;
      }
      pos++;
    }
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  int64_t offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    pos++;
  } else if (s[pos] == '+' || s[pos] == '-') {
    unsigned oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return false;
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset;
  out = secs * kNsPerSec + ns;
  return true;
}

std::string format_time_fixed(int64_t unix_ns) {
  char buf[kMaxTimeLen];
  return std::string(buf, format_time_buf(unix_ns, buf, true));
}

Result<int64_t> parse_time(std::string_view rfc3339) {
  int64_t v = 0;
  if (!parse_time_fast(rfc3339, v))
    return make_error(Errc::InvalidArgument, "invalid RFC 3339 time \"{}\"", rfc3339);
  return v;
}

std::string frame(int stream, std::string_view payload) {
  std::string out;
  out.resize(8 + payload.size());
  uint32_t n = static_cast<uint32_t>(payload.size());
  out[0] = static_cast<char>(stream);
  out[1] = out[2] = out[3] = 0;
  out[4] = static_cast<char>(n >> 24);
  out[5] = static_cast<char>(n >> 16);
  out[6] = static_cast<char>(n >> 8);
  out[7] = static_cast<char>(n);
  if (!payload.empty()) std::memcpy(out.data() + 8, payload.data(), payload.size());
  return out;
}

}  // namespace berth::logs
