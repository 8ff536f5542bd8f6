// Platform matching and RFC 3339 times for image documents.
#include <ctime>

#include "base/strings.h"
#include "oci/image_spec.h"

namespace berth::oci {

ImagePlatform normalize_platform(ImagePlatform p) {
  if (p.os.empty()) p.os = "linux";
  std::string& a = p.architecture;
  if (a == "x86_64" || a == "x86-64") a = "amd64";
  if (a == "aarch64") a = "arm64";
  if (a == "armhf") {
    a = "arm";
    if (p.variant.empty()) p.variant = "v7";
  }
  if (a == "armel") {
    a = "arm";
    if (p.variant.empty()) p.variant = "v6";
  }
  if (a == "i386" || a == "i686") a = "386";
  if (a == "arm64" && (p.variant.empty() || p.variant == "8")) p.variant = "v8";
  if (a == "arm" && p.variant.empty()) p.variant = "v7";
  if (a == "arm" && p.variant.size() == 1) p.variant = "v" + p.variant;
  if (a == "amd64" && p.variant == "v1") p.variant.clear();
  return p;
}

namespace {

// 0 = exact, 1.. = worse but acceptable, -1 = no match.
int match_rank(const ImagePlatform& want_in, const ImagePlatform& have_in) {
  ImagePlatform want = normalize_platform(want_in);
  ImagePlatform have = normalize_platform(have_in);
  if (want.os != have.os || want.architecture != have.architecture) return -1;
  if (want.variant == have.variant) return 0;
  if (want.architecture == "amd64") {
    // amd64 variants (v2, v3...) are microarchitecture levels; an image
    // without one runs anywhere, one asked without one accepts any.
    if (have.variant.empty() || want.variant.empty()) return 1;
    return -1;
  }
  if (want.architecture == "arm" && want.variant.size() == 2 && have.variant.size() == 2) {
    int w = want.variant[1] - '0', h = have.variant[1] - '0';
    if (h < w && h >= 5) return w - h;
  }
  return -1;
}

}  // namespace

bool platform_matches(const ImagePlatform& want, const ImagePlatform& have) {
  return match_rank(want, have) >= 0;
}

Result<size_t> select_platform(const ImageIndex& idx, const ImagePlatform& want) {
  int best_rank = -1;
  size_t best = 0;
  for (size_t i = 0; i < idx.manifests.size(); ++i) {
    const auto& m = idx.manifests[i];
    if (!m.platform || !is_manifest_media_type(m.media_type)) continue;
    int r = match_rank(want, *m.platform);
    if (r >= 0 && (best_rank < 0 || r < best_rank)) {
      best_rank = r;
      best = i;
    }
  }
  if (best_rank < 0) {
    return make_error(Errc::NotFound, "no matching manifest for {} in the manifest list entries",
                      platform_string(normalize_platform(want)));
  }
  return best;
}

std::string platform_string(const ImagePlatform& p) {
  std::string s = p.os + "/" + p.architecture;
  if (!p.variant.empty()) s += "/" + p.variant;
  return s;
}

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    if (pos + len > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto Y = num(0, 4), M = num(5, 2), D = num(8, 2), h = num(11, 2), m = num(14, 2),
       sec = num(17, 2);
  if (!Y || !M || !D || !h || !m || !sec || *M < 1 || *M > 12 || *D < 1 || *D > 31 || *h > 23 ||
      *m > 59 || *sec > 60) {
    return std::nullopt;
  }
  size_t p = 19;
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
    if (p == start) return std::nullopt;
  }
  int offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    auto oh = num(p + 1, 2), om = num(p + 4, 2);
    if (!oh || !om || p + 3 >= s.size() || s[p + 3] != ':') return std::nullopt;
    offset = (*oh * 60 + *om) * 60 * (s[p] == '+' ? 1 : -1);
    p += 6;
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  struct tm t = {};
  t.tm_year = *Y - 1900;
  t.tm_mon = *M - 1;
  t.tm_mday = *D;
  t.tm_hour = *h;
  t.tm_min = *m;
  t.tm_sec = *sec;
  return static_cast<int64_t>(timegm(&t)) - offset;
}

std::string format_rfc3339(int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / 1000000000);
  int64_t frac = unix_ns % 1000000000;
  struct tm t = {};
  gmtime_r(&secs, &t);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  std::string out = buf;
  if (frac > 0) {
    std::string f = fmt::format("{:09d}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "Z";
}

}  // namespace berth::oci
