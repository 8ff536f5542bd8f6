// snapshot/whiteout.cc — OCI whiteouts in overlay form or as deletions.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include "snapshot/extractor.h"
#include "snapshot/fs_ops.h"

namespace berth::snapshot {

namespace {
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr std::string_view kMetaPrefix = ".wh..wh.";  // aufs bookkeeping (.wh..wh.plnk ...)
}  // namespace

Result<void> Extractor::whiteout(archive_entry* e, const std::string& dir,
                                 const std::string& base) {
  if (base == kOpaque) return opaque(dir);
  if (base.starts_with(kMetaPrefix)) return ok();  // meaningless outside aufs
  std::string name = base.substr(4);
  if (name.empty() || name == "." || name == "..")
    return Error{Errc::InvalidArgument, 0, "invalid whiteout name"};
  std::string target = dir.empty() ? name : dir + "/" + name;
  // A whiteout hides lower layers only; this layer's own entry stays.
  if (written_.contains(target)) return ok();
  if (mode_ == WhiteoutMode::Overlay) {
    int pfd = BERTH_TRY(parent(dir));
    // overlayfs(5): a whiteout is a character device with 0/0 device number.
    if (::mknodat(pfd, name.c_str(), S_IFCHR, makedev(0, 0)) != 0 && errno != EEXIST)
      return sys_error("mknod whiteout");
    return set_owner(e, -1, pfd, name);
  }
  int pfd = BERTH_TRY(existing_parent(dir));
  if (pfd < 0) return ok();  // nothing below to delete
  return remove_child(pfd, dir, name);
}

Result<void> Extractor::opaque(const std::string& dir) {
  int fd = BERTH_TRY(parent(dir));  // the opaque dir itself
  if (mode_ == WhiteoutMode::Overlay) {
    // setxattr (not l-): the magic link of our own O_PATH fd must be followed.
    std::string p = proc_fd_path(fd);
    if (::setxattr(p.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
      return sys_error("set trusted.overlay.opaque");
  } else {
    int rd = open_beneath(fd, "", O_RDONLY | O_DIRECTORY);
    if (rd < 0) return lookup_error(dir, -rd);
    Fd d(rd);
    BERTH_TRY(clear_lower(d.get(), dir, 0));
  }
  if (!dir.empty()) mark_written(dir);
  return ok();
}

// Removes what lower layers put in `dir` (open at dirfd): every child this
// layer did not write; directories this layer wrote are cleared the same way.
Result<void> Extractor::clear_lower(int dirfd, const std::string& dir, int depth) {
  if (depth > 4096) return Error{Errc::InvalidArgument, 0, "directory tree too deep"};
  std::vector<std::string> names;
  {
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return sys_error("dup");
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return sys_error("fdopendir");
    }
    while (dirent* ent = ::readdir(d)) {
      std::string_view n = ent->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(d);
  }
  for (const auto& n : names) {
    std::string path = dir.empty() ? n : dir + "/" + n;
    if (!written_.contains(path)) {
      BERTH_TRY(remove_child(dirfd, dir, n));
      continue;
    }
    int child = open_beneath(dirfd, n, O_RDONLY | O_DIRECTORY);
    if (child == -ENOTDIR || child == -ELOOP) continue;  // this layer's file or symlink
    if (child < 0) return lookup_error(path, -child);
    Fd c(child);
    BERTH_TRY(clear_lower(c.get(), path, depth + 1));
  }
  return ok();
}

}  // namespace berth::snapshot
