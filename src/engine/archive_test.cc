#include "engine/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "base/test_temp_dir.h"
#include "engine/export.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

using Tmp = test::TempDir;

void put(const std::string& p, const std::string& content = "x") {
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream(p) << content;
}

struct TarEntry {
  std::string name;
  char type = 'f';   // f d l h
  std::string data;  // file content or link target
  int mode = 0644;
};

std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open2(
      a, &out, nullptr,
      [](struct archive*, void* c, const void* b, size_t n) -> la_ssize_t {
        static_cast<std::string*>(c)->append(static_cast<const char*>(b), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr, nullptr);
  for (auto& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.name.c_str());
    archive_entry_set_perm(e, t.mode);
    archive_entry_set_uid(e, 1234);
    archive_entry_set_gid(e, 5678);
    archive_entry_set_mtime(e, 1000000000, 0);
    if (t.type == 'd') archive_entry_set_filetype(e, AE_IFDIR);
    if (t.type == 'f') {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(t.data.size()));
    }
    if (t.type == 'l') {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, t.data.c_str());
    }
    if (t.type == 'h') {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, t.data.c_str());
    }
    archive_write_header(a, e);
    if (t.type == 'f') archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// name -> (type char, content or link target)
std::vector<std::pair<std::string, std::string>> read_tar(const std::string& tar) {
  std::vector<std::pair<std::string, std::string>> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, tar.data(), tar.size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string v;
    mode_t t = archive_entry_filetype(e);
    if (archive_entry_hardlink(e)) {
      v = std::string("h:") + archive_entry_hardlink(e);
    } else if (t == AE_IFLNK) {
      v = std::string("l:") + archive_entry_symlink(e);
    } else if (t == AE_IFDIR) {
      v = "d";
    } else {
      std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
      archive_read_data(a, data.data(), data.size());
      v = "f:" + data;
    }
    out.emplace_back(archive_entry_pathname(e), v);
  }
  archive_read_free(a);
  return out;
}

ByteSourceFn source(const std::string& data) {
  auto sent = std::make_shared<bool>(false);
  return [data, sent]() -> Result<std::string> {
    if (*sent) return std::string();
    *sent = true;
    return data;
  };
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = t_.path() + "/root";
    put(root_ + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    put(root_ + "/dir/a", "A");
    put(root_ + "/dir/sub/b", "BB");
    fs::create_symlink("/dir", root_ + "/link");
    fs::create_symlink("../../../../../..", root_ + "/up");
    fs::create_directories(root_ + "/tmp");
    fs::create_hard_link(root_ + "/dir/a", root_ + "/dir/a2");
    auto fd = open_root(root_);
    ASSERT_TRUE(fd);
    fd_ = std::move(*fd);
  }
  Tmp t_;
  std::string root_;
  Fd fd_;
};

TEST_F(ArchiveTest, Stat) {
  auto s = archive_stat(fd_.get(), "/etc/passwd");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "passwd");
  EXPECT_EQ(s->size, 26);
  EXPECT_EQ(s->mode & 0777, 0644u);
  EXPECT_EQ(s->mode & (1u << 31), 0u);
  auto d = archive_stat(fd_.get(), "dir");
  ASSERT_TRUE(d);
  EXPECT_NE(d->mode & (1u << 31), 0u);
  auto l = archive_stat(fd_.get(), "/link");
  ASSERT_TRUE(l);
  EXPECT_NE(l->mode & (1u << 27), 0u);
  EXPECT_EQ(l->link_target, "/dir");
  auto up = archive_stat(fd_.get(), "/up");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->link_target, "/");  // clamped at the container's root
  auto dot = archive_stat(fd_.get(), "/link/.");
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->name, ".");
  EXPECT_NE(dot->mode & (1u << 31), 0u);
  auto rootst = archive_stat(fd_.get(), "/");
  ASSERT_TRUE(rootst);
  EXPECT_EQ(rootst->name, "/");
  auto missing = archive_stat(fd_.get(), "/nope/x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_EQ(go_file_mode(S_IFCHR | 0600), (1u << 26) | (1u << 21) | 0600u);
  EXPECT_EQ(go_file_mode(S_IFREG | S_ISUID | 0755), (1u << 23) | 0755u);
}

TEST_F(ArchiveTest, GetDirectoryFileAndLink) {
  std::string tar;
  ByteSinkFn sink = [&](std::string_view d) -> Result<void> {
    tar.append(d);
    return ok();
  };
  auto s = archive_get(fd_.get(), "/dir", sink);
  ASSERT_TRUE(s) << s.error().message;
  auto entries = read_tar(tar);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0], std::make_pair(std::string("dir/"), std::string("d")));
  EXPECT_EQ(entries[1], std::make_pair(std::string("dir/a"), std::string("f:A")));
  EXPECT_EQ(entries[2], std::make_pair(std::string("dir/a2"), std::string("h:dir/a")));
  EXPECT_EQ(entries[3], std::make_pair(std::string("dir/sub/"), std::string("d")));
  EXPECT_EQ(entries[4], std::make_pair(std::string("dir/sub/b"), std::string("f:BB")));

  tar.clear();
  ASSERT_TRUE(archive_get(fd_.get(), "/dir/.", sink));
  entries = read_tar(tar);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0].first, "./");  // directories end in "/", as in docker's tars
  EXPECT_EQ(entries[1].first, "./a");

  tar.clear();
  ASSERT_TRUE(archive_get(fd_.get(), "/link", sink));
  entries = read_tar(tar);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0], std::make_pair(std::string("link"), std::string("l:/dir")));

  tar.clear();
  ASSERT_TRUE(archive_get(fd_.get(), "/link/", sink));  // followed
  entries = read_tar(tar);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[1].first, "link/a");

  tar.clear();
  ASSERT_TRUE(archive_get(fd_.get(), "/up/etc/passwd", sink));  // stays inside the root
  entries = read_tar(tar);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].second, "f:root:x:0:0::/root:/bin/sh\n");
}

