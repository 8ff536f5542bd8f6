// archive: docker's container archive API (stat, get, put) inside a root fd.
#include "engine/archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strings.h"
#include "engine/archive_internal.h"
#include "sys/syscalls.h"

namespace berth::engine {
namespace ai = archive_internal;
namespace {

// The requested path split docker's way: the absolute container path, its
// parent, the last element, and whether a trailing "/" or "/." asks for
// the path to be followed to a directory.
struct Target {
  std::string abs;     // cleaned, absolute
  std::string parent;  // cleaned, absolute
  std::string base;    // last element; "" for the root
  std::string name;    // PathStat name / archive name: "." for "x/.", "/" for the root
  bool follow = false;
};

Target split_target(const std::string& path) {
  Target t;
  std::string p = path.empty() ? "/" : path;
  if (p.front() != '/') p = "/" + p;
  bool dot = ends_with(p, "/.") || p == "/.";
  t.follow = dot || (p.size() > 1 && p.back() == '/');
  t.abs = clean_abs_path(p);
  if (t.abs == "/") {
    t.parent = "/";
    t.name = dot ? "." : "/";
    return t;
  }
  size_t slash = t.abs.rfind('/');
  t.parent = slash == 0 ? "/" : t.abs.substr(0, slash);
  t.base = t.abs.substr(slash + 1);
  t.name = dot ? "." : t.base;
  return t;
}

Error not_found(const std::string& path) {
  return Error{Errc::NotFound, ENOENT, fmt::format("{}: no such file or directory", path)};
}

// lstat of the target (stat when `follow`), and an fd of its parent
// directory (for the walk), all resolved in root.
struct Resolved {
  Fd parent;
  std::string entry;  // name within parent ("." when following into the dir itself)
  struct stat st;
};

Result<Resolved> resolve(int root_fd, const Target& t, const std::string& path) {
  Resolved r;
  if (t.base.empty() || t.follow) {
    // The root or "dir/" / "dir/.": the directory itself, symlinks followed.
    auto fd = sys::open_in_root(root_fd, t.abs, O_PATH);
    if (!fd) {
      if (fd.error().sys_errno == ENOENT || fd.error().sys_errno == ENOTDIR) {
        return not_found(path);
      }
      return std::move(fd).error();
    }
    if (::fstat(fd->get(), &r.st) != 0) return sys_error(fmt::format("stat {}", path));
    if (t.follow && !S_ISDIR(r.st.st_mode)) {
      return Error{Errc::InvalidArgument, ENOTDIR, fmt::format("{}: not a directory", path)};
    }
    r.parent = std::move(*fd);
    r.entry = ".";
    // O_PATH fds cannot be read; reopen the directory for the walk.
    Fd dir(::openat(r.parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir) r.parent = std::move(dir);
    return r;
  }
  auto pfd = sys::open_in_root(root_fd, t.parent, O_RDONLY | O_DIRECTORY);
  if (!pfd) {
    if (pfd.error().sys_errno == ENOENT || pfd.error().sys_errno == ENOTDIR) {
      return not_found(path);
    }
    return std::move(pfd).error();
  }
  if (::fstatat(pfd->get(), t.base.c_str(), &r.st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return not_found(path);
    return sys_error(fmt::format("lstat {}", path));
  }
  r.parent = std::move(*pfd);
  r.entry = t.base;
  return r;
}

}  // namespace

uint32_t go_file_mode(mode_t m) {
  uint32_t mode = m & 0777;
  switch (m & S_IFMT) {
    case S_IFDIR:
      mode |= 1u << 31;
      break;
    case S_IFLNK:
      mode |= 1u << 27;
      break;
    case S_IFBLK:
      mode |= 1u << 26;
      break;
    case S_IFCHR:
      mode |= (1u << 26) | (1u << 21);
      break;
    case S_IFIFO:
      mode |= 1u << 25;
      break;
    case S_IFSOCK:
      mode |= 1u << 24;
      break;
    default:
      break;
  }
  if (m & S_ISUID) mode |= 1u << 23;
  if (m & S_ISGID) mode |= 1u << 22;
  if (m & S_ISVTX) mode |= 1u << 20;
  return mode;
}

Result<Fd> open_root(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error(fmt::format("open {}", dir));
  return fd;
}

Result<PathStat> archive_stat(int root_fd, const std::string& path) {
  Target t = split_target(path);
  Resolved r = BERTH_TRY(resolve(root_fd, t, path));
  PathStat s;
  s.name = t.name;
  s.size = r.st.st_size;
  s.mode = go_file_mode(r.st.st_mode);
  s.mtime_ns = static_cast<int64_t>(r.st.st_mtim.tv_sec) * 1'000'000'000LL + r.st.st_mtim.tv_nsec;
  if (S_ISLNK(r.st.st_mode)) {
    s.link_target = BERTH_TRY(ai::canonical_in_root(root_fd, t.abs, true));
  }
  return s;
}

Result<PathStat> archive_get(int root_fd, const std::string& path, const ByteSinkFn& sink) {
  PathStat s = BERTH_TRY(archive_stat(root_fd, path));
  Target t = split_target(path);
  Resolved r = BERTH_TRY(resolve(root_fd, t, path));
  // The root is archived as "." (its contents), like "dir/.".
  std::string as = t.name == "/" ? "." : t.name;
  ai::TreeOptions o;
  o.skip_pseudo_fs = true;
  BERTH_TRY(ai::write_tree(r.parent.get(), r.entry, as, o, sink));
  return s;
}

}  // namespace berth::engine
