// snapshot/tree_copy.cc — recursive copy of a snapshot tree for the copy
// snapshotter, keeping everything a layer can carry (see fs_ops.h).
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/fd.h"
#include "snapshot/fs_ops.h"

namespace berth::snapshot {

namespace {

struct InodeKey {
  dev_t dev;
  ino_t ino;
  bool operator==(const InodeKey&) const = default;
};
struct InodeHash {
  size_t operator()(const InodeKey& k) const noexcept {
    return std::hash<uint64_t>()(static_cast<uint64_t>(k.ino) * 31 + k.dev);
  }
};

bool is_root() { return ::geteuid() == 0; }

// Copies the xattrs of `src` to `dst`. `follow` is set only for
// "/proc/self/fd/N" paths of our own fds (the magic link must be followed);
// else the final component is a tree entry and is never followed.
// Filesystems without xattrs are not an error.
Result<void> copy_xattrs(const std::string& src, const std::string& dst, bool follow) {
  auto list = follow ? ::listxattr : ::llistxattr;
  auto get = follow ? ::getxattr : ::lgetxattr;
  auto set = follow ? ::setxattr : ::lsetxattr;
  std::vector<char> names(4096);
  ssize_t n;
  for (;;) {
    n = list(src.c_str(), names.data(), names.size());
    if (n >= 0) break;
    if (errno == ENOTSUP) return ok();
    if (errno != ERANGE) return sys_error(fmt::format("llistxattr {}", src));
    names.resize(names.size() * 4);
    if (names.size() > (1u << 20)) return sys_error("llistxattr", E2BIG);
  }
  std::vector<char> value(4096);
  for (ssize_t i = 0; i < n;) {
    const char* name = names.data() + i;
    i += static_cast<ssize_t>(std::strlen(name)) + 1;
    ssize_t v;
    for (;;) {
      v = get(src.c_str(), name, value.data(), value.size());
      if (v >= 0 || errno != ERANGE || value.size() > (1u << 20)) break;
      value.resize(value.size() * 4);
    }
    if (v < 0) {
      if (errno == ENODATA) continue;  // removed meanwhile
      return sys_error(fmt::format("lgetxattr {} {}", src, name));
    }
    if (set(dst.c_str(), name, value.data(), static_cast<size_t>(v), 0) != 0 && errno != ENOTSUP) {
      // Without root, trusted.* and security.* cannot be set: the copy
      // keeps what an unprivileged user can keep.
      if (errno == EPERM && !is_root()) continue;
      return sys_error(fmt::format("lsetxattr {} {}", dst, name));
    }
  }
  return ok();
}

Result<void> copy_data(int sfd, int dfd, const std::string& what) {
  // Reflink when the filesystem shares extents (btrfs, xfs): O(1).
  if (::ioctl(dfd, FICLONE, sfd) == 0) return ok();
  bool fallback = false;
  for (;;) {
    ssize_t n = ::copy_file_range(sfd, nullptr, dfd, nullptr, size_t{1} << 30, 0);
    if (n == 0) return ok();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
      fallback = true;
      break;
    }
    return sys_error(fmt::format("copy {}", what));
  }
  if (fallback) {
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(sfd, buf.data(), buf.size());
      if (n == 0) return ok();
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error(fmt::format("read {}", what));
      }
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::write(dfd, buf.data() + off, static_cast<size_t>(n - off));
        if (w < 0) {
          if (errno == EINTR) continue;
          return sys_error(fmt::format("write {}", what));
        }
        off += w;
      }
    }
  }
  return ok();
}

class TreeCopier {
 public:
  explicit TreeCopier(int dst_root) : dst_root_(dst_root) {}

  // Copies the entries of sdir into ddir; `rel` is ddir's path below the
  // destination root ("" for the root).
  Result<void> children(int sdir, int ddir, const std::string& rel) {
    int dup = ::fcntl(sdir, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return sys_error("dup");
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return sys_error(fmt::format("fdopendir {}", rel));
    }
    Result<void> res;
    for (;;) {
      errno = 0;
      dirent* ent = ::readdir(d);
      if (!ent) {
        if (errno) res = sys_error(fmt::format("readdir {}", rel));
        break;
      }
      std::string_view n = ent->d_name;
      if (n == "." || n == "..") continue;
      res = one(sdir, ddir, std::string(n), rel.empty() ? std::string(n) : rel + "/" + n.data());
      if (!res) break;
    }
    ::closedir(d);
    return res;
  }

