// write_overlay_changes: an overlay upper dir as an OCI layer tar.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/digest.h"
#include "snapshot/fs_ops.h"
#include "snapshot/snapshotter.h"

namespace berth::snapshot {
namespace {

struct TarEnt {
  std::string path;
  unsigned type = 0;
  std::string data;
  std::string symlink, hardlink;
  unsigned perm = 0;
  int64_t uid = 0;
  std::map<std::string, std::string> xattrs;
};

std::vector<TarEnt> read_tar(const std::string& bytes) {
  std::vector<TarEnt> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    TarEnt t;
    t.path = archive_entry_pathname(e);
    t.type = archive_entry_filetype(e);
    t.perm = archive_entry_perm(e);
    t.uid = archive_entry_uid(e);
    if (archive_entry_symlink(e)) t.symlink = archive_entry_symlink(e);
    if (archive_entry_hardlink(e)) t.hardlink = archive_entry_hardlink(e);
    const char* name;
    const void* val;
    size_t len;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK)
      t.xattrs[name] = std::string(static_cast<const char*>(val), len);
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) t.data.append(buf, n);
    out.push_back(t);
  }
  archive_read_free(a);
  return out;
}

class ChangesTar : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-changes-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)remove_path(dir_); }
  void write(const std::string& rel, const std::string& data) {
    std::ofstream(dir_ + "/" + rel) << data;
  }
  Result<std::string> tar() {
    std::string out;
    BERTH_TRY(write_overlay_changes(dir_, [&](std::string_view d) -> Result<void> {
      out.append(d);
      return ok();
    }));
    return out;
  }
  std::string dir_;
};

TEST_F(ChangesTar, EmptyDirIsDockersEmptyLayer) {
  auto t = tar();
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->size(), 1024u);
  EXPECT_EQ(sha256_of(*t).str(),
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
}

TEST_F(ChangesTar, FilesLinksWhiteoutsAndOpaqueDirs) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod 0/0, trusted.* xattrs)";
  write("a.txt", "hello");
  ASSERT_EQ(::chmod((dir_ + "/a.txt").c_str(), 0640), 0);
  ASSERT_EQ(::lchown((dir_ + "/a.txt").c_str(), 1000, 1000), 0);
  ASSERT_EQ(::lsetxattr((dir_ + "/a.txt").c_str(), "trusted.berth", "1", 1, 0), 0);
  ASSERT_EQ(::mkdir((dir_ + "/d").c_str(), 0755), 0);
  ASSERT_EQ(::lsetxattr((dir_ + "/d").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  write("d/x", "inside");
  ASSERT_EQ(::mkdir((dir_ + "/e").c_str(), 0700), 0);
  ASSERT_EQ(::lsetxattr((dir_ + "/e").c_str(), "trusted.overlay.impure", "y", 1, 0), 0);
  ASSERT_EQ(::mknod((dir_ + "/e/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::mknod((dir_ + "/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::link((dir_ + "/a.txt").c_str(), (dir_ + "/h").c_str()), 0);
  ASSERT_EQ(::symlink("a.txt", (dir_ + "/l").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir_ + "/p").c_str(), 0600), 0);
  ASSERT_EQ(::mknod((dir_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);

  auto t = tar();
  ASSERT_TRUE(t) << t.error().message;
  auto ents = read_tar(*t);
  std::vector<std::string> names;
  for (const auto& e : ents) names.push_back(e.path);
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "d/", "d/.wh..wh..opq", "d/x", "e/",
                                             "e/.wh.gone", ".wh.gone", "h", "l", "null", "p"}));
  std::map<std::string, TarEnt> by;
  for (const auto& e : ents) by[e.path] = e;
  EXPECT_EQ(by["a.txt"].data, "hello");
  EXPECT_EQ(by["a.txt"].perm, 0640u);
  EXPECT_EQ(by["a.txt"].uid, 1000);
  EXPECT_EQ(by["a.txt"].xattrs["trusted.berth"], "1");
  EXPECT_EQ(by["d/"].type, static_cast<unsigned>(AE_IFDIR));
  EXPECT_TRUE(by["d/"].xattrs.empty()) << "overlay's own xattrs must not be in the layer";
  EXPECT_TRUE(by["e/"].xattrs.empty());
  EXPECT_EQ(by["e/"].perm, 0700u);
  EXPECT_EQ(by["d/.wh..wh..opq"].type, static_cast<unsigned>(AE_IFREG));
  EXPECT_EQ(by["d/.wh..wh..opq"].data, "");
  EXPECT_EQ(by[".wh.gone"].type, static_cast<unsigned>(AE_IFREG));
  EXPECT_EQ(by["d/x"].data, "inside");
  EXPECT_EQ(by["h"].hardlink, "a.txt");
  EXPECT_EQ(by["l"].type, static_cast<unsigned>(AE_IFLNK));
  EXPECT_EQ(by["l"].symlink, "a.txt");
  EXPECT_EQ(by["p"].type, static_cast<unsigned>(AE_IFIFO));
  EXPECT_EQ(by["null"].type, static_cast<unsigned>(AE_IFCHR));
}

TEST_F(ChangesTar, RedirectDirIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (trusted.* xattrs)";
  ASSERT_EQ(::mkdir((dir_ + "/moved").c_str(), 0755), 0);
  ASSERT_EQ(::lsetxattr((dir_ + "/moved").c_str(), "trusted.overlay.redirect", "/orig", 5, 0), 0);
  auto t = tar();
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::FailedPrecondition);
  EXPECT_NE(t.error().message.find("moved"), std::string::npos) << t.error().message;
}

TEST_F(ChangesTar, MissingDirIsAnError) {
  auto r = write_overlay_changes(dir_ + "/nope", [](std::string_view) { return ok(); });
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace berth::snapshot
