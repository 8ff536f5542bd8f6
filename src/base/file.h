// base/file.h — whole-file reads and crash-safe writes.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

// Reads the whole file. NotFound when missing.
Result<std::string> read_file(const std::string& path);
// Reads from fd's current offset to its end; `what` names it in errors.
Result<std::string> read_fd(int fd, const std::string& what);
enum class Durability {
  // fsync the file before the rename and the directory after it: survives
  // power loss. For anything that must outlive a reboot.
  Durable,
  // rename only: readers see the old or the new file, never a torn one, even
  // if the writer is killed. For state that cannot outlive a reboot anyway
  // (a runtime's record of live processes, pid files).
  ProcessCrashSafe,
};

// Writes data to path atomically: temp file in the same directory, (fsync,)
// rename over path(, fsync the directory). On error the old file is
// untouched and no temp file is left behind.
Result<void> write_file_atomic(const std::string& path, std::string_view data, int mode = 0644,
                               Durability d = Durability::Durable);
// Creates path, which must not exist (AlreadyExists-like sys error, errno
// EEXIST, when it does), and writes data: no temp file and no rename. Only
// for a directory nothing refers to yet (a container's, before its record is
// committed): a crash may leave a torn file there, which the cleanup of that
// directory removes. On error the partial file is removed.
Result<void> write_new_file(const std::string& path, std::string_view data, int mode = 0644);
// Writes the whole buffer to fd, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);

// Plain write (open O_WRONLY|O_TRUNC, no create unless `create`); for kernel
// files (cgroupfs, /proc) where atomic rename makes no sense.
Result<void> write_file(const std::string& path, std::string_view data, bool create = false);

}  // namespace berth
