// image/tar_io.h — libarchive glue for save/load/import: a tar writer into a
// ByteSink, and an extractor of an uploaded tarball (plain, gzip, zstd, xz)
// into a private directory that refuses entries escaping it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "image/service.h"

struct archive;

namespace berth::image {

class TarWriter {
 public:
  static Result<std::unique_ptr<TarWriter>> open(const ByteSink& sink);
  ~TarWriter();
  Result<void> add_dir(const std::string& name);
  // A directory with the given permission bits, owner and mtime (seconds).
  Result<void> add_dir(const std::string& name, unsigned perm, int64_t uid, int64_t gid,
                       int64_t mtime);
  Result<void> add_bytes(const std::string& name, std::string_view data);
  // Streams a file (its size is taken from fstat).
  Result<void> add_file(const std::string& name, int fd);
  Result<void> close();

  struct SinkState {
    const ByteSink* sink = nullptr;
    std::optional<Error> error;
  };

 private:
  TarWriter() = default;
  Result<void> check(int rc, const std::string& what);
  archive* a_ = nullptr;
  std::unique_ptr<SinkState> state_;
  bool closed_ = false;
};

// Extracts regular files and directories of the tarball under `dir` (which
// must exist). Symlinks and hardlinks are not created: they are recorded in
// `links` (archive path -> target archive path, resolved) so callers can
// follow docker-archive's shared-layer links. InvalidArgument naming the
// entry for absolute paths, "..", or link targets outside the archive.
Result<void> extract_archive(const ByteSource& src, const std::string& dir,
                             std::map<std::string, std::string>& links);

}  // namespace berth::image
