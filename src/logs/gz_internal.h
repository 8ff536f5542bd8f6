// logs/gz_internal.h — compressed rotated log files (json-file "compress",
// the "local" driver): gzip of a rotated file, and what a reader needs to
// read one back. Internal to the logs module (the writer, the reader and
// the tests use it).
//
// A rotated file path.k is compressed into path.k.gz (one gzip member, zlib)
// and then unlinked. The gzip header's comment records the identity of the
// plain file it came from (FileId), so a reader can tell that path.1 it holds
// open and the path.2.gz it meets after a rotation are the same entries, and
// a follower can find where its file went. Crash-safe: the .gz appears under
// its name only when complete (an O_TMPFILE linked in, or a ".tmp" renamed),
// and the plain file goes only after that; a reader that meets both uses the
// plain one.
//
// zlib rather than libarchive: the writer runs inside berth-monitor, a static
// binary whose per-container memory is budgeted, and a static libarchive
// brings a dozen archive formats and their libraries for one gzip stream.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace berth::logs {

// A file's identity across renames and compression: device and inode, told
// apart from a later file on a reused inode by its birth time, by the
// inode's generation where the filesystem keeps one (FS_IOC_GETVERSION, e.g.
// ext4), and by the writer's mark where the filesystem takes user xattrs.
// Birth times alone do not do it: they come from the kernel's coarse clock
// (one tick, 4 ms at HZ=250), and a rotation can unlink a file and create
// the next on the same inode within one tick. Filesystems without
// generations (tmpfs) still tell such files apart by their marks.
// 0 / has_* false: unknown, matches anything.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t btime_ns = 0;
  uint32_t gen = 0;
  bool has_gen = false;
  uint64_t mark = 0;  // random, set by the writer when it created the file
  bool has_mark = false;
};
bool same_file(const FileId& a, const FileId& b);
Result<FileId> file_id(int fd);
// Of a path (follows no symlink); NotFound-like sys error (errno ENOENT) when absent.
Result<FileId> file_id(const std::string& path);

// The user xattr that holds a log file's mark (8 random bytes).
inline constexpr char kMarkXattr[] = "user.berth.log-id";
// Gives the file a mark unless it has one. A filesystem without user xattrs
// (or one that is full) leaves it unmarked, and its files are told apart as
// before; that is not an error.
void mark_file(int fd);
// Creates (or truncates) a live log file for appending, already marked when
// it first appears under `path` (an O_TMPFILE, marked, then linked in), so a
// reader never takes the identity of a new file without its mark. Where the
// filesystem has no O_TMPFILE: created by name, then marked.
Result<Fd> create_log_file(const std::string& path);

// Compresses the plain file `src` into `dst` (which must not exist yet), then
// unlinks `src`. A failure leaves `src` in place and no `dst`.
Result<void> compress_file(const std::string& src, const std::string& dst);

// The gzip comment that records a compressed file's source, and its parse
// (InvalidArgument when it is not one of ours). Exposed for the tests.
std::string format_source_comment(const FileId& id);
Result<FileId> parse_source_comment(const char* comment);

// The FileId a gzip log file records (read from its header; the fd's offset
// moves). InvalidArgument when it is not one of ours.
Result<FileId> gz_source(int gz_fd);

// The directory part of a path ("." when it has none).
std::string dir_of(const std::string& path);

// Decompresses a whole gzip file into an unlinked temporary file in `dir`
// (memory when the filesystem has no O_TMPFILE), positioned at 0. A corrupt
// or truncated stream keeps what decoded before the damage (a torn last
// line is skipped by the reader like any other).
Result<Fd> gunzip_to_temp(int gz_fd, const std::string& dir);

}  // namespace berth::logs
