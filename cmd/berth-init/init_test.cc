// Tests for berth-init run as an ordinary child of the test (no container):
// berth-init makes itself a child subreaper there, so orphans come to it as
// they would to pid 1 of a pid namespace.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Running {
  pid_t pid = -1;
  int out = -1;  // read end of the init's stdout
};

Running start(std::vector<std::string> args) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return {};
  std::vector<char*> argv;
  args.insert(args.begin(), BERTH_INIT_PATH);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(99);
  }
  close(p[1]);
  return {pid, p[0]};
}

// Reads a line from the init's stdout (bounded by the pipe closing).
std::string read_line(int fd) {
  std::string s;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') s += c;
  return s;
}

// Waits (bounded: 10 s) for pid and returns its wait status, -1 on timeout.
int wait_for(pid_t pid) {
  for (int i = 0; i < 1000; i++) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

int run(std::vector<std::string> args) {
  Running r = start(std::move(args));
  int st = wait_for(r.pid);
  close(r.out);
  return st;
}

// The state letter of /proc/<pid>/stat, or 0 when the pid does not exist.
char proc_state(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char* rp = strrchr(buf, ')');
  return rp && rp[1] == ' ' ? rp[2] : '?';
}

TEST(BerthInit, ExitsWithTheChildsCode) {
  int st = run({"--", "/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 7);
  st = run({"/bin/true"});  // "--" is optional
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(BerthInit, SignalledChildGives128PlusSignal) {
  int st = run({"--", "/bin/sh", "-c", "kill -KILL $$"});
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 128 + SIGKILL);
}

TEST(BerthInit, UsageAndExecErrors) {
  int st = run({});
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 1);
  st = run({"--", "/nonexistent/cmd"});
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 127);
  // Not executable; and executable but no binary (no /bin/sh fallback).
  char tmpl[] = "/tmp/berth-init-test-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "echo hi\n", 8), 8);
  close(fd);
  st = run({"--", tmpl});
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 126) << st;
  chmod(tmpl, 0755);
  st = run({"--", tmpl});
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 126) << st;
  unlink(tmpl);
  st = run({"--", "no-such-command-xyz"});  // PATH search
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 127) << st;
  st = run({"--", "sh", "-c", "exit 3"});
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 3) << st;
}

TEST(BerthInit, ForwardsSignalsToTheChild) {
  struct Case {
    int sig;
    const char* name;
  };
  for (Case c :
       {Case{SIGTERM, "TERM"}, Case{SIGINT, "INT"}, Case{SIGHUP, "HUP"}, Case{SIGUSR1, "USR1"},
        Case{SIGUSR2, "USR2"}, Case{SIGQUIT, "QUIT"}, Case{SIGWINCH, "WINCH"}}) {
    SCOPED_TRACE(c.name);
    std::string script = std::string("trap 'exit ") + std::to_string(40 + c.sig) + "' " + c.name +
                         "; echo ready; while :; do sleep 0.02; done";
    Running r = start({"--", "/bin/sh", "-c", script});
    ASSERT_EQ(read_line(r.out), "ready");
    ASSERT_EQ(kill(r.pid, c.sig), 0);
    int st = wait_for(r.pid);
    close(r.out);
    ASSERT_TRUE(WIFEXITED(st)) << st;
    EXPECT_EQ(WEXITSTATUS(st), 40 + c.sig);
  }
}

TEST(BerthInit, UntrappedTermKillsTheWholeJob) {
  // The forwarded signal reaches the child's process group: the pipeline's
  // members all die, the shell with them, and the init reports 128+15.
  Running r = start({"--", "/bin/sh", "-c", "echo ready; sleep 30 | sleep 30"});
  ASSERT_EQ(read_line(r.out), "ready");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(r.pid, SIGTERM), 0);
  int st = wait_for(r.pid);
  close(r.out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 128 + SIGTERM);
}

TEST(BerthInit, ReapsOrphanedGrandchildren) {
  // The inner shell starts `sleep 0.2` and exits at once: the sleep is an
  // orphan, reparented to berth-init. When it exits berth-init must reap it
  // while the main command is still running.
  Running r =
      start({"--", "/bin/sh", "-c", "/bin/sh -c 'sleep 0.2 & echo $!'; sleep 1.5; echo done"});
  std::string line = read_line(r.out);
  pid_t orphan = static_cast<pid_t>(std::stol(line));
  ASSERT_GT(orphan, 1);
  // Bounded wait for the orphan to disappear completely (not a zombie).
  char state = '?';
  for (int i = 0; i < 100; i++) {
    state = proc_state(orphan);
    if (state == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(state, 0) << "orphan " << orphan << " left in state " << state;
  EXPECT_EQ(read_line(r.out), "done");  // the main command was still running meanwhile
  int st = wait_for(r.pid);
  close(r.out);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