TEST_F(ArchiveTest, SinkErrorStopsTheStream) {
  ByteSinkFn sink = [](std::string_view) -> Result<void> {
    return make_error(Errc::Cancelled, "client went away");
  };
  auto r = archive_get(fd_.get(), "/dir", sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Cancelled);
}

TEST_F(ArchiveTest, PutExtractsInsideTheRoot) {
  std::string tar = make_tar({{"new", 'd', "", 0755},
                              {"new/file.txt", 'f', "hello", 0600},
                              {"new/ln", 'l', "/etc"},
                              {"new/ln/injected", 'f', "in root etc"},
                              {"new/hard", 'h', "new/file.txt"},
                              {"deep/er/x", 'f', "auto parents"}});
  auto r = archive_put(fd_.get(), "/tmp", source(tar), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*read_file(root_ + "/tmp/new/file.txt"), "hello");
  EXPECT_EQ(*read_file(root_ + "/etc/injected"), "in root etc");  // via the in-root symlink
  EXPECT_EQ(*read_file(root_ + "/tmp/deep/er/x"), "auto parents");
  struct stat a, b;
  ASSERT_EQ(stat((root_ + "/tmp/new/file.txt").c_str(), &a), 0);
  ASSERT_EQ(stat((root_ + "/tmp/new/hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 07777, 0600u);
  EXPECT_EQ(a.st_mtime, 1000000000);
  if (geteuid() == 0) {
    EXPECT_EQ(a.st_uid, 1234u);
    // chown_to overrides the tar's owners.
    PutOptions o;
    o.chown_to = PutOptions::Owner{42, 43};
    ASSERT_TRUE(archive_put(fd_.get(), "/tmp", source(make_tar({{"owned", 'f', "o"}})), o));
    ASSERT_EQ(stat((root_ + "/tmp/owned").c_str(), &a), 0);
    EXPECT_EQ(a.st_uid, 42u);
    EXPECT_EQ(a.st_gid, 43u);
  }
  // A destination that is an escaping symlink still lands in the root.
  ASSERT_TRUE(archive_put(fd_.get(), "/up/tmp", source(make_tar({{"via-up", 'f', "u"}})), {}));
  EXPECT_EQ(*read_file(root_ + "/tmp/via-up"), "u");
}

TEST_F(ArchiveTest, PutRefusesEscapes) {
  auto r = archive_put(fd_.get(), "/tmp", source(make_tar({{"../../evil", 'f', "x"}})), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("outside of"), std::string::npos);
  r = archive_put(fd_.get(), "/tmp", source(make_tar({{"h", 'h', "../../etc/passwd"}})), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  // An absolute name is taken relative to the destination.
  ASSERT_TRUE(archive_put(fd_.get(), "/tmp", source(make_tar({{"/abs", 'f', "a"}})), {}));
  EXPECT_TRUE(fs::exists(root_ + "/tmp/abs"));
}

TEST_F(ArchiveTest, PutDestinationAndOverwriteRules) {
  auto r = archive_put(fd_.get(), "/etc/passwd", source(make_tar({{"x", 'f', "x"}})), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "extraction point is not a directory");
  r = archive_put(fd_.get(), "/missing", source(make_tar({{"x", 'f', "x"}})), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  r = archive_put(fd_.get(), "/tmp", source("this is not a tar file at all, not even close"), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  // An empty body extracts nothing, as docker's does; the destination must still be valid.
  ASSERT_TRUE(archive_put(fd_.get(), "/tmp", source(""), {}));
  EXPECT_EQ(archive_put(fd_.get(), "/missing", source(""), {}).error().code, Errc::NotFound);

  PutOptions strict;
  strict.no_overwrite_dir_non_dir = true;
  r = archive_put(fd_.get(), "/", source(make_tar({{"dir", 'f', "file over dir"}})), strict);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot overwrite directory"), std::string::npos);
  r = archive_put(fd_.get(), "/etc", source(make_tar({{"passwd", 'd', "", 0755}})), strict);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot overwrite non-directory"), std::string::npos);
  // Without the flag the old entry is replaced.
  ASSERT_TRUE(archive_put(fd_.get(), "/", source(make_tar({{"dir", 'f', "now a file"}})), {}));
  EXPECT_EQ(*read_file(root_ + "/dir"), "now a file");
}

TEST_F(ArchiveTest, ExportWholeRoot) {
  std::string tar;
  ByteSinkFn sink = [&](std::string_view d) -> Result<void> {
    tar.append(d);
    return ok();
  };
  ASSERT_TRUE(export_root(fd_.get(), sink));
  auto entries = read_tar(tar);
  std::vector<std::string> names;
  for (auto& e : entries) names.push_back(e.first);
  EXPECT_EQ(names, (std::vector<std::string>{"dir/", "dir/a", "dir/a2", "dir/sub/", "dir/sub/b",
                                             "etc/", "etc/passwd", "link", "tmp/", "up"}));
}

}  // namespace
}  // namespace berth::engine
