// cli/kv_file: docker's env/label files (see kv_file.h).
#include "cli/kv_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/errno_text.h"
#include "base/fd.h"
#include "base/strings.h"

namespace berth::cli {
namespace {

std::string go_bytes(std::string_view s) {  // Go's %v of a []byte
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(static_cast<unsigned char>(s[i]));
  }
  return out + "]";
}

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1, cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2, cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3, cp = b & 0x07;
    } else {
      return false;  // a continuation byte, C0/C1 (overlong) or F5..FF
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

Result<std::vector<std::string>> read_kv_file(const std::string& path, const KvLookup& lookup) {
  auto bad = [&](const std::string& why) {
    return make_error(Errc::InvalidArgument, "invalid env file ({}): {}", path, why);
  };
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    return make_error(e == ENOENT ? Errc::NotFound : Errc::Io, "open {}: {}", path,
                      go_errno_text(e));
  }
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return bad(fmt::format("read {}: {}", path, go_errno_text(errno)));
    if (r == 0) break;
    data.append(buf, static_cast<size_t>(r));
  }
  std::vector<std::string> out;
  size_t pos = 0;
  int n = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    std::string_view raw(data.data() + pos, (nl == std::string::npos ? data.size() : nl) - pos);
    pos = nl == std::string::npos ? data.size() : nl + 1;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    ++n;
    if (!valid_utf8(raw))
      return bad(fmt::format("invalid utf8 bytes at line {}: {}", n, go_bytes(raw)));
    if (n == 1 && starts_with(raw, "\xEF\xBB\xBF")) raw.remove_prefix(3);
    while (!raw.empty() && is_space(raw.front())) raw.remove_prefix(1);
    if (raw.empty() || raw[0] == '#') continue;
    auto eq = raw.find('=');
    std::string key(raw.substr(0, eq));
    if (key.find_first_of(" \t") != std::string::npos)
      return bad(fmt::format("variable '{}' contains whitespaces", key));
    if (key.empty()) return bad(fmt::format("no variable name on line '{}'", raw));
    if (eq != std::string_view::npos) {
      out.push_back(key + "=" + std::string(raw.substr(eq + 1)));
    } else if (lookup) {
      if (auto v = lookup(key)) out.push_back(key + "=" + *v);
    }
  }
  return out;
}

}  // namespace berth::cli
