// store/content/fs_util.h — file-system steps shared by the blob store and
// its ingests (internal to store/content).
// Every function borrows the fds it is given and reports errors with the
// path; ENOSPC/EDQUOT/EFBIG get a plain-words message because a full disk is
// the most likely failure of a pull and the user must recognise it.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <string>
#include <string_view>

#include "base/digest.h"
#include "base/fd.h"
#include "base/result.h"

namespace berth::content::detail {

// Io error "what: no space left on device" (ENOSPC), "...: disk quota
// exceeded" (EDQUOT), "...: file too large" (EFBIG); otherwise sys_error.
Error io_error(std::string_view what, int err);

// Writes all of data at the current offset of fd. On failure the caller
// decides how to roll back (ingest truncates to its last good offset).
Result<void> write_fully(int fd, std::string_view data, std::string_view what);

// Reads fd from offset 0 to its end into the hash; returns the bytes read.
// When copy_to >= 0 every chunk is also appended to that fd.
Result<int64_t> hash_fd(int fd, Sha256& h, std::string_view what, int copy_to = -1);

// fsync of a directory (after a rename or unlink in it), by path.
Result<void> fsync_dir(const std::string& dir);

// Unlinks every entry of the flat directory `dir` (its "lock" file last, so
// a writer that creates a fresh lock after that never sees its files
// removed), then rmdirs it. Best effort: errors leave a directory that a
// later prune removes.
void remove_ingest_dir(const std::string& dir);

std::chrono::system_clock::time_point mtime_of(const struct stat& st);

}  // namespace berth::content::detail
