#include "runtime/seccomp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

#include "base/file.h"

namespace berth::runtime {
namespace {

oci::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  oci::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.errno_ret = errno_ret;
  s.args = std::move(args);
  return s;
}

oci::SeccompArg arg(uint32_t index, std::string op, uint64_t value, uint64_t value_two = 0) {
  oci::SeccompArg a;
  a.index = index;
  a.op = std::move(op);
  a.value = value;
  a.value_two = value_two;
  return a;
}

oci::Seccomp allow_by_default(std::vector<oci::SeccompSyscall> rules) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = std::move(rules);
  return s;
}

// The shape of docker's default profile: deny by default with errno 1,
// three x86 architectures, an allow list with a name this libseccomp does
// not know, personality() limited by argument, clone() flags by mask, and
// clone3 answered with ENOSYS so that libc falls back to clone.
oci::Seccomp docker_like_profile() {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 1;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  s.syscalls.push_back(
      rule({"accept", "accept4", "access", "brk", "close", "execve", "exit", "exit_group", "futex",
            "getpid", "mmap", "openat", "read", "rt_sigreturn", "write", "not_a_syscall_berth"},
           "SCMP_ACT_ALLOW"));
  s.syscalls.push_back(rule({"personality"}, "SCMP_ACT_ALLOW", {}, {arg(0, "SCMP_CMP_EQ", 0)}));
  s.syscalls.push_back(
      rule({"personality"}, "SCMP_ACT_ALLOW", {}, {arg(0, "SCMP_CMP_EQ", 0xffffffff)}));
  s.syscalls.push_back(
      rule({"clone"}, "SCMP_ACT_ALLOW", {}, {arg(0, "SCMP_CMP_MASKED_EQ", 2114060288, 0)}));
  s.syscalls.push_back(rule({"clone3"}, "SCMP_ACT_ERRNO", 38));
  s.syscalls.push_back(rule({"socket"}, "SCMP_ACT_ALLOW", {}, {arg(0, "SCMP_CMP_NE", 40)}));
  return s;
}

// Runs fn in a forked child that has set no_new_privs (so loading a filter
// needs no privilege) and returns the wait status. Core dumps are off so
// that SIGSYS deaths stay quick and leave no files.
int run_child(const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(200);
    _exit(fn());
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Loads s, then returns what `call` leaves in errno (0 on success); 250
// when loading failed.
int errno_after(const oci::Seccomp& s, const std::function<long()>& call) {
  auto r = load_seccomp(s);
  if (!r) return 250;
  errno = 0;
  long rc = call();
  return rc < 0 ? errno : 0;
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status); }

TEST(SeccompCheck, AcceptsDockerLikeProfile) {
  auto r = check_seccomp(docker_like_profile());
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST(SeccompCheck, RejectsUnknownActionNamingTheField) {
  auto s = docker_like_profile();
  s.syscalls[3].action = "SCMP_ACT_FOO";
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message, "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");
}

TEST(SeccompCheck, RejectsUnknownDefaultAction) {
  auto s = docker_like_profile();
  s.default_action = "SCMP_ACT_NOPE";
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
}

TEST(SeccompCheck, RejectsUnknownOperator) {
  auto s = docker_like_profile();
  s.syscalls[3].args[0].op = "SCMP_CMP_ALMOST";
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "linux.seccomp.syscalls[3].args[0].op: unknown operator \"SCMP_CMP_ALMOST\"");
}

TEST(SeccompCheck, RejectsUnknownArchitecture) {
  auto s = docker_like_profile();
  s.architectures.push_back("SCMP_ARCH_Z80");
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "linux.seccomp.architectures[3]: unknown architecture \"SCMP_ARCH_Z80\"");
}

TEST(SeccompCheck, RejectsUnknownFlag) {
  auto s = docker_like_profile();
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"};
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");
}

TEST(SeccompCheck, RejectsErrnoRetOnActionWithoutErrno) {
  auto s = docker_like_profile();
  s.syscalls.push_back(rule({"getppid"}, "SCMP_ACT_KILL", 5));
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("linux.seccomp.syscalls[6].errnoRet"), std::string::npos)
      << r.error().message;

  auto d = allow_by_default({});
  d.default_errno_ret = 3;
  r = check_seccomp(d);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("linux.seccomp.defaultErrnoRet"), std::string::npos)
      << r.error().message;
}

TEST(SeccompCheck, RejectsArgumentIndexOutOfRange) {
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_ERRNO", {}, {arg(6, "SCMP_CMP_EQ", 1)})});
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("linux.seccomp.syscalls[0].args[0].index"), std::string::npos)
      << r.error().message;
}

