// http/common.cc — the Beast-free parts of the http module: header name
// comparison, query helpers, percent coding.
#include <strings.h>

#include <algorithm>

#include "http/client.h"
#include "http/server.h"
#include "http/status.h"
#include "http/url.h"

namespace berth::http {

int status_for_errc(Errc c) {
  switch (c) {
    case Errc::InvalidArgument:
      return 400;
    case Errc::PermissionDenied:
      return 403;
    case Errc::NotFound:
      return 404;
    case Errc::AlreadyExists:
    case Errc::Conflict:
      return 409;
    case Errc::NotImplemented:
      return 501;
    case Errc::Unavailable:
      return 503;
    default:
      return 500;
  }
}

bool CaseLess::operator()(const std::string& a, const std::string& b) const {
  const size_t n = std::min(a.size(), b.size());
  int c = ::strncasecmp(a.data(), b.data(), n);
  if (c != 0) return c < 0;
  return a.size() < b.size();
}

std::optional<std::string> Request::param(std::string_view key) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : query())
    if (k == key) out = v;
  return out;
}

std::optional<std::string> Request::header(std::string_view name) const {
  auto it = headers().find(std::string(name));
  if (it == headers().end()) return std::nullopt;
  return it->second;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto dk = percent_decode(k, true);
    auto dv = percent_decode(v, true);
    if (!dk || !dv) continue;
    out.emplace_back(std::move(*dk), std::move(*dv));
  }
  return out;
}

std::optional<SplitTarget> split_target(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() &&
        ::strncasecmp(target.data(), scheme.data(), scheme.size()) == 0) {
      std::string_view rest = target.substr(scheme.size());
      size_t slash = rest.find_first_of("/?");
      target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      break;
    }
  }
  SplitTarget out;
  size_t qm = target.find('?');
  std::string_view raw_path = target.substr(0, qm);
  if (qm != std::string_view::npos) out.raw_query = std::string(target.substr(qm + 1));
  auto p = percent_decode(raw_path, false);
  if (!p) return std::nullopt;
  out.path = p->empty() ? "/" : std::move(*p);
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace berth::http
