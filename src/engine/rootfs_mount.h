// engine/rootfs_mount.h — a container's root filesystem outside its monitor.
//
// The rootfs mounts (image snapshotter's overlay or bind) are stored in the
// container's row as JSON; the monitor mounts them while the container runs.
// For a stopped container, archive/export/cp need the same tree: they get it
// as a detached mount (fsopen/fsmount, never attached to any path), which the
// kernel takes down when the returned fd is closed, so nothing is left behind
// if the daemon dies midway.
// Depends on: base, monitor/protocol.h.
#pragma once

#include <vector>

#include "base/fd.h"
#include "base/json.h"
#include "base/result.h"
#include "monitor/protocol.h"

namespace berth::engine {

// The stored JSON array ([{type, source, options}]); malformed entries are
// skipped (the row was written by the engine itself).
std::vector<monitor::RootfsMount> decode_rootfs_mounts(const Json& j);

// An O_PATH-like fd of the root of `mounts` (exactly one overlay or bind
// mount). InvalidArgument for any other shape; the kernel's error otherwise.
Result<Fd> open_detached_rootfs(const std::vector<monitor::RootfsMount>& mounts);

// True only when `path` (absolute, inside the container) is certainly
// absent from the tree `mounts` would show: no layer directory (overlay's
// upper and lower dirs, or the bind source) has any file at that path. Any
// doubt (a symlink or whiteout on the way, "..", escaped overlay options,
// an unreadable layer) answers false, and the caller mounts the tree to
// look. Cheap: a few fstatat calls per layer, no mount.
bool rootfs_lacks_path(const std::vector<monitor::RootfsMount>& mounts, const std::string& path);

}  // namespace berth::engine