TEST(SeccompCheck, RejectsEmptyNamesAndNotifyDefault) {
  auto s = allow_by_default({rule({}, "SCMP_ACT_ERRNO")});
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("linux.seccomp.syscalls[0].names"), std::string::npos);

  oci::Seccomp n;
  n.default_action = "SCMP_ACT_NOTIFY";
  r = check_seccomp(n);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("linux.seccomp.defaultAction"), std::string::npos);
}

TEST(SeccompCheck, RejectsMetadataWithoutListenerPath) {
  auto s = allow_by_default({});
  s.listener_metadata = "x";
  EXPECT_FALSE(check_seccomp(s).has_value());
  s.listener_path = "/run/agent.sock";
  EXPECT_TRUE(check_seccomp(s).has_value());
}

TEST(SeccompCheck, AcceptsEveryKnownActionAndOperator) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  // libseccomp refuses to mix byte orders in one filter (EDOM), so only the
  // little-endian architectures go together with the native x86_64/aarch64.
  s.architectures = {"SCMP_ARCH_X86_64",     "SCMP_ARCH_X86",    "SCMP_ARCH_X32",
                     "SCMP_ARCH_AARCH64",    "SCMP_ARCH_ARM",    "SCMP_ARCH_RISCV64",
                     "SCMP_ARCH_PPC64LE",    "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                     "SCMP_ARCH_MIPSEL64N32"};
  const char* calls[] = {"getppid", "getpid", "getuid", "getgid", "geteuid", "getegid",
                         "gettid",  "sync",   "umask",  "uname",  "getcwd"};
  size_t k = 0;
  for (const auto& a : seccomp_known_actions()) {
    if (a == "SCMP_ACT_ERRNO") continue;  // the default: such rules are skipped
    s.syscalls.push_back(rule({calls[k++]}, a));
  }
  for (const auto& op : seccomp_known_operators()) {
    s.syscalls.push_back(rule({"getcwd"}, "SCMP_ACT_ALLOW", {}, {arg(1, op, 7, 3)}));
  }
  auto r = check_seccomp(s);
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST(SeccompCheck, RejectsArchitecturesOfMixedByteOrder) {
  // The native architecture is always in the filter; add one of each order.
  auto s = allow_by_default({});
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_S390X"};
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  std::swap(s.architectures[0], s.architectures[1]);
#endif
  auto r = check_seccomp(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("linux.seccomp.architectures[1]"), std::string::npos)
      << r.error().message;
}

TEST(SeccompCheck, WaitKillableFlagNeedsNewerLibseccomp) {
  auto s = allow_by_default({});
  s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  auto r = check_seccomp(s);
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotImplemented);
  EXPECT_NE(r.error().message.find("linux.seccomp.flags[0]"), std::string::npos);
#else
  GTEST_SKIP() << "libseccomp >= 2.6 supports the flag; nothing to check";
#endif
}

