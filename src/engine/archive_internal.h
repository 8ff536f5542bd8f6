// engine/archive_internal.h — the tar writer shared by archive_get and
// export_root, and in-root path helpers. Internal to the engine.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "engine/containers.h"

namespace berth::engine::archive_internal {

struct TreeOptions {
  // export: do not descend into other mounts (a mount point is written as
  // an empty directory / empty file).
  bool skip_mounts = false;
  // get: do not descend into proc/sysfs/cgroup/devpts/mqueue filesystems.
  bool skip_pseudo_fs = true;
};

// Writes a pax tar of the entry `name` in directory `parent_fd` (never
// following a symlink), recursing into directories, under the archive name
// `as` ("." or "etc" ...). `root_mnt_id` is the mount id of the tree's root
// (for skip_mounts). The sink receives the stream.
Result<void> write_tree(int parent_fd, const std::string& name, const std::string& as,
                        const TreeOptions& o, const ByteSinkFn& sink);

// Resolves `path` inside root (symlinks followed within the root, ".."
// clamped) to its canonical absolute path, without requiring the final
// components to exist. follow_last = false keeps a final symlink.
Result<std::string> canonical_in_root(int root_fd, const std::string& path, bool follow_last);

}  // namespace berth::engine::archive_internal
