#include "dashboard/security.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/ascii.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::dashboard {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length is not secret (every token has 64 digits); the content is.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  // volatile: keeps the compiler from turning the loop into an early exit.
  volatile unsigned char result = diff;
  return result == 0;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  if (!starts_with(host, "127.")) return false;
  auto parts = split(host, '.');
  if (parts.size() != 4) return false;
  for (const auto& p : parts) {
    auto n = parse_int(p);
    if (p.empty() || !n || *n < 0 || *n > 255) return false;
  }
  return true;
}

std::vector<std::string> allowed_hosts(std::string_view listen_host, std::string_view port) {
  std::string p(port);
  std::vector<std::string> out = {"localhost:" + p, "127.0.0.1:" + p, "[::1]:" + p};
  std::string h(listen_host);
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
  if (!h.empty()) {
    std::string mine = h + ":" + p;
    bool known = false;
    for (const auto& o : out) known = known || o == mine;
    if (!known) out.push_back(mine);
  }
  return out;
}

std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name) {
  for (const auto& part : split(cookie_header, ';')) {
    auto kv = trim(part);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(kv.substr(0, eq)) == name) return std::string(trim(kv.substr(eq + 1)));
  }
  return std::nullopt;
}

std::optional<std::string> bearer_token(std::string_view authorization) {
  auto a = trim(authorization);
  if (a.size() < 7) return std::nullopt;
  if (!iequals(a.substr(0, 7), "bearer ")) return std::nullopt;
  return std::string(trim(a.substr(7)));
}

Result<std::string> random_token() {
  unsigned char raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("getrandom");
    }
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

namespace {

bool looks_like_token(std::string_view t) {
  if (t.size() != 64) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<std::string> load_or_create_token(const std::string& path) {
  auto text = read_file(path);
  if (text) {
    auto t = trim(*text);
    struct stat st;
    // Reused only while nobody else could have read it.
    if (looks_like_token(t) && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) == 0)
      return std::string(t);
  } else if (text.error().code != Errc::NotFound) {
    return text.error().context("dashboard token");
  }
  auto token = BERTH_TRY(random_token());
  BERTH_TRY_CTX(write_file_atomic(path, token + "\n", 0600), "write dashboard token");
  return token;
}

}  // namespace berth::dashboard
