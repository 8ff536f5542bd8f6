// snapshot/entry_meta.cc — owner, mode, xattrs and times of extracted
// entries; directory modes/times deferred to the end.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include "snapshot/extractor.h"
#include "snapshot/fs_ops.h"

namespace berth::snapshot {

namespace {

// overlayfs' own control xattrs (opaque, redirect, metacopy, origin...):
// a layer must not forge them; berth writes the opaque marker itself.
bool forbidden_xattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

}  // namespace

// fd >= 0: the entry's own fd. Else pfd + name (name "" = pfd itself).
Result<void> Extractor::set_owner(archive_entry* e, int fd, int pfd, const std::string& name) {
  auto uid = static_cast<uid_t>(archive_entry_uid(e));
  auto gid = static_cast<gid_t>(archive_entry_gid(e));
  int rc = fd >= 0 ? ::fchown(fd, uid, gid)
                   : ::fchownat(pfd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
  // Without root, owners cannot be kept (like tar --no-same-owner).
  if (rc != 0 && !(errno == EPERM && !privileged_)) return sys_error("chown");
  return ok();
}

Result<void> Extractor::set_xattrs(archive_entry* e, int fd, int pfd, const std::string& name) {
  if (archive_entry_xattr_reset(e) == 0) return ok();
  std::string path;
  if (fd < 0) path = proc_fd_path(pfd, name);
  const char* xname = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
    if (!xname || forbidden_xattr(xname)) continue;
    // l*xattr: the entry (possibly a symlink) itself, never its target.
    int rc = fd >= 0 ? ::fsetxattr(fd, xname, value, size, 0)
                     : ::lsetxattr(path.c_str(), xname, value, size, 0);
    if (rc == 0) continue;
    if (errno == ENOTSUP) continue;  // the filesystem has no xattrs of this kind
    // user.* is refused by the kernel on symlinks and devices; trusted.* and
    // security.* need privileges the caller may not have.
    if (errno == EPERM && (!privileged_ || std::string_view(xname).starts_with("user."))) continue;
    return sys_error(fmt::format("setxattr {}", xname));
  }
  return ok();
}

void Extractor::entry_times(archive_entry* e, struct timespec times[2]) {
  struct timespec mtime = {0, UTIME_OMIT};
  if (archive_entry_mtime_is_set(e)) mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  struct timespec atime = mtime;
  // docker: the access time is the header's, but never before the mtime.
  if (archive_entry_atime_is_set(e) && mtime.tv_nsec != UTIME_OMIT) {
    struct timespec a = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
    if (a.tv_sec > mtime.tv_sec || (a.tv_sec == mtime.tv_sec && a.tv_nsec > mtime.tv_nsec))
      atime = a;
  }
  times[0] = atime;
  times[1] = mtime;
}

void Extractor::defer_dir(const std::string& path, archive_entry* e) {
  DirMeta m;
  m.path = path;
  m.mode = archive_entry_perm(e);
  entry_times(e, m.times);
  auto [it, fresh] = dir_index_.try_emplace(path, dirs_.size());
  if (fresh) {
    dirs_.push_back(std::move(m));
  } else {
    dirs_[it->second] = std::move(m);  // the last entry for a dir wins
  }
}

Result<void> Extractor::finish_dirs() {
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    int fd = open_beneath(root_fd_, it->path, O_RDONLY | O_DIRECTORY);
    // Replaced or deleted by a later entry: its metadata no longer applies.
    if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP) continue;
    if (fd < 0) return lookup_error(it->path, -fd).context("directory metadata");
    Fd d(fd);
    if (::fchmod(fd, it->mode) != 0) return sys_error(fmt::format("chmod \"{}\"", it->path));
    if (::futimens(fd, it->times) != 0) return sys_error(fmt::format("utimes \"{}\"", it->path));
  }
  return ok();
}

}  // namespace berth::snapshot
