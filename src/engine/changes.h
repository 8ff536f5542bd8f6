// engine/changes.h — docker diff from an overlay upper directory.
//
// Walks `upper` in lexical order (Go's filepath.Walk order) and reports:
//  - a 0:0 character device (overlay whiteout) -> Deleted (kind 2);
//  - an entry that exists in a lower layer -> Modified (kind 0), except a
//    directory whose mode, size and mtime equal the lower one's (only a
//    parent of real changes; it still shows as Modified before an added or
//    deleted child, as docker does);
//  - anything else -> Added (kind 1);
//  - an opaque directory (trusted.overlay.opaque=y) that existed below ->
//    Modified, and every lower entry under it that the upper does not have
//    -> Deleted; entries below an opaque directory are Added (the lower
//    layers do not show there).
// The parent of an added or deleted entry appears as Modified (once, before
// it) unless it is "/" or already reported. Paths are absolute ("/etc/x").
// Depends on: base, engine/containers.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/containers.h"

namespace berth::engine {

Result<std::vector<Change>> overlay_changes(const std::string& upper,
                                            const std::vector<std::string>& lowers_top_first);

// Bytes under `dir` as docker's SizeRw counts them: st_size of every
// non-directory, a hard-linked inode once; 0 when `dir` does not exist.
// Never follows symlinks or leaves the filesystem of `dir`.
int64_t tree_size(const std::string& dir);

}  // namespace berth::engine
