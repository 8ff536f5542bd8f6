// base/file.h — whole-file reads and crash-safe writes.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

// Reads the whole file. NotFound when missing.
Result<std::string> read_file(const std::string& path);
// Writes data to path crash-safely: temp file in the same directory, fsync,
// rename over path, fsync the directory. On error the old file is untouched
// and no temp file is left behind.
Result<void> write_file_atomic(const std::string& path, std::string_view data, int mode = 0644);
// Plain write (open O_WRONLY|O_TRUNC, no create unless `create`); for kernel
// files (cgroupfs, /proc) where atomic rename makes no sense.
Result<void> write_file(const std::string& path, std::string_view data, bool create = false);

}  // namespace berth
