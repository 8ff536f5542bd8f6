#include "cli/build_context.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <utility>

#include "base/digest.h"
#include "base/file.h"
#include "base/strings.h"
#include "cli/run_flags.h"

namespace berth::cli {
namespace {

// Pieces handed to the HTTP body: big enough that chunk framing costs
// nothing, small enough that a large file is never held whole.
constexpr size_t kPieceBytes = 256 * 1024;
constexpr size_t kReadBytes = 1024 * 1024;

// Go's errno texts (what docker prints) are strerror's, lowercased.
std::string go_strerror(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

Result<std::string> absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return clean_abs_path(p);
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return sys_error("getcwd");
  return clean_abs_path(std::string(cwd) + "/" + p);
}

// `target` relative to `base` (both absolute and clean), '/'-separated.
std::string relative_to(const std::string& base, const std::string& target) {
  auto b = split(base, '/', true), t = split(target, '/', true);
  size_t common = 0;
  while (common < b.size() && common < t.size() && b[common] == t[common]) common++;
  std::vector<std::string> out(b.size() - common, "..");
  out.insert(out.end(), t.begin() + static_cast<long>(common), t.end());
  return out.empty() ? "." : join(out, "/");
}

Result<std::string> real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return sys_error(p);
  return std::string(buf);
}

bool is_under(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

}  // namespace

Result<LocalContext> resolve_local_context(const std::string& path, const std::string& file_flag) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error(Errc::NotFound, "path \"{}\" not found", path);
  LocalContext lc;
  auto dir = real_path(path);
  if (!dir)
    return make_error(Errc::InvalidArgument, "unable to evaluate symlinks in context path: {}",
                      dir.error().message);
  lc.dir = *dir;
  if (::stat(lc.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(Errc::InvalidArgument, "context must be a directory: {}", lc.dir);
  if (file_flag == "-") {
    lc.dockerfile = "-";
    return lc;
  }
  std::string df;
  if (file_flag.empty()) {
    df = lc.dir + "/Dockerfile";
    // docker also takes a lowercase "dockerfile", but only when it exists.
    struct stat s {};
    if (::lstat(df.c_str(), &s) != 0 && errno == ENOENT &&
        ::lstat((lc.dir + "/dockerfile").c_str(), &s) == 0)
      df = lc.dir + "/dockerfile";
  } else {
    df = BERTH_TRY(absolute(file_flag));
  }
  char buf[PATH_MAX];
  if (!::realpath(df.c_str(), buf))
    return make_error(errc_from_errno(errno),
                      "unable to evaluate symlinks in Dockerfile path: lstat {}: {}",
                      clean_abs_path(df), go_strerror(errno));
  lc.dockerfile_abs = buf;
  lc.dockerfile = relative_to(lc.dir, lc.dockerfile_abs);
  return lc;
}

// --- ContextTar -------------------------------------------------------------

ContextTar::ContextTar(ContextTarOptions o) : o_(std::move(o)) {}

ContextTar::~ContextTar() {
  if (file_fd_ >= 0) ::close(file_fd_);
  if (a_) archive_write_free(a_);
}

Result<std::unique_ptr<ContextTar>> ContextTar::create(ContextTarOptions o) {
  std::unique_ptr<ContextTar> t(new ContextTar(std::move(o)));
  bool listed = false;
  if (!t->o_.dir.empty()) {
    BERTH_TRY(t->walk(""));
    listed = std::find(t->paths_.begin(), t->paths_.end(), ".dockerignore") != t->paths_.end();
    // Only a regular .dockerignore gets the extra line; anything else of
    // that name is sent as it is (a second entry would shadow it).
    struct stat st {};
    if (listed &&
        (::lstat((t->o_.dir + "/.dockerignore").c_str(), &st) != 0 || !S_ISREG(st.st_mode)))
      t->o_.dockerignore_append.reset();
  }
  t->walked_ = t->paths_.size();
  for (const auto& e : t->o_.extra) t->paths_.push_back(e.name);
  if (t->o_.dockerignore_append && !listed) t->paths_.push_back(".dockerignore");
  BERTH_TRY(t->start());
  return t;
}

Result<void> ContextTar::walk(const std::string& rel_dir) {
  const std::string abs_dir = rel_dir.empty() ? o_.dir : o_.dir + "/" + rel_dir;
  std::vector<std::string> names;
  {
    DIR* d = ::opendir(abs_dir.c_str());
    if (!d) {
      if (errno == EACCES || errno == EPERM)
        return make_error(Errc::PermissionDenied, "error checking context: can't stat '{}'",
                          abs_dir);
      return sys_error("error checking context: open " + abs_dir);
    }
    errno = 0;
    while (struct dirent* de = ::readdir(d)) {
      std::string_view n = de->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return sys_error("error checking context: readdir " + abs_dir, err);
  }
  // Go's filepath.Walk visits names in byte order.
  std::sort(names.begin(), names.end());
  auto forced = [&](const std::string& rel) {
    return std::find(o_.always_send.begin(), o_.always_send.end(), rel) != o_.always_send.end();
  };
  auto forced_below = [&](const std::string& rel) {
    return std::any_of(o_.always_send.begin(), o_.always_send.end(),
                       [&](const std::string& p) { return is_under(p, rel); });
  };
  for (const auto& name : names) {
    std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
    std::string abs = o_.dir + "/" + rel;
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) {
      if (errno == ENOENT)
        return make_error(Errc::NotFound,
                          "error checking context: file ('{}') not found or excluded by "
                          ".dockerignore",
                          abs);
      if (errno == EACCES || errno == EPERM)
        return make_error(Errc::PermissionDenied, "error checking context: can't stat '{}'", abs);
      return sys_error("error checking context: lstat " + abs);
    }
    bool excluded = !forced(rel) && o_.ignore.excluded(rel);
    if (S_ISDIR(st.st_mode)) {
      if (excluded) {
        // The directory entry is not sent; what an exception (or the
        // Dockerfile) re-includes below it still is.
        if (o_.ignore.skip_dir(rel) && !forced_below(rel)) continue;
        auto r = walk(rel);
        // docker never looks into excluded directories while checking the
        // context: one it cannot list is not an error.
        if (!r && r.error().code != Errc::PermissionDenied) return r;
        continue;
      }
      paths_.push_back(rel);
      BERTH_TRY(walk(rel));
      continue;
    }
    if (excluded || S_ISSOCK(st.st_mode)) continue;  // sockets cannot be archived
    if (S_ISREG(st.st_mode)) {
      int fd = ::open(abs.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      if (fd < 0) {
        if (errno == EACCES || errno == EPERM)
          return make_error(Errc::PermissionDenied,
                            "error checking context: no permission to read from '{}'", abs);
        return sys_error("error checking context: open " + abs);
      }
      ::close(fd);
    }
    paths_.push_back(rel);
  }
  return ok();
}

ssize_t ContextTar::write_cb(struct archive*, void* self, const void* buf, size_t n) {
  static_cast<ContextTar*>(self)->out_.append(static_cast<const char*>(buf), n);
  return static_cast<ssize_t>(n);
}

Error ContextTar::archive_error(const std::string& what) const {
  const char* msg = archive_error_string(a_);
  return make_error(Errc::Internal, "writing the build context: {}: {}", what,
                    msg ? msg : "libarchive error");
}

Result<void> ContextTar::start() {
  a_ = archive_write_new();
  if (!a_) return make_error(Errc::Internal, "writing the build context: out of memory");
  // pax_restricted is ustar unless a name or size needs an extended header,
  // as Go's archive/tar chooses; 0 bytes per block: no 10 KiB padding, each
  // write goes straight to write_cb.
  if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK ||
      (o_.gzip ? archive_write_add_filter_gzip(a_) : archive_write_add_filter_none(a_)) !=
          ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a_, 0) != ARCHIVE_OK ||
      archive_write_open(a_, this, nullptr, &ContextTar::write_cb, nullptr) != ARCHIVE_OK)
    return archive_error("opening the archive");
  return ok();
}

Result<void> ContextTar::write_memory_file(const std::string& name, const std::string& content,
                                           mode_t mode, int64_t mtime) {
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, mode & 07777);
  archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  archive_entry_set_mtime(e, mtime, 0);
  int r = archive_write_header(a_, e);
  archive_entry_free(e);
  if (r < ARCHIVE_WARN) return archive_error(name);
  if (!content.empty() && archive_write_data(a_, content.data(), content.size()) < 0)
    return archive_error(name);
  return ok();
}

