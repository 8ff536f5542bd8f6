// engine/archive.h — docker's /containers/{id}/archive (GET, HEAD, PUT)
// inside a container root given as a directory fd: a running container's
// /proc/<pid>/root, or a stopped container's mounted rootfs directory.
//
// Every path is resolved with openat2(RESOLVE_IN_ROOT): "..", absolute
// symlinks and mount-point tricks never leave the root. As docker does, the
// last component of a requested path is not followed when it is a symlink
// (stat/get describe the link itself); earlier components are.
//
// get: a tar stream (libarchive, pax) of the path whose top entry is named
// like the requested path's last element ("dir/." -> entries "." and "./x",
// which is how `cp dir/. dst` copies contents). Directories recurse;
// symlinks are stored as links; devices/fifos as such; hard links inside
// the copied tree are kept as links.
// put: extracts a tar (plain or gzip/bzip2/xz/zstd, detected) into `dir`,
// which must exist (NotFound) and be a directory (InvalidArgument
// "extraction point is not a directory"). Entries whose names escape
// `dir` ("../x", "/x" is taken relative to dir as docker does) are refused
// with InvalidArgument, as are hard links whose target escapes. With
// no_overwrite_dir_non_dir, replacing a directory by a non-directory or the
// reverse fails ("cannot overwrite directory \"/a\" with non-directory
// \"/a\""); without it the old entry is removed first. Ownership: the
// tar's uid/gid, or `chown_to` for every entry when set (docker cp -a /
// copyUIDGID = the container user's ids). Nothing is written before the
// stream is known to be a tar; a failure mid-stream leaves what was
// extracted so far (docker does the same).
// NotFound messages are "<path>: no such file or directory"; the engine
// turns them into docker's "Could not find the file <p> in container <n>".
// Depends on: base, sys, libarchive, engine/containers.h.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "engine/containers.h"

namespace berth::engine {

// Opens a directory as a root fd (O_PATH|O_DIRECTORY|O_CLOEXEC).
Result<Fd> open_root(const std::string& dir);

// X-Docker-Container-Path-Stat values: name = last element of the path as
// requested ("/" for the root), size, Go FileMode bits, mtime, link_target
// (for a symlink: the fully resolved absolute path inside the root).
Result<PathStat> archive_stat(int root_fd, const std::string& path);

Result<PathStat> archive_get(int root_fd, const std::string& path, const ByteSinkFn& sink);

struct PutOptions {
  bool no_overwrite_dir_non_dir = false;
  struct Owner {
    uid_t uid = 0;
    gid_t gid = 0;
  };
  std::optional<Owner> chown_to;
};
Result<void> archive_put(int root_fd, const std::string& dir, const ByteSourceFn& tar,
                         const PutOptions& o);

// Go's os.FileMode bits from a st_mode (dir 1<<31, symlink 1<<27, device
// 1<<26, named pipe 1<<25, socket 1<<24, setuid 1<<23, setgid 1<<22,
// char device 1<<21 (with device), sticky 1<<20, + permission bits).
uint32_t go_file_mode(mode_t m);

}  // namespace berth::engine
