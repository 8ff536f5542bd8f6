#include "cgroups/layout.h"

#include <gtest/gtest.h>

#include "cgroups/test_fixture.h"

namespace berth::cgroups {
namespace {

// This machine: v1 controllers, a named systemd hierarchy and an empty
// cgroup2 at /sys/fs/cgroup/unified.
constexpr const char* kHybrid =
    "22 1 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kPureV2 =
    "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

// Older v1 host: co-mounted cpu,cpuacct and net_cls,net_prio, no unified,
// optional fields before the separator.
constexpr const char* kV1NoUnified =
    "25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid shared:9 - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct\n"
    "30 25 0:26 / /sys/fs/cgroup/net_cls,net_prio rw shared:11 master:3 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:12 - cgroup cgroup rw,memory\n"
    "32 25 0:28 / /sys/fs/cgroup/hugetlb rw,nosuid shared:13 - cgroup cgroup rw,hugetlb\n"
    "33 25 0:29 / /sys/fs/cgroup/cpuset rw shared:14 - cgroup cgroup rw,cpuset,clone_children\n"
    "34 40 0:27 / /mnt/memory\\040again rw shared:12 - cgroup cgroup rw,memory\n";

std::string none(const std::string&) { return ""; }

TEST(Layout, HybridHostWithEmptyUnifiedIsV1) {
  auto mounts = parse_mountinfo(kHybrid);
  ASSERT_TRUE(mounts) << mounts.error().message;
  auto l = layout_from_mounts(*mounts, none);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->version, Version::V1);
  EXPECT_EQ(l->unified_root, "/sys/fs/cgroup/unified");
  std::map<std::string, std::string> want = {
      {"blkio", "/sys/fs/cgroup/blkio"},     {"cpu", "/sys/fs/cgroup/cpu"},
      {"cpuacct", "/sys/fs/cgroup/cpuacct"}, {"cpuset", "/sys/fs/cgroup/cpuset"},
      {"devices", "/sys/fs/cgroup/devices"}, {"freezer", "/sys/fs/cgroup/freezer"},
      {"memory", "/sys/fs/cgroup/memory"},   {"name=systemd", "/sys/fs/cgroup/systemd"},
      {"pids", "/sys/fs/cgroup/pids"}};
  EXPECT_EQ(l->v1_roots, want);
}

TEST(Layout, HybridWithControllersInUnifiedIsV2) {
  auto mounts = parse_mountinfo(kHybrid);
  ASSERT_TRUE(mounts);
  auto l = layout_from_mounts(*mounts, [](const std::string& mp) {
    EXPECT_EQ(mp, "/sys/fs/cgroup/unified");
    return std::string("memory pids\n");
  });
  ASSERT_TRUE(l);
  EXPECT_EQ(l->version, Version::V2);
  EXPECT_EQ(l->unified_root, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(l->v1_roots.empty());
}

TEST(Layout, HybridWithOnlyHugetlbInUnifiedIsV1) {
  // What this machine really has: hugetlb has no v1 mount, so the kernel
  // offers it in the otherwise empty unified tree.
  auto mounts = parse_mountinfo(kHybrid);
  ASSERT_TRUE(mounts);
  auto l = layout_from_mounts(*mounts, [](const std::string&) { return std::string("hugetlb\n"); });
  ASSERT_TRUE(l);
  EXPECT_EQ(l->version, Version::V1);
  EXPECT_EQ(l->v1_roots.size(), 9u);
}

TEST(Layout, PureV2Host) {
  auto mounts = parse_mountinfo(kPureV2);
  ASSERT_TRUE(mounts);
  // Even an unreadable cgroup.controllers means v2 when no v1 is mounted.
  auto l = layout_from_mounts(*mounts, none);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->version, Version::V2);
  EXPECT_EQ(l->unified_root, "/sys/fs/cgroup");
  EXPECT_TRUE(l->v1_roots.empty());
}

TEST(Layout, V1HostWithoutUnified) {
  auto mounts = parse_mountinfo(kV1NoUnified);
  ASSERT_TRUE(mounts) << mounts.error().message;
  ASSERT_EQ(mounts->size(), 8u);
  EXPECT_EQ((*mounts)[7].mount_point, "/mnt/memory again");  // \040 decoded
  auto l = layout_from_mounts(*mounts, none);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->version, Version::V1);
  EXPECT_EQ(l->unified_root, "");
  EXPECT_EQ(l->v1_roots.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->v1_roots.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->v1_roots.at("net_prio"), "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(l->v1_roots.at("cpuset"), "/sys/fs/cgroup/cpuset");
  EXPECT_EQ(l->v1_roots.at("name=systemd"), "/sys/fs/cgroup/systemd");
  // The first mount of a hierarchy wins over a later bind mount.
  EXPECT_EQ(l->v1_roots.at("memory"), "/sys/fs/cgroup/memory");
  // Mount options that are not controllers are not hierarchies.
  EXPECT_EQ(l->v1_roots.count("clone_children"), 0u);
  EXPECT_EQ(l->v1_roots.count("xattr"), 0u);
  EXPECT_EQ(l->v1_roots.size(), 8u);
}

TEST(Layout, OnlyNamedHierarchyIsAnError) {
  auto mounts =
      parse_mountinfo("39 30 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n");
  ASSERT_TRUE(mounts);
  auto l = layout_from_mounts(*mounts, none);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, Errc::FailedPrecondition);
}

TEST(Layout, UnescapeMountinfo) {
  EXPECT_EQ(unescape_mountinfo("/a\\040b\\011c\\012d\\134e"), "/a b\tc\nd\\e");
  EXPECT_EQ(unescape_mountinfo("/trailing\\04"), "/trailing\\04");  // incomplete escape kept
  EXPECT_EQ(unescape_mountinfo("/x\\089"), "/x\\089");              // not octal
}

TEST(Layout, OptionalFieldsKeepPropagation) {
  auto m = parse_mountinfo(
      "36 35 98:0 /mnt1 /mnt2 rw,noatime shared:1 master:2 - ext3 /dev/root rw\n"
      "37 35 98:0 / /priv rw - ext4 /dev/vda rw\n");
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].optional_fields, (std::vector<std::string>{"shared:1", "master:2"}));
  EXPECT_TRUE((*m)[1].optional_fields.empty());
  EXPECT_EQ((*m)[1].fs_type, "ext4");
}

TEST(Layout, MalformedLineNamesItsNumber) {
  auto m = parse_mountinfo(std::string(kPureV2) + "garbage line\n");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("line 3"), std::string::npos) << m.error().message;
  auto m2 = parse_mountinfo("1 2 0:1 / /x rw shared:1 cgroup cgroup rw\n");  // no separator
  ASSERT_FALSE(m2);
}

TEST(Layout, DetectLayoutReadsAFile) {
  testing::TempDir dir;
  testing::put(dir.path() + "/mountinfo", kV1NoUnified);
  auto l = detect_layout(dir.path() + "/mountinfo");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->version, Version::V1);
  auto missing = detect_layout(dir.path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
}

TEST(Layout, DetectLayoutOnThisHost) {
  auto l = detect_layout();
  ASSERT_TRUE(l) << l.error().message;
  if (l->version == Version::V1) {
    EXPECT_FALSE(l->v1_roots.empty());
  } else {
    EXPECT_FALSE(l->unified_root.empty());
  }
}

}  // namespace
}  // namespace berth::cgroups
