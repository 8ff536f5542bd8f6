// volume/copy_up.h — docker's "copy-up": a new, empty volume mounted over a
// path that holds files in the image receives a copy of those files first.
// Depends on: base.
#pragma once

#include <string>

#include "base/result.h"

namespace berth::volume {

// Copies the tree under `src_dir` (an open directory fd, borrowed; usually
// resolved inside a detached rootfs) into `dst_dir` (an existing directory,
// normally empty): directories, regular files (hard links kept as links),
// symlinks (targets copied verbatim, never followed), fifos and device
// nodes, with their owner, mode (incl. setuid/sticky) and mtimes; dst_dir
// itself takes src_dir's owner and mode, as docker does. Entries that exist
// in dst_dir already are left alone. Nesting is bounded (512 levels:
// InvalidArgument beyond). Errors name the path that failed; what was copied
// before stays (the caller owns dst_dir).
Result<void> copy_up(int src_dir, const std::string& dst_dir);

// True when `dir` has no entries (or does not exist).
bool dir_is_empty(const std::string& dir);

}  // namespace berth::volume
