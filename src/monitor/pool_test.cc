// MonitorPool (monitor/client.h) with a stand-in monitor: a shell script
// that logs how it was started and bound. The real monitor's side of the
// pooled protocol is tested end to end in tests/integration/test_monitor.py.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "base/file.h"
#include "base/strings.h"
#include "monitor/client.h"

namespace berth::monitor {
namespace {

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-pool-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fake_ = dir_ + "/berth-monitor";
    // Pooled: logs "started", hangs if the file "hang" exists (a start-up
    // that never ends), says "idle", waits for a line (EOF: exit 0), fails
    // for a path containing "fail", else reports ok and lives on. Spawned
    // directly (--foreground CONFIG): logs "direct".
    std::string script =
        "#!/bin/sh\n"
        "[ \"$1\" = --foreground ] || exit 3\n"
        "case \"$2\" in\n"
        "--pooled=*)\n"
        "  echo \"$$\" >> @/started\n"
        "  [ -e @/hang ] && exec sleep 30\n"
        "  echo idle >&2\n"
        "  IFS= read -r path || exit 0\n"
        "  [ ${#path} -eq ${#2} ] || { echo 'berth-monitor: length' >&2; exit 1; }\n"
        "  case \"$path\" in *fail*) echo 'berth-monitor: rootfs: gone' >&2; exit 1;; esac\n"
        "  echo \"$$ $path\" >> @/bound;;\n"
        "*) echo \"$$ $2\" >> @/direct;;\n"
        "esac\n"
        "echo ok >&2\n"
        "exec sleep 30\n";
    for (size_t at; (at = script.find('@')) != std::string::npos;) script.replace(at, 1, dir_);
    ASSERT_TRUE(write_file_atomic(fake_, script, 0755));
    cfg_.id = "x";
    cfg_.pid_file = dir_ + "/monitor.pid";
  }
  void TearDown() override {
    for (pid_t p : spawned_) ::kill(p, SIGKILL);
    std::filesystem::remove_all(dir_);
  }
  // A config path of exactly `len` bytes in the temp dir.
  std::string path(size_t len, const std::string& tag) {
    std::string p = dir_ + "/" + tag + "-";
    p.resize(len - 5, 'x');
    return p + ".json";
  }
  std::string log(const std::string& name) { return read_file(dir_ + "/" + name).value_or(""); }
  static bool eventually(const std::function<bool()>& f) {
    for (int i = 0; i < 500; ++i) {
      if (f()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return f();
  }
  static bool gone(pid_t pid) { return !std::filesystem::exists(fmt::format("/proc/{}", pid)); }
  // fill(), then the idle monitor's pid once it waits (0 if none came).
  static pid_t filled(MonitorPool& pool) {
    pool.fill();
    eventually([&] { return pool.idle_pid() != 0; });
    return pool.idle_pid();
  }

  std::string dir_, fake_;
  MonitorConfig cfg_;
  std::vector<pid_t> spawned_;
  static constexpr size_t kLen = 60;
};

TEST_F(PoolTest, BindsTheIdleMonitorThenStartsAnother) {
  MonitorPool pool(fake_, kLen);
  EXPECT_EQ(pool.idle_pid(), 0) << "nothing starts before fill() or spawn()";
  pid_t idle = filled(pool);
  ASSERT_NE(idle, 0);
  std::string cfg = path(kLen, "a");
  auto pid = pool.spawn(cfg, cfg_);
  ASSERT_TRUE(pid) << pid.error().message;
  spawned_.push_back(*pid);
  EXPECT_EQ(*pid, idle);
  EXPECT_EQ(log("bound"), fmt::format("{} {}\n", idle, cfg));
  EXPECT_EQ(log("direct"), "");
  EXPECT_TRUE(std::filesystem::exists(cfg)) << "the config is written before the bind";
  ASSERT_TRUE(eventually([&] { return pool.idle_pid() != 0; }));
  EXPECT_NE(pool.idle_pid(), idle);
  spawned_.push_back(pool.idle_pid());
}

TEST_F(PoolTest, OtherLengthsAndDeadIdleMonitorsSpawnDirectly) {
  MonitorPool pool(fake_, kLen);
  pid_t idle = filled(pool);
  ASSERT_NE(idle, 0);
  std::string other = path(kLen + 1, "b");
  auto a = pool.spawn(other, cfg_);
  ASSERT_TRUE(a) << a.error().message;
  spawned_.push_back(*a);
  EXPECT_NE(*a, idle);
  EXPECT_EQ(log("direct"), fmt::format("{} {}\n", *a, other));
  EXPECT_EQ(pool.idle_pid(), idle) << "a direct spawn leaves the idle monitor waiting";
  // Killed while idle (the pool's reaper collects it): the next spawn starts
  // a monitor of its own and succeeds.
  ASSERT_EQ(::kill(idle, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return gone(idle); })) << "the dead idle monitor was not reaped";
  std::string cfg = path(kLen, "c");
  auto b = pool.spawn(cfg, cfg_);
  ASSERT_TRUE(b) << b.error().message;
  spawned_.push_back(*b);
  EXPECT_NE(*b, idle);
  EXPECT_NE(log("direct").find(fmt::format("{} {}\n", *b, cfg)), std::string::npos);
  ASSERT_TRUE(eventually([&] { return pool.idle_pid() != 0; }));
  spawned_.push_back(pool.idle_pid());
}

TEST_F(PoolTest, ReportsTheBoundMonitorsFailureOnceItIsGone) {
  MonitorPool pool(fake_, kLen);
  pid_t idle = filled(pool);
  ASSERT_NE(idle, 0);
  auto r = pool.spawn(path(kLen, "fail"), cfg_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "rootfs: gone");
  EXPECT_TRUE(eventually([&] { return gone(idle); })) << "failed monitor not reaped";
  ASSERT_TRUE(eventually([&] { return pool.idle_pid() != 0; }));
  spawned_.push_back(pool.idle_pid());
}

TEST_F(PoolTest, TheIdleMonitorEndsWithThePool) {
  pid_t idle = 0;
  {
    MonitorPool pool(fake_, kLen);
    idle = filled(pool);
    ASSERT_NE(idle, 0);
  }
  EXPECT_TRUE(eventually([&] { return gone(idle); }))
      << "the idle monitor outlived its pool (it reads EOF and exits)";
  EXPECT_EQ(log("bound"), "");
}

TEST_F(PoolTest, AMonitorStillStartingIsNotHandedOut) {
  // On a busy machine a SCHED_IDLE start-up may take any time: a spawn must
  // not wait for it.
  ASSERT_TRUE(write_file_atomic(dir_ + "/hang", "", 0644));
  MonitorPool pool(fake_, kLen);
  pool.fill();
  ASSERT_TRUE(eventually([&] { return !log("started").empty(); }));
  EXPECT_EQ(pool.idle_pid(), 0);
  std::string cfg = path(kLen, "e");
  auto t0 = std::chrono::steady_clock::now();
  auto r = pool.spawn(cfg, cfg_);
  ASSERT_TRUE(r) << r.error().message;
  spawned_.push_back(*r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(log("direct"), fmt::format("{} {}\n", *r, cfg));
  EXPECT_EQ(log("bound"), "");
  for (const auto& p : split(trim(log("started")), '\n'))
    spawned_.push_back(std::stoi(std::string(p)));
}

TEST_F(PoolTest, ABrokenBinaryStopsThePoolUntilTheNextSpawn) {
  MonitorPool pool(dir_ + "/no-such-monitor", kLen);
  pool.fill();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(pool.idle_pid(), 0);
  auto r = pool.spawn(path(kLen, "d"), cfg_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no-such-monitor"), std::string::npos) << r.error().message;
  EXPECT_EQ(log("started"), "");
}

}  // namespace
}  // namespace berth::monitor
