#include "dashboard/static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/ascii.h"
#include "base/strings.h"
#include "sys/syscalls.h"

namespace berth::dashboard {

namespace {

// The UI's files are a few hundred KiB; this only bounds a mistake (a huge
// file dropped into the directory) to one allocation of known size.
constexpr off_t kMaxFile = 64 << 20;

bool has_index(const std::string& dir) {
  std::error_code ec;
  return !dir.empty() && std::filesystem::is_regular_file(dir + "/index.html", ec);
}

}  // namespace

std::string content_type_for(std::string_view name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".otf", "font/otf"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
  };
  std::string n = ascii_lower(name);
  for (const auto& [ext, type] : kTypes)
    if (ends_with(n, ext)) return type;
  return "application/octet-stream";
}

bool accepts_gzip(std::string_view accept_encoding) {
  for (const auto& item : split(accept_encoding, ',')) {
    auto parts = split(item, ';');
    if (parts.empty()) continue;
    std::string coding = ascii_lower(trim(parts[0]));
    if (coding != "gzip" && coding != "*") continue;
    bool zero = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      auto p = trim(parts[i]);
      if (starts_with(p, "q=") || starts_with(p, "Q=")) {
        // q=0, q=0.0, q=0.000: "not acceptable" (RFC 9110 12.4.2).
        auto q = p.substr(2);
        zero = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (!zero) return true;
  }
  return false;
}

std::optional<std::string> find_dashboard_dir(const std::string& explicit_dir,
                                              const std::string& env_dir,
                                              const std::string& exe_dir) {
  if (!explicit_dir.empty()) {
    if (has_index(explicit_dir)) return explicit_dir;
    return std::nullopt;
  }
  std::vector<std::string> candidates;
  if (!env_dir.empty()) candidates.push_back(env_dir);
  if (!exe_dir.empty()) {
    candidates.push_back(exe_dir + "/../share/berth/dashboard");
    candidates.push_back(exe_dir + "/../../dashboard/dist");
  }
  for (const auto& c : candidates) {
    if (!has_index(c)) continue;
    std::error_code ec;
    auto canon = std::filesystem::weakly_canonical(c, ec);
    return ec ? c : canon.string();
  }
  return std::nullopt;
}

Result<StaticFiles> StaticFiles::open(const std::string& dir) {
  if (!has_index(dir))
    return make_error(Errc::NotFound, "{}: no index.html (dashboard files not installed)", dir);
  Fd root(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error(fmt::format("open {}", dir));
  return StaticFiles(dir, std::move(root));
}

Result<std::string> StaticFiles::read_regular(const std::string& rel) const {
  auto opened = sys::open_in_root(root_.get(), rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (!opened) {
    // A path through a file, a symlink loop, a name too long: "not here".
    int e = opened.error().sys_errno;
    if (e == ENOTDIR || e == ELOOP || e == EXDEV || e == ENAMETOOLONG)
      return make_error(Errc::NotFound, "{}: not found", rel);
    return opened.error();
  }
  Fd fd = std::move(*opened);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("fstat " + rel);
  if (!S_ISREG(st.st_mode)) return make_error(Errc::NotFound, "{}: not a regular file", rel);
  if (st.st_size > kMaxFile) return make_error(Errc::NotFound, "{}: too large to serve", rel);
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + rel);
    if (n == 0) break;  // shrank while reading: serve what is there
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Result<StaticFile> StaticFiles::file(const std::string& rel, bool accept_gzip,
                                     bool immutable) const {
  StaticFile f;
  f.content_type = content_type_for(rel);
  f.cache_control = immutable ? "public, max-age=31536000, immutable" : "no-cache";
  if (accept_gzip) {
    if (auto gz = read_regular(rel + ".gz"); gz) {
      // The plain file must exist too: a lone .gz is not a file we publish.
      if (auto plain = read_regular(rel); plain) {
        f.body = std::move(*gz);
        f.gzip = true;
        return f;
      }
    }
  }
  f.body = BERTH_TRY(read_regular(rel));
  return f;
}

Result<StaticFile> StaticFiles::lookup(std::string_view url_path, bool accept_gzip) const {
  if (url_path.find('\0') != std::string_view::npos ||
      url_path.find('\\') != std::string_view::npos)
    return make_error(Errc::InvalidArgument, "invalid path");
  auto segments = split(url_path, '/', true);
  for (const auto& s : segments)
    if (s == "." || s == "..") return make_error(Errc::InvalidArgument, "invalid path");
  if (segments.empty()) return file("index.html", accept_gzip, false);
  std::string rel = join(segments, "/");
  bool asset = segments.size() > 1 && segments[0] == "assets";
  auto f = file(rel, accept_gzip, asset);
  if (f || f.error().code != Errc::NotFound) return f;
  if (asset || segments.back().find('.') != std::string::npos)
    return make_error(Errc::NotFound, "{}: not found", url_path);
  return file("index.html", accept_gzip, false);
}

}  // namespace berth::dashboard
