// snapshot/extractor.h — the entry writer behind extract_layer (internal).
//
// Safety model: the tmp dir is ours alone, but its content comes from the
// tar, so every lookup inside it is done with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS) from the root fd (or from a parent fd obtained that
// way), and every final component is created or changed with an *at() call
// that does not follow it. A symlink written by an earlier entry is
// therefore never traversed (ELOOP -> refusal), whatever it points to.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/fd.h"
#include "snapshot/extract.h"

namespace berth::snapshot {

class Extractor {
 public:
  Extractor(LayerReader& r, int root_fd, WhiteoutMode mode);
  Result<int64_t> run();

 private:
  // extract.cc: entries
  Result<void> entry(archive_entry* e);
  Result<void> regular(archive_entry* e, int pfd, const std::string& dir, const std::string& name);
  Result<void> directory(archive_entry* e, int pfd, const std::string& dir, const std::string& name,
                         const std::string& path);
  Result<void> hardlink(int pfd, const std::string& dir, const std::string& name,
                        const std::string& path, const char* target);
  Result<void> special(archive_entry* e, int pfd, const std::string& dir, const std::string& name);

  // extract_paths.cc: lookups and removal inside the root
  // Directory `dir` (relative, cleaned) as an O_PATH fd, creating missing
  // components (0755). The fd is borrowed: valid until the next call.
  Result<int> parent(const std::string& dir);
  // Like parent() without creating: -1 when `dir` does not exist.
  Result<int> existing_parent(const std::string& dir);
  // Removes dir/name (any type, recursively) so an entry can take its place.
  Result<void> remove_child(int pfd, const std::string& dir, const std::string& name);
  Error lookup_error(const std::string& path, int err) const;
  void mark_written(const std::string& path);

  // entry_meta.cc: owner, mode, xattrs, times
  Result<void> set_owner(archive_entry* e, int fd, int pfd, const std::string& name);
  Result<void> set_xattrs(archive_entry* e, int fd, int pfd, const std::string& name);
  static void entry_times(archive_entry* e, struct timespec times[2]);
  void defer_dir(const std::string& path, archive_entry* e);
  Result<void> finish_dirs();

  // whiteout.cc
  Result<void> whiteout(archive_entry* e, const std::string& dir, const std::string& base);
  Result<void> opaque(const std::string& dir);
  Result<void> clear_lower(int dirfd, const std::string& dir, int depth);

  LayerReader& r_;
  int root_fd_;
  WhiteoutMode mode_;
  bool privileged_;
  std::string cached_dir_;  // parent() cache: most entries share their predecessor's dir
  Fd cached_fd_;
  // Paths written by this tar, with their ancestors: hardlink targets must
  // be among them; whiteouts and opaque markers spare them (they apply to
  // lower layers only, OCI image-spec layer.md).
  std::unordered_set<std::string> written_;
  struct DirMeta {
    std::string path;
    mode_t mode;
    struct timespec times[2];
  };
  // Directory modes and times are applied after the last entry: creating
  // children changes a dir's mtime, and a read-only mode would block them.
  std::vector<DirMeta> dirs_;
  std::unordered_map<std::string, size_t> dir_index_;
  int64_t size_ = 0;
};

}  // namespace berth::snapshot
