#include "engine/leftovers.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

// The child leads its own process group, so a test can end it together with
// anything it started (kill(-pid, ...)).
pid_t spawn(const std::vector<std::string>& argv) {
  pid_t p = ::fork();
  if (p == 0) {
    ::setpgid(0, 0);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  return p;
}

bool reaped_within(pid_t p, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (::waitpid(p, nullptr, WNOHANG) == p) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(Leftovers, MonitorsOfMatchesTheConfigArgument) {
  char t[] = "/tmp/berth-leftovers-XXXXXX";
  std::string dir = ::mkdtemp(t);
  std::string fake = dir + "/berth-monitor", cfg = dir + "/monitor.json";
  std::ofstream(cfg) << "{}";
  ASSERT_EQ(::symlink("/usr/bin/tail", fake.c_str()), 0);
  pid_t p = spawn({fake, cfg, "-f"});
  pid_t other = spawn({"/usr/bin/tail", cfg, "-f"});  // not a berth-monitor
  std::vector<pid_t> found;
  for (int i = 0; i < 100 && found.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    found = monitors_of(cfg);
  }
  EXPECT_EQ(found, std::vector<pid_t>{p});
  EXPECT_TRUE(monitors_of(dir + "/other.json").empty());
  ::kill(p, SIGKILL);
  ::kill(other, SIGKILL);
  ::waitpid(p, nullptr, 0);
  ::waitpid(other, nullptr, 0);
  fs::remove_all(dir);
}

TEST(Leftovers, MonitorsOfMatchesTheConfigArgumentAfterForeground) {
  char t[] = "/tmp/berth-leftovers-XXXXXX";
  std::string dir = ::mkdtemp(t);
  // `berth-monitor --foreground CONFIG`: GNU timeout takes the same shape of
  // arguments (--foreground DURATION ...) and stays alive, so a config path
  // of "1000" stands in.
  std::string fake = dir + "/berth-monitor";
  ASSERT_EQ(::symlink("/usr/bin/timeout", fake.c_str()), 0);
  pid_t p = spawn({fake, "--foreground", "1000", "/bin/sleep", "1000"});
  // Until timeout's child has exec'd its sleep, that child's command line is
  // timeout's too, and it is rightly found as well: wait for it to go.
  std::vector<pid_t> found;
  for (int i = 0; i < 100 && found != std::vector<pid_t>{p}; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    found = monitors_of("1000");
  }
  EXPECT_EQ(found, std::vector<pid_t>{p});
  EXPECT_TRUE(monitors_of("--foreground").empty());
  // The whole group: a SIGTERM to timeout alone could land between its fork
  // and its noting the child's pid, and then its sleep outlived the test,
  // holding ctest's output pipe (the run waited for the sleep's 1000 s).
  ::kill(-p, SIGKILL);
  ::waitpid(p, nullptr, 0);
  fs::remove_all(dir);
}

TEST(Leftovers, ReapKillsTheCgroupsProcessesAndRemovesEverything) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (cgroups)";
  auto layout = cgroups::detect_layout();
  ASSERT_TRUE(layout) << layout.error().message;
  std::string id = "leftovers-test-" + std::to_string(::getpid());
  std::string path = "/berth-unit-test/" + id;
  auto cg = cgroups::make_manager(*layout, path, id);
  ASSERT_TRUE(cg) << cg.error().message;
  ASSERT_TRUE((*cg)->create());
  pid_t p = spawn({"/bin/sleep", "100"});
  ASSERT_TRUE((*cg)->add_process(p));
  char t[] = "/tmp/berth-leftovers-XXXXXX";
  std::string state = std::string(::mkdtemp(t)) + "/" + id;
  fs::create_directories(state);
  std::ofstream(state + "/state.json") << "{}";

  auto r = reap_container_leftovers(*layout, path, id, state);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  EXPECT_TRUE(reaped_within(p, std::chrono::seconds(5)));
  auto left = (*cg)->pids();
  EXPECT_TRUE(!left || left->empty());
  EXPECT_FALSE(fs::exists(state));
  // Nothing left: a second reap is a no-op.
  EXPECT_TRUE(reap_container_leftovers(*layout, path, id, state));
  // The parent directory this test made.
  auto parent = cgroups::make_manager(*layout, "/berth-unit-test", "berth-unit-test");
  if (parent) (void)(*parent)->destroy();
  fs::remove_all(fs::path(state).parent_path());
}

}  // namespace
}  // namespace berth::engine
