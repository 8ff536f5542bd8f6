#include "cli/app.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace berth::cli {
namespace {

// Exit codes decided before any daemon is contacted (docker's rules): flag
// errors 125, argument counts and unknown commands 1, help/version 0. A
// daemon that cannot be reached is 1.
TEST(App, ExitCodesLikeDocker) {
  setenv("DOCKER_HOST", "unix:///nonexistent/berth-test.sock", 1);
  EXPECT_EQ(run_app({"--version"}), 0);
  EXPECT_EQ(run_app({"images", "--help"}), 0);
  EXPECT_EQ(run_app({"image"}), 0);
  EXPECT_EQ(run_app({"images", "--foo"}), 125);
  EXPECT_EQ(run_app({"images", "-x"}), 125);
  EXPECT_EQ(run_app({"search", "--limit", "ten", "x"}), 125);
  EXPECT_EQ(run_app({"--bogus", "images"}), 125);
  EXPECT_EQ(run_app({"tag"}), 1);
  EXPECT_EQ(run_app({"images", "a", "b"}), 1);
  EXPECT_EQ(run_app({"rmi"}), 1);
  EXPECT_EQ(run_app({"nosuchverb"}), 1);
  EXPECT_EQ(run_app({"image", "nosuchverb"}), 1);
  EXPECT_EQ(run_app({"images"}), 1);  // daemon unreachable
  EXPECT_EQ(run_app({"pull", "-a", "busybox:1"}), 1);
  EXPECT_EQ(run_app({"tag", "a", "Upper/Case"}), 1);
  unsetenv("DOCKER_HOST");
}

}  // namespace
}  // namespace berth::cli