Result<void> ContextTar::write_next_entry() {
  if (next_index_ >= paths_.size()) {
    if (archive_write_close(a_) != ARCHIVE_OK) return archive_error("closing the archive");
    finished_ = true;
    return ok();
  }
  size_t i = next_index_++;
  const std::string& rel = paths_[i];
  if (i >= walked_) {
    size_t k = i - walked_;
    if (k < o_.extra.size()) {
      const ExtraFile& x = o_.extra[k];
      return write_memory_file(x.name, x.content, x.mode, x.mtime);
    }
    return write_memory_file(".dockerignore", o_.dockerignore_if_missing, 0600,
                             static_cast<int64_t>(std::time(nullptr)));
  }
  std::string abs = o_.dir + "/" + rel;
  struct stat st {};
  if (::lstat(abs.c_str(), &st) != 0) return sys_error("lstat " + abs);
  if (rel == ".dockerignore" && o_.dockerignore_append && S_ISREG(st.st_mode)) {
    std::string content = BERTH_TRY(read_file(abs));
    return write_memory_file(rel, content + *o_.dockerignore_append, st.st_mode, st.st_mtime);
  }
  struct archive_entry* e = archive_entry_new();
  auto free_entry = [&] { archive_entry_free(e); };
  archive_entry_set_pathname(e, rel.c_str());
  archive_entry_set_perm(e, st.st_mode & 07777);
  archive_entry_set_mtime(e, st.st_mtime, 0);
  // Owners stay 0:0 (docker's ChownOpts): see the header.
  archive_entry_set_size(e, 0);
  int fd = -1;
  if (S_ISDIR(st.st_mode)) {
    archive_entry_set_filetype(e, AE_IFDIR);
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : PATH_MAX), '\0');
    ssize_t n = ::readlink(abs.c_str(), target.data(), target.size());
    if (n < 0) {
      free_entry();
      return sys_error("readlink " + abs);
    }
    target.resize(static_cast<size_t>(n));
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_symlink(e, target.c_str());
  } else if (S_ISREG(st.st_mode)) {
    archive_entry_set_filetype(e, AE_IFREG);
    auto key = std::make_pair(st.st_dev, st.st_ino);
    auto seen = st.st_nlink > 1 ? links_.find(key) : links_.end();
    if (seen != links_.end()) {
      archive_entry_set_hardlink(e, seen->second.c_str());
    } else {
      if (st.st_nlink > 1) links_.emplace(key, rel);
      fd = ::open(abs.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) {
        free_entry();
        return sys_error("open " + abs);
      }
      archive_entry_set_size(e, st.st_size);
    }
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    archive_entry_set_filetype(e, S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
    archive_entry_set_rdev(e, st.st_rdev);
  } else if (S_ISFIFO(st.st_mode)) {
    archive_entry_set_filetype(e, AE_IFIFO);
  } else {
    free_entry();
    return ok();  // nothing else can be represented
  }
  int r = archive_write_header(a_, e);
  free_entry();
  if (r < ARCHIVE_WARN) {
    if (fd >= 0) ::close(fd);
    return archive_error(rel);
  }
  if (fd >= 0) {
    file_fd_ = fd;
    file_path_ = abs;
    file_left_ = st.st_size;
    if (file_left_ == 0) {
      ::close(file_fd_);
      file_fd_ = -1;
    }
  }
  return ok();
}

