// Tests against this machine's real cgroup hierarchies. They need root and
// skip without it, except under BERTH_TEST_ROOT=1 where that is a failure.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "base/file.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "cgroups/manager.h"
#include "cgroups/test_fixture.h"
#include "cgroups/v2_manager.h"

namespace berth::cgroups {
namespace {

#define BERTH_REQUIRE_ROOT()                                            \
  do {                                                                  \
    if (::geteuid() != 0) {                                             \
      const char* strict = std::getenv("BERTH_TEST_ROOT");              \
      if (strict && std::string(strict) == "1") FAIL() << "needs root"; \
      GTEST_SKIP() << "needs root";                                     \
    }                                                                   \
  } while (0)

// A child that waits until killed.
pid_t spawn_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

TEST(HostV1, CgroupLifecycle) {
  BERTH_REQUIRE_ROOT();
  auto layout = detect_layout();
  ASSERT_TRUE(layout) << layout.error().message;
  if (layout->version != Version::V1) GTEST_SKIP() << "host is not cgroup v1";
  for (const char* c : {"memory", "pids", "freezer"})
    if (!layout->v1_roots.count(c)) GTEST_SKIP() << "v1 controller " << c << " not mounted";

  std::string path = fmt::format("/berth-test-{}", ::getpid());
  auto mgr = make_manager(*layout, path, "unused");
  ASSERT_TRUE(mgr) << mgr.error().message;
  Manager& m = **mgr;
  ASSERT_TRUE(m.create());
  auto paths = m.paths();
  for (auto& [c, d] : paths) EXPECT_TRUE(testing::exists(d)) << d;

  pid_t child = spawn_sleeper();
  ASSERT_GT(child, 0);
  bool reaped = false;
  // Runs on every exit path, including a failed ASSERT.
  ScopeExit cleanup([&] {
    if (!reaped) {
      (void)m.thaw();
      kill_and_reap(child);
    }
    (void)m.destroy();
  });

  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 64 << 20;
  if (testing::exists(paths.at("memory") + "/memory.memsw.limit_in_bytes"))
    r.memory->swap = 128 << 20;
  r.pids = oci::PidsResources{32};
  auto set = m.set(r);
  EXPECT_TRUE(set) << set.error().message;
  EXPECT_EQ(trim(read_file(paths.at("memory") + "/memory.limit_in_bytes").value_or("")),
            "67108864");
  EXPECT_EQ(trim(read_file(paths.at("pids") + "/pids.max").value_or("")), "32");

  auto add = m.add_process(child);
  EXPECT_TRUE(add) << add.error().message;
  auto pids = m.pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(*pids, std::vector<pid_t>{child});

  auto fr = m.freeze();
  EXPECT_TRUE(fr) << fr.error().message;
  EXPECT_EQ(m.freezer_state().value_or(FreezerState::Thawed), FreezerState::Frozen);
  // A frozen task shows as stopped-in-kernel; it must not be running.
  auto th = m.thaw();
  EXPECT_TRUE(th) << th.error().message;
  EXPECT_EQ(m.freezer_state().value_or(FreezerState::Frozen), FreezerState::Thawed);

  auto stats = m.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->pids_current, 1u);
  EXPECT_EQ(stats->memory_limit, uint64_t{64} << 20);

  // With the process still inside, destroy refuses and removes nothing.
  auto busy = m.destroy();
  EXPECT_FALSE(busy);
  if (!busy) {
    EXPECT_EQ(busy.error().code, Errc::Conflict);
  }

  kill_and_reap(child);
  reaped = true;
  // The kernel drops the exited task from cgroup.procs right after reaping.
  auto destroyed = m.destroy();
  EXPECT_TRUE(destroyed) << destroyed.error().message;
  for (auto& [c, d] : paths) EXPECT_FALSE(testing::exists(d)) << d;
}

// The child waits for a byte on `go`, then reports whether /dev/null and
// /dev/zero open: exit code bit 0 = null opened, bit 1 = zero opened.
pid_t spawn_device_prober(int go) {
  pid_t pid = ::fork();
  if (pid == 0) {
    char b;
    if (::read(go, &b, 1) != 1) ::_exit(100);
    int code = 0;
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) code |= 1;
    int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (zero_fd >= 0) code |= 2;
    ::_exit(code);
  }
  return pid;
}

int probe_devices(Manager& m) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t child = spawn_device_prober(p[0]);
  ::close(p[0]);
  auto add = m.add_process(child);
  EXPECT_TRUE(add) << add.error().message;
  (void)!::write(p[1], "x", 1);
  ::close(p[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(HostV2, EbpfDeviceProgramIsEnforcedAndReplaced) {
  BERTH_REQUIRE_ROOT();
  auto layout = detect_layout();
  ASSERT_TRUE(layout) << layout.error().message;
  if (layout->unified_root.empty()) GTEST_SKIP() << "no cgroup2 mount on this host";
  // On a hybrid host the v1 devices controller also applies; the test's
  // process sits in its root, which allows everything, so only the eBPF
  // program on the unified hierarchy can deny.
  V2Manager m(layout->unified_root, fmt::format("/berth-test-dev-{}", ::getpid()));
  auto created = m.create();
  ASSERT_TRUE(created) << created.error().message;
  ScopeExit cleanup([&] { (void)m.destroy(); });

  auto rule = oci::device_rule;
  oci::Resources r;
  r.devices = {rule(false, "a", {}, {}, "rwm"), rule(true, "c", 1, 3, "rw")};
  auto set = m.set(r);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(probe_devices(m), 1);  // null yes, zero no

  // update: the new program replaces the old one (zero now allowed, null denied).
  r.devices = {rule(false, "a", {}, {}, "rwm"), rule(true, "c", 1, 5, "r")};
  set = m.set(r);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(probe_devices(m), 2);

  auto destroyed = m.destroy();
  EXPECT_TRUE(destroyed) << destroyed.error().message;
  EXPECT_FALSE(testing::exists(m.paths().at("")));
}

}  // namespace
}  // namespace berth::cgroups
