// snapshot/remove_tree.cc — rm -rf without following symlinks.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "snapshot/fs_ops.h"

namespace berth::snapshot {

int open_beneath(int dirfd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const char* p = path.empty() ? "." : path.c_str();
  for (int attempt = 0; attempt < 16; ++attempt) {
    long fd = ::syscall(SYS_openat2, dirfd, p, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced the lookup (openat2(2)); retry.
    if (errno != EAGAIN && errno != EINTR) return -errno;
  }
  return -EAGAIN;
}

std::string proc_fd_path(int fd, std::string_view name) {
  std::string p = fmt::format("/proc/self/fd/{}", fd);
  if (!name.empty()) {
    p += '/';
    p += name;
  }
  return p;
}

namespace {

// Removes the entries of the directory open at `fd` (device `dev`).
Result<void> remove_children(int fd, dev_t dev, const std::string& what) {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return sys_error("dup");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return sys_error(fmt::format("fdopendir {}", what));
  }
  Result<void> res;
  for (;;) {
    errno = 0;
    dirent* ent = ::readdir(d);
    if (!ent) {
      if (errno) res = sys_error(fmt::format("readdir {}", what));
      break;
    }
    std::string_view n = ent->d_name;
    if (n == "." || n == "..") continue;
    std::string name(n);
    if (::unlinkat(fd, name.c_str(), 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) {
      res = sys_error(fmt::format("unlink {}/{}", what, name));
      break;
    }
    Fd child(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child && errno == EACCES) {
      // Not root and the directory is not readable: make it ours to empty.
      ::fchmodat(fd, name.c_str(), 0700, 0);
      child.reset(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!child) {
      if (errno == ENOENT) continue;
      res = sys_error(fmt::format("open {}/{}", what, name));
      break;
    }
    struct stat st;
    if (::fstat(child.get(), &st) != 0) {
      res = sys_error(fmt::format("stat {}/{}", what, name));
      break;
    }
    if (st.st_dev != dev) {
      res = make_error(Errc::Conflict, "{}/{} is a mount point: not removed", what, name);
      break;
    }
    res = remove_children(child.get(), dev, what + "/" + name);
    if (!res) break;
    child.reset();
    if (::unlinkat(fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      res = sys_error(fmt::format("rmdir {}/{}", what, name));
      break;
    }
  }
  ::closedir(d);
  return res;
}

}  // namespace

Result<void> remove_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return ok();
  if (errno != EISDIR) return sys_error(fmt::format("unlink {}", name));
  Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && errno == EACCES) {
    ::fchmodat(dirfd, name.c_str(), 0700, 0);
    fd.reset(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd) return errno == ENOENT ? ok() : sys_error(fmt::format("open {}", name));
  struct stat st, parent;
  if (::fstat(fd.get(), &st) != 0 || ::fstat(dirfd, &parent) != 0)
    return sys_error(fmt::format("stat {}", name));
  if (st.st_dev != parent.st_dev)
    return make_error(Errc::Conflict, "{} is a mount point: not removed", name);
  BERTH_TRY(remove_children(fd.get(), st.st_dev, name));
  fd.reset();
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return sys_error(fmt::format("rmdir {}", name));
  return ok();
}

Result<void> remove_path(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (dir.empty()) dir = "/";
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..")
    return make_error(Errc::InvalidArgument, "cannot remove {}", path);
  Fd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!d) return errno == ENOENT ? ok() : sys_error(fmt::format("open {}", dir));
  auto r = remove_at(d.get(), name);
  if (!r) return std::move(r).error().context(fmt::format("remove {}", path));
  return ok();
}

}  // namespace berth::snapshot