Result<void> ContextTar::pump_file_data() {
  std::string buf(std::min<size_t>(kReadBytes, static_cast<size_t>(file_left_)), '\0');
  ssize_t n;
  do {
    n = ::read(file_fd_, buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("reading " + file_path_);
  if (n == 0) return make_error(Errc::Io, "{} changed size while the context was sent", file_path_);
  if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) < 0)
    return archive_error(file_path_);
  file_left_ -= n;
  if (file_left_ == 0) {
    // A file that grew meanwhile is cut at the size its header announced.
    ::close(file_fd_);
    file_fd_ = -1;
  }
  return ok();
}

Result<std::string> ContextTar::next() {
  if (done_) return std::string();
  out_.clear();
  while (out_.size() < kPieceBytes && !finished_) {
    auto r = file_fd_ >= 0 ? pump_file_data() : write_next_entry();
    if (!r) {
      if (file_fd_ >= 0) ::close(file_fd_);
      file_fd_ = -1;
      done_ = true;
      return r.error();
    }
  }
  if (out_.empty()) {
    done_ = true;
    return std::string();
  }
  bytes_out_ += out_.size();
  std::string piece;
  piece.swap(out_);
  return piece;
}

// --- detection and naming ---------------------------------------------------

bool looks_like_archive(std::string_view head) {
  auto magic = [&](std::string_view m) { return head.starts_with(m); };
  if (magic("\x1f\x8b\x08") || magic("BZh") ||
      magic(std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6)) || magic("\x28\xb5\x2f\xfd"))
    return true;
  if (head.size() < 512) return false;
  // A tar header: the checksum field (8 bytes at 148, octal, padded with
  // NULs or spaces) is the sum of the header's bytes with that field read
  // as spaces, unsigned or (old tars) signed.
  std::string_view field = head.substr(148, 8);
  size_t b = field.find_first_not_of(std::string_view(" \0", 2));
  if (b == std::string_view::npos) return false;
  size_t e = field.find_last_not_of(std::string_view(" \0", 2));
  field = field.substr(b, e - b + 1);
  long long want = 0;
  for (char c : field) {
    if (c < '0' || c > '7') return false;
    want = want * 8 + (c - '0');
  }
  long long usum = 0, ssum = 0;
  for (size_t i = 0; i < 512; i++) {
    char c = (i >= 148 && i < 156) ? ' ' : head[i];
    usum += static_cast<unsigned char>(c);
    ssum += static_cast<signed char>(c);
  }
  return want == usum || want == ssum;
}

