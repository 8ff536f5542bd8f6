// snapshot/fs_ops.h — tree operations that never follow symlinks: safe
// lookup beneath a directory fd, recursive removal, recursive copy.
// All functions are thread-safe (no shared state); fds are borrowed.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::snapshot {

// openat2(dirfd, path, flags | O_CLOEXEC) with RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: no component of `path` may be
// a symlink (ELOOP) or leave dirfd. Returns the fd, or -errno.
int open_beneath(int dirfd, const std::string& path, int flags);

// "/proc/self/fd/N" or "/proc/self/fd/N/name": reaches an fd's file (or a
// child of a directory fd) for calls that have no *at() or f*() form usable
// with an O_PATH fd (the *xattr family). The magic link is only ever the
// directory we resolved ourselves; the final component is not followed when
// used with l*xattr.
std::string proc_fd_path(int fd, std::string_view name = {});

// rm -rf of dirfd/name without following symlinks. Success when name does
// not exist. Conflict when a directory in the tree is a mount point (never
// deletes into another filesystem).
Result<void> remove_at(int dirfd, const std::string& name);
Result<void> remove_path(const std::string& path);

// Copies the tree at `src` to `dst` (which must not exist), keeping file
// types, content (reflinked when the filesystem can), owners, modes incl.
// setuid/setgid/sticky, atimes/mtimes, xattrs, hardlinks (within the tree),
// device nodes, fifos and sockets. On error a partial dst is left for the
// caller to remove (the snapshotter copies into its tmp dir).
Result<void> copy_tree(const std::string& src, const std::string& dst);

}  // namespace berth::snapshot
