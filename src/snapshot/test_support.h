// snapshot/test_support.h — helpers for the snapshot unit tests only: tars
// built with libarchive's writer, byte sources, temp dirs.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "snapshot/fs_ops.h"
#include "snapshot/snapshotter.h"

namespace berth::snapshot::testing {

struct Ent {
  std::string path;
  unsigned type = AE_IFREG;
  std::string data;
  unsigned perm = 0644;
  int64_t uid = 0, gid = 0;
  std::string symlink;   // AE_IFLNK target
  std::string hardlink;  // hardlink target (type ignored)
  unsigned major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  time_t mtime = 1600000000;
};

inline Ent file(std::string p, std::string data, unsigned perm = 0644) {
  Ent e;
  e.path = std::move(p);
  e.data = std::move(data);
  e.perm = perm;
  return e;
}
inline Ent dir(std::string p, unsigned perm = 0755) {
  Ent e;
  e.path = std::move(p);
  e.type = AE_IFDIR;
  e.perm = perm;
  return e;
}
inline Ent symlink(std::string p, std::string target) {
  Ent e;
  e.path = std::move(p);
  e.type = AE_IFLNK;
  e.symlink = std::move(target);
  e.perm = 0777;
  return e;
}
inline Ent hardlink(std::string p, std::string target) {
  Ent e;
  e.path = std::move(p);
  e.hardlink = std::move(target);
  return e;
}

enum class Comp { None, Gzip, Zstd };

inline std::string make_tar(const std::vector<Ent>& ents, Comp comp = Comp::None) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (comp == Comp::Gzip) archive_write_add_filter_gzip(a);
  if (comp == Comp::Zstd) archive_write_add_filter_zstd(a);
  auto write_cb = [](archive*, void* ud, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(ud)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  archive_write_set_bytes_in_last_block(a, 1);  // no padding after the compressed stream
  archive_write_open(a, &out, nullptr, write_cb, nullptr);
  for (const auto& e : ents) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.path.c_str());
    archive_entry_set_uid(en, e.uid);
    archive_entry_set_gid(en, e.gid);
    archive_entry_set_mtime(en, e.mtime, 0);
    if (!e.hardlink.empty()) {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_perm(en, e.perm);
      archive_entry_set_hardlink(en, e.hardlink.c_str());
      archive_entry_set_size(en, 0);
    } else {
      archive_entry_set_filetype(en, e.type);
      archive_entry_set_perm(en, e.perm);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(en, e.symlink.c_str());
      if (e.type == AE_IFCHR || e.type == AE_IFBLK) {
        archive_entry_set_rdevmajor(en, e.major);
        archive_entry_set_rdevminor(en, e.minor);
      }
      archive_entry_set_size(en, e.type == AE_IFREG ? static_cast<int64_t>(e.data.size()) : 0);
    }
    for (const auto& [k, v] : e.xattrs)
      archive_entry_xattr_add_entry(en, k.c_str(), v.data(), v.size());
    EXPECT_EQ(archive_write_header(a, en), ARCHIVE_OK) << archive_error_string(a);
    if (e.type == AE_IFREG && e.hardlink.empty() && !e.data.empty())
      archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// gzip of arbitrary bytes (libarchive's raw writer).
inline std::string make_gzip_of(const std::string& data) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  auto write_cb = [](archive*, void* ud, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(ud)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  archive_write_open(a, &out, nullptr, write_cb, nullptr);
  archive_entry* en = archive_entry_new();
  archive_entry_set_filetype(en, AE_IFREG);
  archive_entry_set_pathname(en, "data");
  archive_write_header(a, en);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(en);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Serves `data` in chunks of `chunk` bytes.
inline ByteSource source_of(std::string data, size_t chunk = 7001) {
  auto buf = std::make_shared<std::string>(std::move(data));
  auto pos = std::make_shared<size_t>(0);
  return [buf, pos, chunk]() -> Result<std::string> {
    size_t n = std::min(chunk, buf->size() - *pos);
    std::string out = buf->substr(*pos, n);
    *pos += n;
    return out;
  };
}

class TempDir {
 public:
  // Under $TMPDIR (default /tmp): run with TMPDIR on a tmpfs to test there.
  TempDir() {
    const char* base = ::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/berth-snap-XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp " << tmpl;
  }
  ~TempDir() { (void)remove_path(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline bool is_root() { return ::geteuid() == 0; }

// Skips a test that needs root, with its reason; under BERTH_TEST_ROOT=1
// (CI) the lack of root is a failure instead.
#define BERTH_REQUIRE_ROOT(why)                                                   \
  do {                                                                            \
    if (!::berth::snapshot::testing::is_root()) {                                 \
      const char* ci = ::getenv("BERTH_TEST_ROOT");                               \
      if (ci && std::string_view(ci) == "1") GTEST_FAIL() << "not root: " << why; \
      GTEST_SKIP() << why;                                                        \
    }                                                                             \
  } while (0)

// Entries of a directory (without . and ..); -1 when it cannot be read.
inline int count_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace berth::snapshot::testing
