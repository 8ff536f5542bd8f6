#include "engine/top.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace berth::engine {
namespace {

TEST(Top, ParseKeepsContainerRowsAndJoinsCommand) {
  const char* out =
      "UID          PID    PPID  C STIME TTY          TIME CMD\n"
      "root           1       0  0 10:00 ?        00:00:01 /sbin/init splash\n"
      "root         100       1  0 10:01 ?        00:00:00 sh -c sleep 1000\n"
      "root         101     100  0 10:01 ?        00:00:00 sleep 1000\n";
  auto r = parse_ps_output(out, {100, 101});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->titles,
            (std::vector<std::string>{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}));
  ASSERT_EQ(r->processes.size(), 2u);
  EXPECT_EQ(r->processes[0][1], "100");
  EXPECT_EQ(r->processes[0][7], "sh -c sleep 1000");
  EXPECT_EQ(r->processes[1][7], "sleep 1000");
}

TEST(Top, ThreadRowsFollowTheirProcess) {
  const char* out =
      "USER PID %CPU COMMAND\n"
      "root 5 0.0 app\n"
      "root - 0.0 -\n"
      "root 6 0.0 other\n"
      "root - 0.0 -\n";
  auto r = parse_ps_output(out, {5});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->processes.size(), 2u);
}

TEST(Top, Errors) {
  auto r = parse_ps_output("USER COMMAND\nroot x\n", {1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Couldn't find PID field in ps output");
  EXPECT_TRUE(validate_ps_args("-ef"));
  EXPECT_TRUE(validate_ps_args("-o pid=PID,comm"));
  auto bad = validate_ps_args("-o user=PID");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "specifying \"user=PID\" is not allowed");
}

TEST(Top, RunsHostPs) {
  if (access("/bin/ps", X_OK) != 0) GTEST_SKIP() << "no ps";
  auto r = run_top("", {getpid()});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->processes.size(), 1u);
  EXPECT_EQ(r->processes[0][1], std::to_string(getpid()));
  // Options that do not combine with -q still work (second run without it).
  auto aux = run_top("aux", {getpid()});
  ASSERT_TRUE(aux) << aux.error().message;
  EXPECT_EQ(aux->processes.size(), 1u);
  auto bad = run_top("--no-such-option", {getpid()});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("ps: ", 0), 0u) << bad.error().message;
}

}  // namespace
}  // namespace berth::engine
