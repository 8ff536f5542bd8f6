#include "engine/cgroup_warmer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/file.h"

namespace berth::engine {
namespace {

cgroups::Layout v1_layout() {
  cgroups::Layout l;
  l.version = cgroups::Version::V1;
  l.unified_root = "/sys/fs/cgroup/unified";
  l.v1_roots = {{"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
                {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"},
                {"pids", "/sys/fs/cgroup/pids"},
                {"name=systemd", "/sys/fs/cgroup/systemd"}};
  return l;
}

TEST(CgroupWarmer, OwnProcsFileOnV1V2AndHybridHosts) {
  const char* hybrid =
      "12:blkio:/\n"
      "5:pids:/system.slice/berthd.service\n"
      "3:cpu,cpuacct:/x\n"
      "1:name=systemd:/system.slice/berthd.service\n"
      "0::/system.slice/berthd.service\n";
  // blkio is not mounted in this layout: the first hierarchy it knows.
  EXPECT_EQ(own_procs_file(v1_layout(), hybrid),
            "/sys/fs/cgroup/pids/system.slice/berthd.service/cgroup.procs");
  EXPECT_EQ(own_procs_file(v1_layout(), "3:cpu,cpuacct:/\n"),
            "/sys/fs/cgroup/cpu,cpuacct/cgroup.procs");

  cgroups::Layout v2;
  v2.version = cgroups::Version::V2;
  v2.unified_root = "/sys/fs/cgroup";
  EXPECT_EQ(own_procs_file(v2, "0::/user.slice/a.scope\n"),
            "/sys/fs/cgroup/user.slice/a.scope/cgroup.procs");
  EXPECT_EQ(own_procs_file(v2, "0::/\n"), "/sys/fs/cgroup/cgroup.procs");
  // v1 lines are ignored on a v2 layout.
  EXPECT_EQ(own_procs_file(v2, "5:pids:/a\n0::/b\n"), "/sys/fs/cgroup/b/cgroup.procs");

  // Nothing usable: no write at all.
  EXPECT_EQ(own_procs_file(v1_layout(), ""), "");
  EXPECT_EQ(own_procs_file(v1_layout(), "garbage\n7:memory:/\n"), "");
  EXPECT_EQ(own_procs_file(v1_layout(), "5:pids:relative\n"), "");
}

TEST(CgroupWarmer, PokesFoldAndAFailedWriteIsOnlyNoted) {
  char t[] = "/tmp/berth-warmer-XXXXXX";
  ASSERT_NE(::mkdtemp(t), nullptr);
  std::string dir = t;
  struct Cleanup {
    std::string d;
    ~Cleanup() { std::filesystem::remove_all(d); }
  } cleanup{dir};
  std::string f = dir + "/cgroup.procs";
  ASSERT_TRUE(write_file(f, "", /*create=*/true));
  CgroupWarmer w(f);
  w.poke();
  w.wait_idle();
  EXPECT_EQ(w.writes(), 1u);
  EXPECT_FALSE(w.last_failed());
  EXPECT_EQ(read_file(f).value(), std::to_string(::getpid()));
  for (int i = 0; i < 20; ++i) w.poke();
  w.wait_idle();
  EXPECT_GE(w.writes(), 2u);
  EXPECT_LE(w.writes(), 21u);

  CgroupWarmer gone(dir + "/missing/cgroup.procs");
  gone.poke();
  gone.wait_idle();
  EXPECT_EQ(gone.writes(), 1u);
  EXPECT_TRUE(gone.last_failed());

  CgroupWarmer off("");
  off.poke();
  off.wait_idle();
  EXPECT_EQ(off.writes(), 0u);
}

// The real write: the kernel takes its cgroup write lock and moves nothing.
TEST(CgroupWarmer, RealWriteKeepsTheProcessWhereItIs) {
  if (::geteuid() != 0) {
    const char* strict = std::getenv("BERTH_TEST_ROOT");
    if (strict && std::string(strict) == "1") FAIL() << "needs root";
    GTEST_SKIP() << "needs root";
  }
  auto layout = cgroups::detect_layout();
  ASSERT_TRUE(layout) << layout.error().message;
  auto before = read_file("/proc/self/cgroup");
  ASSERT_TRUE(before);
  std::string file = own_procs_file(*layout, *before);
  ASSERT_FALSE(file.empty()) << *before;
  CgroupWarmer w(file);
  w.poke();
  w.wait_idle();
  EXPECT_EQ(w.writes(), 1u);
  EXPECT_FALSE(w.last_failed()) << file;
  EXPECT_EQ(read_file("/proc/self/cgroup").value(), *before);
}

}  // namespace
}  // namespace berth::engine
