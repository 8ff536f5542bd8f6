#include <gtest/gtest.h>

#include <cstdlib>

#include "cli/app.h"

namespace berth::cli {
namespace {

// docker's statuses for container commands, decided before a daemon answers:
// option and value errors 125 (run/create/update), argument counts 1, and a
// daemon that cannot be reached 125 for run, 1 for the others.
TEST(ContainerCommands, ExitCodesLikeDocker) {
  setenv("DOCKER_HOST", "unix:///nonexistent/berth-test.sock", 1);
  EXPECT_EQ(run_app({"run", "-m", "abc", "busybox"}), 125);
  EXPECT_EQ(run_app({"run", "--cpus", "x", "busybox"}), 125);
  EXPECT_EQ(run_app({"run", "--pull", "bogus", "busybox"}), 125);
  EXPECT_EQ(run_app({"run", "--restart", "always", "--rm", "busybox"}), 125);
  EXPECT_EQ(run_app({"create", "--ulimit", "nofile=2:1", "busybox"}), 125);
  EXPECT_EQ(run_app({"update", "--memory", "lots", "c"}), 125);
  EXPECT_EQ(run_app({"run", "--bogus", "busybox"}), 125);
  EXPECT_EQ(run_app({"run"}), 1);
  EXPECT_EQ(run_app({"exec", "c"}), 1);
  EXPECT_EQ(run_app({"rename", "a"}), 1);
  EXPECT_EQ(run_app({"run", "busybox"}), 125);  // daemon unreachable
  EXPECT_EQ(run_app({"ps"}), 1);
  EXPECT_EQ(run_app({"container", "ls", "--help"}), 0);
  EXPECT_EQ(run_app({"run", "--help"}), 0);
  // Flags after the image are the command's: "-m" here is not --memory.
  EXPECT_EQ(run_app({"create", "busybox", "-m", "abc"}), 1);  // reaches the (absent) daemon
  unsetenv("DOCKER_HOST");
}

}  // namespace
}  // namespace berth::cli
