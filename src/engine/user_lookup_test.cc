#include "engine/user_lookup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/test_temp_dir.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

using Tmp = test::TempDir;

void put(const std::string& p, const std::string& content) {
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream(p) << content;
}

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "# a comment\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
    "nohome:x:1001:1001::\n";
const char* kGroup =
    "root:x:0:\n"
    "daemon:x:1:\n"
    "wheel:x:10:app,other\n"
    "audio:x:29:app\n"
    "app:x:1000:\n"
    "staff:x:50:\n";

RootfsFileReader fixed(std::map<std::string, std::string> files) {
  return [files](const std::string& p) -> Result<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return make_error(Errc::NotFound, "{} not found", p);
    return it->second;
  };
}

TEST(UserLookup, EmptyIsRootWithHome) {
  auto u = resolve_user("", {}, fixed({{"/etc/passwd", kPasswd}, {"/etc/group", kGroup}}));
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "/root");
  EXPECT_EQ(u->name, "root");
}

TEST(UserLookup, NameGivesIdsHomeAndSupplementaryGroups) {
  auto u = resolve_user("app", {}, fixed({{"/etc/passwd", kPasswd}, {"/etc/group", kGroup}}));
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{1000, 10, 29}));
}

TEST(UserLookup, ExplicitGroupSkipsMembershipAndAcceptsNames) {
  auto r = fixed({{"/etc/passwd", kPasswd}, {"/etc/group", kGroup}});
  auto u = resolve_user("app:staff", {}, r);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->gid, 50u);
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{50}));  // the gid alone
  auto n = resolve_user("1000:7", {}, r);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->uid, 1000u);
  EXPECT_EQ(n->gid, 7u);
}

TEST(UserLookup, NumericUidWithoutEntry) {
  auto u = resolve_user("4242", {}, fixed({{"/etc/passwd", kPasswd}}));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->uid, 4242u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "/");
  // Also without any passwd file at all.
  auto v = resolve_user("7:8", {}, RootfsFileReader());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->uid, 7u);
  EXPECT_EQ(v->gid, 8u);
}

TEST(UserLookup, DockerMessages) {
  auto r = fixed({{"/etc/passwd", kPasswd}, {"/etc/group", kGroup}});
  auto u = resolve_user("nobody", {}, r);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "unable to find user nobody: no matching entries in passwd file");
  auto g = resolve_user("app:nogroup", {}, r);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().message, "unable to find group nogroup: no matching entries in group file");
  auto big = resolve_user("4294967295", {}, r);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::InvalidArgument);
  auto ga = resolve_user("app", {"nosuch"}, r);
  ASSERT_FALSE(ga);
  EXPECT_NE(ga.error().message.find("nosuch"), std::string::npos);
}

TEST(UserLookup, GroupAdd) {
  auto u = resolve_user("app", {"staff", "1234", "app"},
                        fixed({{"/etc/passwd", kPasswd}, {"/etc/group", kGroup}}));
  ASSERT_TRUE(u);
  // The primary gid first (dockerd's order), then wheel, audio (membership),
  // staff, 1234; "app" is the primary group again and is not repeated.
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{1000, 10, 29, 50, 1234}));
}

TEST(UserLookup, LayeredReaderHonoursWhiteoutsOpaqueAndSymlinks) {
  Tmp t;
  std::string top = t.path() + "/top", mid = t.path() + "/mid", base = t.path() + "/base";
  put(base + "/etc/passwd", "base:x:1:1::/:/bin/sh\n");
  put(base + "/etc/group", "g:x:5:\n");
  put(base + "/data/old", "old\n");
  put(mid + "/etc/passwd", "mid:x:2:2::/:/bin/sh\n");
  fs::create_directories(top + "/etc");
  auto reader = layered_reader({top, mid, base});
  auto p = reader("/etc/passwd");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, "mid:x:2:2::/:/bin/sh\n");
  EXPECT_EQ(*reader("/etc/group"), "g:x:5:\n");

  bool root = geteuid() == 0;
  if (root) {
    // A whiteout in the top layer hides the group file.
    ASSERT_EQ(mknod((top + "/etc/group").c_str(), S_IFCHR | 0600, makedev(0, 0)), 0);
    auto g = reader("/etc/group");
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().code, Errc::NotFound);
    // An opaque /data in mid hides base's /data/old.
    fs::create_directories(mid + "/data");
    ASSERT_EQ(setxattr((mid + "/data").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    EXPECT_FALSE(reader("/data/old"));
  }
  // A symlinked /etc in the top layer (absolute target) resolves in the union.
  Tmp t2;
  std::string up = t2.path() + "/up", low = t2.path() + "/low";
  put(low + "/real/passwd", "x:x:3:3::/:/bin/sh\n");
  fs::create_directories(up);
  fs::create_directory_symlink("/real", up + "/etc");
  auto r2 = layered_reader({up, low});
  auto p2 = r2("/etc/passwd");
  ASSERT_TRUE(p2) << p2.error().message;
  EXPECT_EQ(*p2, "x:x:3:3::/:/bin/sh\n");
  // ".." cannot climb above the root.
  auto p3 = r2("/../../etc/passwd");
  ASSERT_TRUE(p3);
  EXPECT_FALSE(r2("/etc/missing"));
}

TEST(UserLookup, RootFdReaderStaysInRoot) {
  Tmp t;
  put(t.path() + "/root/etc/passwd", "r:x:0:0::/:/bin/sh\n");
  put(t.path() + "/secret", "host secret\n");
  fs::create_directories(t.path() + "/root/x");
  fs::create_symlink("../../secret", t.path() + "/root/x/link");
  int fd = open((t.path() + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto reader = root_fd_reader(fd);
  EXPECT_EQ(*reader("/etc/passwd"), "r:x:0:0::/:/bin/sh\n");
  EXPECT_FALSE(reader("/x/link"));  // resolves to <root>/secret, which does not exist
  close(fd);
}

}  // namespace
}  // namespace berth::engine
