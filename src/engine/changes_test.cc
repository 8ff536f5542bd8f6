#include "engine/changes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/test_temp_dir.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

using Tmp = test::TempDir;

void put(const std::string& p, const std::string& content = "x") {
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream(p) << content;
}

std::vector<std::string> render(const std::vector<Change>& cs) {
  std::vector<std::string> out;
  for (auto& c : cs) out.push_back(std::string(1, "CAD"[c.kind]) + " " + c.path);
  return out;
}

// Gives an upper directory the same metadata as its lower twin, as overlay
// does for a directory copied up only because a child changed.
void same_meta(const std::string& upper, const std::string& lower) {
  struct stat st;
  ASSERT_EQ(stat(lower.c_str(), &st), 0);
  chmod(upper.c_str(), st.st_mode & 07777);
  struct timespec ts[2] = {st.st_atim, st.st_mtim};
  utimensat(AT_FDCWD, upper.c_str(), ts, 0);
}

TEST(Changes, AddModifyDeleteInDockerOrder) {
  if (geteuid() != 0) GTEST_SKIP() << "whiteouts need root (mknod 0:0)";
  Tmp t;
  std::string lower = t.path() + "/lower", upper = t.path() + "/upper";
  put(lower + "/etc/passwd");
  put(lower + "/etc/hosts");
  put(lower + "/bin/sh");
  put(lower + "/var/log/old.log");
  fs::create_directories(upper);
  // Modified file in a directory copied up unchanged.
  put(upper + "/etc/passwd", "changed");
  same_meta(upper + "/etc", lower + "/etc");
  // Deleted file.
  fs::create_directories(upper + "/bin");
  same_meta(upper + "/bin", lower + "/bin");
  ASSERT_EQ(mknod((upper + "/bin/sh").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  // New directory tree.
  put(upper + "/new/dir/file");
  // New file at the root.
  put(upper + "/a.txt");
  auto r = overlay_changes(upper, {lower});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(render(*r),
            (std::vector<std::string>{"A /a.txt", "C /bin", "D /bin/sh", "C /etc/passwd", "A /new",
                                      "A /new/dir", "A /new/dir/file"}));
}

TEST(Changes, ModifiedDirectoryAndOpaque) {
  if (geteuid() != 0) GTEST_SKIP() << "trusted xattrs need root";
  Tmp t;
  std::string lower = t.path() + "/lower", upper = t.path() + "/upper";
  put(lower + "/data/one");
  put(lower + "/data/two");
  put(lower + "/keep/x");
  fs::create_directories(upper + "/data");
  put(upper + "/data/two", "new");
  ASSERT_EQ(setxattr((upper + "/data").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  // A directory whose own metadata changed (mode) is reported.
  fs::create_directories(upper + "/keep");
  chmod((upper + "/keep").c_str(), 0700);
  auto r = overlay_changes(upper, {lower});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(render(*r),
            (std::vector<std::string>{"C /data", "D /data/one", "A /data/two", "C /keep"}));
}

TEST(Changes, LowerWhiteoutsHideEntries) {
  if (geteuid() != 0) GTEST_SKIP() << "whiteouts need root";
  Tmp t;
  std::string l1 = t.path() + "/l1", l2 = t.path() + "/l2", upper = t.path() + "/upper";
  put(l2 + "/f");
  fs::create_directories(l1);
  ASSERT_EQ(mknod((l1 + "/f").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  put(upper + "/f");  // re-created on top of a file deleted by a lower layer
  auto r = overlay_changes(upper, {l1, l2});
  ASSERT_TRUE(r);
  EXPECT_EQ(render(*r), (std::vector<std::string>{"A /f"}));
}

TEST(Changes, EmptyAndMissing) {
  Tmp t;
  auto r = overlay_changes(t.path(), {});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_FALSE(overlay_changes(t.path() + "/missing", {}));
}

TEST(TreeSize, CountsFilesOnceAndNeverFollowsLinks) {
  Tmp t;
  std::string d = t.path() + "/upper";
  put(d + "/a", std::string(1000, 'a'));
  put(d + "/sub/deeper/b", std::string(24, 'b'));
  ASSERT_EQ(::link((d + "/a").c_str(), (d + "/sub/a-again").c_str()), 0);
  ASSERT_EQ(::symlink("/etc", (d + "/etc-link").c_str()), 0);  // 4 bytes, not /etc's
  put(t.path() + "/outside", std::string(5000, 'o'));
  EXPECT_EQ(tree_size(d), 1000 + 24 + 4);
  EXPECT_EQ(tree_size(t.path() + "/missing"), 0);
  EXPECT_EQ(tree_size(d + "/a"), 0);  // not a directory
}

}  // namespace
}  // namespace berth::engine