TEST(SeccompKnown, ListsSpecNames) {
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  EXPECT_EQ(seccomp_known_actions().size(), 9u);
  EXPECT_TRUE(has(seccomp_known_actions(), "SCMP_ACT_NOTIFY"));
  EXPECT_TRUE(has(seccomp_known_actions(), "SCMP_ACT_KILL_PROCESS"));
  EXPECT_EQ(seccomp_known_operators().size(), 7u);
  EXPECT_TRUE(has(seccomp_known_operators(), "SCMP_CMP_MASKED_EQ"));
  EXPECT_TRUE(has(seccomp_known_archs(), "SCMP_ARCH_X86_64"));
  EXPECT_TRUE(has(seccomp_known_archs(), "SCMP_ARCH_RISCV64"));
  EXPECT_TRUE(has(seccomp_known_flags(), "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
  auto sup = seccomp_supported_flags();
  EXPECT_TRUE(has(sup, "SECCOMP_FILTER_FLAG_TSYNC"));  // Linux 3.17
  EXPECT_TRUE(has(sup, "SECCOMP_FILTER_FLAG_LOG"));    // Linux 4.14
  for (const auto& f : sup) EXPECT_TRUE(has(seccomp_known_flags(), f)) << f;
}

TEST(SeccompLoad, ErrnoRetIsReturned) {
  auto s =
      allow_by_default({rule({"getcwd"}, "SCMP_ACT_ERRNO", 38), rule({"uname"}, "SCMP_ACT_ERRNO")});
  int st = run_child([&] {
    char buf[256];
    int e1 = errno_after(s, [&] { return syscall(SYS_getcwd, buf, sizeof buf); });
    errno = 0;
    long rc = syscall(SYS_uname, nullptr);
    int e2 = rc < 0 ? errno : 0;
    return e1 == 38 && e2 == EPERM ? 0 : 1;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, DefaultErrnoRet) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 77;
  // What the child still needs after loading: exiting, and memory and
  // signal calls that sanitizer runtimes make when the Result is freed.
  s.syscalls.push_back(rule(
      {"exit", "exit_group", "write", "mmap", "munmap", "mprotect", "madvise", "brk", "sigaltstack",
       "rt_sigaction", "rt_sigprocmask", "futex", "gettid", "getpid", "prlimit64", "sched_yield"},
      "SCMP_ACT_ALLOW"));
  int st = run_child([&] { return errno_after(s, [] { return syscall(SYS_getppid); }); });
  EXPECT_EQ(exit_code(st), 77);
}

TEST(SeccompLoad, MaskedEqComparesMaskedArgument) {
  // value is the mask, valueTwo the expected result: umask(m) fails with
  // EIO when (m & 0700) == 0500.
  auto s = allow_by_default(
      {rule({"umask"}, "SCMP_ACT_ERRNO", EIO, {arg(0, "SCMP_CMP_MASKED_EQ", 0700, 0500)})});
  int st = run_child([&] {
    if (!load_seccomp(s)) return 250;
    errno = 0;
    long blocked = syscall(SYS_umask, 0577);
    int e_blocked = blocked < 0 ? errno : 0;
    long allowed = syscall(SYS_umask, 0777);
    return e_blocked == EIO && allowed >= 0 ? 0 : 1;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, ConditionsOnDistinctArgumentsAreAnded) {
  // getpriority(PRIO_PROCESS, 424242) is caught; (PRIO_PGRP, 424242) is not.
  auto s = allow_by_default(
      {rule({"getpriority"}, "SCMP_ACT_ERRNO", EAGAIN,
            {arg(0, "SCMP_CMP_EQ", PRIO_PROCESS), arg(1, "SCMP_CMP_EQ", 424242)})});
  int st = run_child([&] {
    if (!load_seccomp(s)) return 250;
    errno = 0;
    long a = syscall(SYS_getpriority, PRIO_PROCESS, 424242);
    int ea = a < 0 ? errno : 0;
    errno = 0;
    long b = syscall(SYS_getpriority, PRIO_PGRP, 424242);
    int eb = b < 0 ? errno : 0;
    errno = 0;
    long c = syscall(SYS_getpriority, PRIO_PROCESS, 0);
    int ec = c < 0 ? errno : 0;
    return ea == EAGAIN && eb != EAGAIN && ec == 0 ? 0 : 1;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, RepeatedArgumentIndexMeansAnyConditionMatches) {
  // Both conditions are on arg 0: as one rule they could never both hold,
  // so each becomes its own rule and either value is caught.
  auto s = allow_by_default({rule({"umask"}, "SCMP_ACT_ERRNO", ENOTTY,
                                  {arg(0, "SCMP_CMP_EQ", 011), arg(0, "SCMP_CMP_EQ", 022)})});
  int st = run_child([&] {
    if (!load_seccomp(s)) return 250;
    errno = 0;
    long a = syscall(SYS_umask, 011);
    int ea = a < 0 ? errno : 0;
    errno = 0;
    long b = syscall(SYS_umask, 022);
    int eb = b < 0 ? errno : 0;
    long c = syscall(SYS_umask, 033);
    return ea == ENOTTY && eb == ENOTTY && c >= 0 ? 0 : 1;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, KillProcessKillsWithSigsys) {
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_KILL_PROCESS")});
  int st = run_child([&] {
    if (!load_seccomp(s)) return 250;
    syscall(SYS_getppid);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(SeccompLoad, KillIsKillThread) {
  // In a single-threaded process killing the thread ends the process too.
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_KILL")});
  int st = run_child([&] {
    if (!load_seccomp(s)) return 250;
    syscall(SYS_getppid);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

volatile sig_atomic_t g_trapped_syscall = -1;

// si_code of a SIGSYS raised by SECCOMP_RET_TRAP (asm-generic/siginfo.h;
// glibc does not export the name).
constexpr int kSysSeccomp = 1;

void on_sigsys(int, siginfo_t* info, void*) {
  if (info->si_code == kSysSeccomp) g_trapped_syscall = info->si_syscall;
}

TEST(SeccompLoad, TrapDeliversSigsys) {
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_TRAP")});
  int st = run_child([&] {
    struct sigaction sa = {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, nullptr);
    if (!load_seccomp(s)) return 250;
    syscall(SYS_getppid);
    return g_trapped_syscall == SYS_getppid ? 0 : 1;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, TraceWithoutTracerFailsWithEnosys) {
  // With no ptracer attached the kernel answers SECCOMP_RET_TRACE with ENOSYS.
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_TRACE")});
  int st = run_child([&] { return errno_after(s, [] { return syscall(SYS_getppid); }); });
  EXPECT_EQ(exit_code(st), ENOSYS);
}

TEST(SeccompLoad, LogLetsTheCallThrough) {
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_LOG")});
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  pid_t parent = getpid();
  int st = run_child([&] {
    if (!load_seccomp(s)) return 250;
    return syscall(SYS_getppid) == parent ? 0 : 1;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, SkipsUnknownSyscallsAndRulesEqualToDefault) {
  auto s = allow_by_default({rule({"not_a_syscall_berth", "getppid"}, "SCMP_ACT_ERRNO", 61),
                             rule({"getpid"}, "SCMP_ACT_ALLOW")});
  int st = run_child([&] { return errno_after(s, [] { return syscall(SYS_getppid); }); });
  EXPECT_EQ(exit_code(st), 61);
}

TEST(SeccompLoad, NotifyReturnsListenerThatAnswersCalls) {
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  s.listener_path = "/unused.sock";
  int st = run_child([&] {
    auto fd = load_seccomp(s);
    if (!fd || !fd->valid()) return 250;
    pid_t caller = fork();
    if (caller == 0) {
      errno = 0;
      long rc = syscall(SYS_getppid);  // blocks until the listener answers
      _exit(rc < 0 ? errno : 0);
    }
    struct seccomp_notif* req = nullptr;
    struct seccomp_notif_resp* resp = nullptr;
    if (seccomp_notify_alloc(&req, &resp) != 0) return 251;
    int result = 252;
    if (seccomp_notify_receive(fd->get(), req) == 0 && req->data.nr == SYS_getppid &&
        static_cast<pid_t>(req->pid) == caller) {
      resp->id = req->id;
      resp->val = 0;
      resp->error = -EXDEV;
      resp->flags = 0;
      if (seccomp_notify_respond(fd->get(), resp) == 0) result = 0;
    }
    seccomp_notify_free(req, resp);
    int cst = 0;
    waitpid(caller, &cst, 0);
    if (result != 0) return result;
    return WIFEXITED(cst) && WEXITSTATUS(cst) == EXDEV ? 0 : 253;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, WithoutNotifyRulesNoListenerIsReturned) {
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_ERRNO")});
  int st = run_child([&] {
    auto fd = load_seccomp(s);
    if (!fd) return 250;
    return fd->valid() ? 1 : 0;
  });
  EXPECT_EQ(exit_code(st), 0);
}

TEST(SeccompLoad, DoesNotSetNoNewPrivs) {
  // Only a process with CAP_SYS_ADMIN may load a filter without NNP.
  if (geteuid() != 0) {
    if (getenv("BERTH_TEST_ROOT") != nullptr) FAIL() << "BERTH_TEST_ROOT=1 but not root";
    GTEST_SKIP() << "needs root (CAP_SYS_ADMIN) to load a filter without no_new_privs";
  }
  auto s = allow_by_default({rule({"getppid"}, "SCMP_ACT_ERRNO")});
  pid_t pid = fork();
  if (pid == 0) {
    if (!load_seccomp(s)) _exit(250);
    _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 ? 0 : 1);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_EQ(exit_code(st), 0);
}

// compile_seccomp + install_seccomp: the program the init installs behaves
// as libseccomp's own load of the same profile.
TEST(SeccompCompiled, InstalledProgramBehavesLikeTheProfile) {
  oci::Seccomp s = allow_by_default(
      {rule({"getppid"}, "SCMP_ACT_ERRNO", 42),
       rule({"personality"}, "SCMP_ACT_ERRNO", 7, {arg(0, "SCMP_CMP_EQ", 0xffff)})});
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_FALSE(c->uses_notify);
  EXPECT_GT(c->program.size(), 3u);
  EXPECT_EQ(c->flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG));
  int st = run_child([&] {
    if (!install_seccomp(*c)) return 250;
    errno = 0;
    if (syscall(SYS_getppid) >= 0 || errno != 42) return 1;
    if (syscall(SYS_personality, 0xffff) >= 0 || errno != 7) return 2;
    if (syscall(SYS_personality, 0xffffffff) < 0) return 3;  // other argument: allowed
    if (syscall(SYS_getpid) < 0) return 4;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(SeccompCompiled, DockerLikeProfileCompilesAndBadOnesFailAsCheckDoes) {
  auto c = compile_seccomp(docker_like_profile());
  ASSERT_TRUE(c.has_value()) << c.error().message;
  int st = run_child([&] {
    if (!install_seccomp(*c)) return 250;
    errno = 0;
    if (syscall(SYS_clone3, nullptr, 0) >= 0 || errno != ENOSYS) return 1;
    if (syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent-berth/x", 0700) >= 0 || errno != EPERM)
      return 2;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  oci::Seccomp bad = allow_by_default({rule({"getpid"}, "SCMP_ACT_FOO")});
  auto b = compile_seccomp(bad);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().message, check_seccomp(bad).error().message);
}

// Profiles with many rules (docker's default among them) are built as a
// binary tree; every kind of decision of the profile must survive that:
// plain allows, allows limited by argument (EQ, NE, MASKED_EQ), errno rules
// and the default action, through both load paths.
TEST(SeccompCompiled, BinaryTreeKeepsEveryDecisionOfTheProfile) {
  const oci::Seccomp s = docker_like_profile();
  auto decisions = [] {
    errno = 0;
    if (syscall(SYS_getpid) < 0) return 1;
    if (syscall(SYS_personality, 0xffffffffUL) < 0) return 2;  // query: allowed by value
    if (syscall(SYS_personality, 0x0008UL) >= 0 || errno != 1) return 3;
    int fd = static_cast<int>(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
    if (fd < 0) return 4;
    ::close(fd);
    if (syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0) >= 0 || errno != 1) return 5;
    if (syscall(SYS_clone3, nullptr, 0) >= 0 || errno != ENOSYS) return 6;
    if (syscall(SYS_getppid) >= 0 || errno != 1) return 7;  // not listed: default
    if (syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent-berth/x", 0700) >= 0 || errno != 1) return 8;
    return 0;
  };
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  int st = run_child([&] { return install_seccomp(*c) ? decisions() : 250; });
  EXPECT_EQ(exit_code(st), 0) << "compiled program";
  st = run_child([&] { return load_seccomp(s) ? decisions() : 250; });
  EXPECT_EQ(exit_code(st), 0) << "libseccomp's load";
}

TEST(SeccompCompiled, NotifyProfilesAreLeftToLibseccomp) {
  auto c = compile_seccomp(allow_by_default({rule({"getppid"}, "SCMP_ACT_NOTIFY")}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->uses_notify);
  EXPECT_TRUE(c->program.empty());
  EXPECT_FALSE(install_seccomp(*c).has_value());
}

TEST(SeccompCache, SecondCompileComesFromTheCacheAndBehavesTheSame) {
  char tmpl[] = "/tmp/berth-seccomp-cache-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/cache";
  oci::Seccomp s = allow_by_default({rule({"getppid"}, "SCMP_ACT_ERRNO", 42)});
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  auto first = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto second = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->flags, first->flags);
  ASSERT_EQ(second->program.size(), first->program.size());
  EXPECT_EQ(std::memcmp(second->program.data(), first->program.data(),
                        first->program.size() * sizeof(sock_filter)),
            0);
  int status = run_child([&] {
    if (!install_seccomp(*second)) return 250;
    errno = 0;
    return syscall(SYS_getppid) < 0 && errno == 42 ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // A different profile is another entry; a damaged entry is compiled again.
  oci::Seccomp other = allow_by_default({rule({"getppid"}, "SCMP_ACT_ERRNO", 43)});
  ASSERT_TRUE(compile_seccomp_cached(other, dir).has_value());
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  EXPECT_EQ(n, 2u);
  // Another profile's entry under this profile's name (a hash collision, or
  // one crafted) is a miss: the fingerprint inside must match in full.
  std::string other_file;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path() != files[0]) other_file = e.path();
  std::filesystem::copy_file(other_file, files[0],
                             std::filesystem::copy_options::overwrite_existing);
  auto swapped = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(swapped.has_value());
  status = run_child([&] {
    if (!install_seccomp(*swapped)) return 250;
    errno = 0;
    return syscall(SYS_getppid) < 0 && errno == 42 ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the other profile's program was used";
  ASSERT_TRUE(write_file(files[0], "short", false).has_value());
  auto again = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->program.size(), first->program.size());
  // NOTIFY profiles are not cached; bad profiles fail as without a cache.
  ASSERT_TRUE(compile_seccomp_cached(allow_by_default({rule({"getppid"}, "SCMP_ACT_NOTIFY")}), dir)
                  .value()
                  .uses_notify);
  n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  EXPECT_EQ(n, 2u);
  EXPECT_FALSE(compile_seccomp_cached(allow_by_default({rule({"getpid"}, "SCMP_ACT_FOO")}), dir)
                   .has_value());
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace berth::runtime
