// engine/export.h — docker export: a tar of a container's whole root.
//
// The root is a directory fd (a mounted rootfs, or /proc/<pid>/root of a
// running container). Mounts inside it (proc, sysfs, /dev, the hosts-file
// binds, tmpfs) are not descended: a mount point is written as an empty
// directory (or empty file) with its own mode, as the bare rootfs would
// hold it. Entry names are relative ("bin/sh"), pax format, hard links
// within the tree kept.
// Depends on: base, sys, libarchive, engine/containers.h.
#pragma once

#include "base/result.h"
#include "engine/containers.h"

namespace berth::engine {

Result<void> export_root(int root_fd, const ByteSinkFn& sink);

}  // namespace berth::engine
