// rootfs_lacks_path: says "absent" only when no layer can hold the path.
#include "engine/rootfs_mount.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

class RootfsLacksPath : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "berth-layers-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    for (const char* d : {"upper", "l1", "l2"}) fs::create_directories(dir_ + "/" + d);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<monitor::RootfsMount> overlay() {
    return {{"overlay",
             "overlay",
             {"lowerdir=" + dir_ + "/l1:" + dir_ + "/l2", "upperdir=" + dir_ + "/upper",
              "workdir=" + dir_ + "/work"}}};
  }
  std::string dir_;
};

TEST_F(RootfsLacksPath, AbsentEverywhereIsAbsent) {
  fs::create_directories(dir_ + "/l2/var/lib");
  EXPECT_TRUE(rootfs_lacks_path(overlay(), "/data"));
  EXPECT_TRUE(rootfs_lacks_path(overlay(), "/var/lib/app"));
  EXPECT_TRUE(rootfs_lacks_path(overlay(), "/var/lib/app/"));
  // A file on the way: nothing can be below it in that layer.
  std::ofstream(dir_ + "/l1/etc");
  EXPECT_TRUE(rootfs_lacks_path(overlay(), "/etc/app"));
}

TEST_F(RootfsLacksPath, PresentInAnyLayerIsNotAbsent) {
  fs::create_directories(dir_ + "/l2/var/lib/app");
  EXPECT_FALSE(rootfs_lacks_path(overlay(), "/var/lib/app"));
  fs::create_directories(dir_ + "/upper/data");
  EXPECT_FALSE(rootfs_lacks_path(overlay(), "/data"));
  std::ofstream(dir_ + "/l1/file");
  EXPECT_FALSE(rootfs_lacks_path(overlay(), "/file"));
  // The bind (copy snapshotter) form.
  std::vector<monitor::RootfsMount> bind{{"bind", dir_ + "/l2", {}}};
  EXPECT_FALSE(rootfs_lacks_path(bind, "/var/lib/app"));
  EXPECT_TRUE(rootfs_lacks_path(bind, "/data"));
}

TEST_F(RootfsLacksPath, DoubtMeansNotAbsent) {
  // A symlink may point into another layer: the layers cannot tell.
  fs::create_directories(dir_ + "/l2/run");
  fs::create_symlink("/run", dir_ + "/l1/var");
  EXPECT_FALSE(rootfs_lacks_path(overlay(), "/var/app"));
  EXPECT_FALSE(rootfs_lacks_path(overlay(), "/../etc"));
  EXPECT_FALSE(rootfs_lacks_path(overlay(), "/"));
  // Shapes it does not know.
  EXPECT_FALSE(rootfs_lacks_path({}, "/data"));
  EXPECT_FALSE(rootfs_lacks_path({{"tmpfs", "tmpfs", {}}}, "/data"));
  std::vector<monitor::RootfsMount> escaped{
      {"overlay", "overlay", {"lowerdir=" + dir_ + "/a\\:b", "upperdir=" + dir_ + "/upper"}}};
  EXPECT_FALSE(rootfs_lacks_path(escaped, "/data"));
  std::vector<monitor::RootfsMount> missing{{"bind", dir_ + "/nope", {}}};
  EXPECT_FALSE(rootfs_lacks_path(missing, "/data"));
  // A whiteout (0/0 char device, root only) hides lower layers.
  if (::geteuid() == 0) {
    ASSERT_EQ(::mknod((dir_ + "/upper/gone").c_str(), S_IFCHR | 0600, makedev(0, 0)), 0);
    EXPECT_FALSE(rootfs_lacks_path(overlay(), "/gone/x"));
  }
}

}  // namespace
}  // namespace berth::engine