std::string random_dockerfile_name() { return ".dockerfile." + random_hex_id().substr(0, 20); }

Result<PreparedContext> prepare_dir_context(const LocalContext& lc,
                                            std::optional<std::string> dockerfile_text,
                                            const std::string& name, bool gzip) {
  ContextTarOptions o;
  o.dir = lc.dir;
  o.gzip = gzip;
  auto ignore_text = read_file(lc.dir + "/.dockerignore");
  if (ignore_text) {
    o.ignore = BERTH_TRY(build::IgnoreMatcher::parse(*ignore_text));
  } else if (ignore_text.error().code != Errc::NotFound) {
    return ignore_text.error();
  }
  // The daemon reads these two from the context, so they are sent whatever
  // .dockerignore says (it drops them from what COPY sees).
  o.always_send.push_back(".dockerignore");
  PreparedContext p;
  if (lc.dockerfile != "-" && !lc.dockerfile_outside()) {
    o.always_send.push_back(lc.dockerfile);
    p.dockerfile = lc.dockerfile;
  } else {
    if (!dockerfile_text)
      return make_error(Errc::Internal, "the Dockerfile {} is not in the context and was not read",
                        lc.dockerfile);
    std::string rn = name.empty() ? random_dockerfile_name() : name;
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    o.extra.push_back(ExtraFile{rn, std::move(*dockerfile_text), 0600, now});
    o.dockerignore_append = "\n" + rn + "\n";
    o.dockerignore_if_missing = ".dockerignore\n" + rn + "\n";
    p.dockerfile = rn;
  }
  p.tar = BERTH_TRY(ContextTar::create(std::move(o)));
  return p;
}

// --- flag values ------------------------------------------------------------

Result<std::map<std::string, std::string>> parse_build_args(const std::vector<std::string>& args,
                                                            const BuildEnvLookup& env) {
  std::map<std::string, std::string> out;
  for (const auto& a : args) {
    auto eq = a.find('=');
    std::string k = a.substr(0, eq);
    if (k.empty()) return flag_value_error("--build-arg", a, "invalid environment variable: " + a);
    if (eq != std::string::npos) {
      out[k] = a.substr(eq + 1);
      continue;
    }
    // "K" alone: the value of K here, if K is set at all.
    auto v = env ? env(k) : std::nullopt;
    if (v)
      out[k] = *v;
    else
      out.erase(k);
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_build_labels(
    const std::vector<std::string>& labels) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  std::map<std::string, std::string> out;
  for (const auto& l : labels) {
    auto eq = l.find('=');
    std::string k = l.substr(0, eq);
    k.erase(0, std::min(k.size(), k.find_first_not_of(kSpace)));
    if (k.empty())
      return flag_value_error("--label", l, fmt::format("invalid label '{}': empty name", l));
    if (k.find_first_of(kSpace) != std::string::npos)
      return flag_value_error("--label", l, fmt::format("label '{}' contains whitespaces", k));
    out[k] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  return out;
}

void add_proxy_build_args(const Json& config, const std::string& daemon_host,
                          std::map<std::string, std::string>& args) {
  if (!config.is_object() || !config.contains("proxies") || !config["proxies"].is_object()) return;
  const Json& proxies = config["proxies"];
  const char* key = proxies.contains(daemon_host) ? daemon_host.c_str() : "default";
  if (!proxies.contains(key) || !proxies[key].is_object()) return;
  const Json& p = proxies[key];
  static constexpr std::pair<const char*, const char*> kFields[] = {{"httpProxy", "HTTP_PROXY"},
                                                                    {"httpsProxy", "HTTPS_PROXY"},
                                                                    {"noProxy", "NO_PROXY"},
                                                                    {"ftpProxy", "FTP_PROXY"},
                                                                    {"allProxy", "ALL_PROXY"}};
  for (auto [field, name] : kFields) {
    if (!p.contains(field) || !p[field].is_string()) continue;
    std::string v = p[field].get<std::string>();
    if (v.empty()) continue;
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    args.try_emplace(name, v);
    args.try_emplace(lower, v);
  }
}

}  // namespace berth::cli