 private:
  Result<void> one(int sdir, int ddir, const std::string& name, const std::string& rel) {
    struct stat st;
    if (::fstatat(sdir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_error(fmt::format("stat {}", rel));
    const char* n = name.c_str();
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto it = links_.find({st.st_dev, st.st_ino});
      if (it != links_.end()) {
        if (::linkat(dst_root_, it->second.c_str(), ddir, n, 0) != 0)
          return sys_error(fmt::format("link {} to {}", rel, it->second));
        return ok();
      }
      links_.emplace(InodeKey{st.st_dev, st.st_ino}, rel);
    }
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: {
        if (::mkdirat(ddir, n, 0700) != 0) return sys_error(fmt::format("mkdir {}", rel));
        Fd s(::openat(sdir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!s) return sys_error(fmt::format("open {}", rel));
        Fd dd(::openat(ddir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dd) return sys_error(fmt::format("open {}", rel));
        BERTH_TRY(children(s.get(), dd.get(), rel));
        break;
      }
      case S_IFREG: {
        Fd s(::openat(sdir, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!s) return sys_error(fmt::format("open {}", rel));
        Fd dfile(::openat(ddir, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!dfile) return sys_error(fmt::format("create {}", rel));
        BERTH_TRY(copy_data(s.get(), dfile.get(), rel));
        break;
      }
      case S_IFLNK: {
        std::vector<char> target(static_cast<size_t>(st.st_size) + 2);
        ssize_t len = ::readlinkat(sdir, n, target.data(), target.size() - 1);
        if (len < 0) return sys_error(fmt::format("readlink {}", rel));
        target[static_cast<size_t>(len)] = 0;
        if (::symlinkat(target.data(), ddir, n) != 0)
          return sys_error(fmt::format("symlink {}", rel));
        break;
      }
      case S_IFCHR:
      case S_IFBLK:
      case S_IFIFO:
      case S_IFSOCK:
        if (::mknodat(ddir, n, st.st_mode, st.st_rdev) != 0)
          return sys_error(fmt::format("mknod {}", rel));
        break;
      default:
        return make_error(Errc::Internal, "{}: unknown file type {:o}", rel, st.st_mode);
    }
    return metadata(sdir, ddir, name, rel, st);
  }

  // Owner, then mode (chown clears setuid/setgid), then xattrs (chown also
  // drops security.capability), then times (everything above touches ctime
  // only, but a dir's mtime changed while its children were created).
  Result<void> metadata(int sdir, int ddir, const std::string& name, const std::string& rel,
                        const struct stat& st) {
    const char* n = name.c_str();
    if (::fchownat(ddir, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 &&
        !(errno == EPERM && !is_root()))
      return sys_error(fmt::format("chown {}", rel));
    if (!S_ISLNK(st.st_mode) && ::fchmodat(ddir, n, st.st_mode & 07777, 0) != 0)
      return sys_error(fmt::format("chmod {}", rel));
    BERTH_TRY(copy_xattrs(proc_fd_path(sdir, name), proc_fd_path(ddir, name), false));
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(ddir, n, times, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_error(fmt::format("utimes {}", rel));
    return ok();
  }

  int dst_root_;
  std::unordered_map<InodeKey, std::string, InodeHash> links_;  // src inode -> dst rel path
};

}  // namespace

Result<void> copy_tree(const std::string& src, const std::string& dst) {
  Fd s(::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!s) return sys_error(fmt::format("open {}", src));
  if (::mkdir(dst.c_str(), 0700) != 0) return sys_error(fmt::format("mkdir {}", dst));
  Fd d(::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d) return sys_error(fmt::format("open {}", dst));
  TreeCopier c(d.get());
  BERTH_TRY_CTX(c.children(s.get(), d.get(), ""), fmt::format("copy {} to {}", src, dst));
  struct stat st;
  if (::fstat(s.get(), &st) != 0) return sys_error(fmt::format("stat {}", src));
  if (::fchown(d.get(), st.st_uid, st.st_gid) != 0 && !(errno == EPERM && !is_root()))
    return sys_error(fmt::format("chown {}", dst));
  if (::fchmod(d.get(), st.st_mode & 07777) != 0) return sys_error(fmt::format("chmod {}", dst));
  BERTH_TRY(copy_xattrs(proc_fd_path(s.get()), proc_fd_path(d.get()), true));
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(d.get(), times) != 0) return sys_error(fmt::format("utimes {}", dst));
  return ok();
}

}  // namespace berth::snapshot
