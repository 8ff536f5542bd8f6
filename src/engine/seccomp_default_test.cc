#include "engine/seccomp_default.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>

#include "engine/seccomp_profile_internal.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine {
namespace {

// What the filter answers for one call: the action of the first rule whose
// name and argument conditions match (conditions on distinct indexes must
// all hold), else the default. Enough to check the profile's effect.
std::string evaluate(const oci::Seccomp& s, const std::string& name,
                     std::vector<uint64_t> args = {}) {
  args.resize(6, 0);
  for (const auto& rule : s.syscalls) {
    if (std::find(rule.names.begin(), rule.names.end(), name) == rule.names.end()) continue;
    bool all = true;
    for (const auto& a : rule.args) {
      uint64_t v = args[a.index];
      bool m = false;
      if (a.op == "SCMP_CMP_EQ") m = v == a.value;
      if (a.op == "SCMP_CMP_NE") m = v != a.value;
      if (a.op == "SCMP_CMP_MASKED_EQ") m = (v & a.value) == a.value_two;
      if (a.op == "SCMP_CMP_GE") m = v >= a.value;
      if (a.op == "SCMP_CMP_GT") m = v > a.value;
      if (a.op == "SCMP_CMP_LE") m = v <= a.value;
      if (a.op == "SCMP_CMP_LT") m = v < a.value;
      all = all && m;
    }
    if (!all) continue;
    if (rule.action == "SCMP_ACT_ERRNO") {
      return "errno:" + std::to_string(rule.errno_ret.value_or(1));
    }
    return rule.action;
  }
  return s.default_action == "SCMP_ACT_ERRNO"
             ? "errno:" + std::to_string(s.default_errno_ret.value_or(1))
             : s.default_action;
}

const std::vector<std::string>& default_caps() {
  return spec_internal::docker_default_capabilities();
}

TEST(SeccompDefault, DenyByDefaultWithEperm) {
  auto s = default_seccomp_profile(default_caps(), "amd64");
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.default_errno_ret, 1u);
  EXPECT_EQ(s.architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  auto arm = default_seccomp_profile(default_caps(), "arm64");
  EXPECT_EQ(arm.architectures, (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
}

TEST(SeccompDefault, AllowsWhatBusyboxShellNeeds) {
  auto s = default_seccomp_profile(default_caps(), "amd64");
  for (const char* sc : {"read",         "write",
                         "openat",       "close",
                         "execve",       "fork",
                         "vfork",        "wait4",
                         "brk",          "mmap",
                         "mprotect",     "munmap",
                         "rt_sigaction", "rt_sigprocmask",
                         "rt_sigreturn", "ioctl",
                         "getpid",       "getppid",
                         "getuid",       "geteuid",
                         "dup2",         "pipe",
                         "pipe2",        "fcntl",
                         "stat",         "newfstatat",
                         "statx",        "lseek",
                         "getdents64",   "chdir",
                         "getcwd",       "uname",
                         "exit_group",   "set_tid_address",
                         "arch_prctl",   "kill",
                         "nanosleep",    "clock_gettime",
                         "poll",         "getrandom",
                         "prlimit64",    "setuid",
                         "setgid",       "setgroups",
                         "capget",       "capset",
                         "prctl",        "umask",
                         "rseq"}) {
    EXPECT_EQ(evaluate(s, sc), "SCMP_ACT_ALLOW") << sc;
  }
  // fork-style clone (SIGCHLD | CLONE_CHILD_SETTID ...) is fine.
  EXPECT_EQ(evaluate(s, "clone", {0x01200011}), "SCMP_ACT_ALLOW");
  // sockets, except AF_VSOCK.
  EXPECT_EQ(evaluate(s, "socket", {2}), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "socket", {40}), "errno:1");
}

TEST(SeccompDefault, DeniesPrivilegedFamiliesWithoutCaps) {
  auto s = default_seccomp_profile(default_caps(), "amd64");
  for (const char* sc : {"mount",
                         "umount2",
                         "unshare",
                         "setns",
                         "keyctl",
                         "add_key",
                         "request_key",
                         "kexec_load",
                         "init_module",
                         "reboot",
                         "swapon",
                         "pivot_root",
                         "bpf",
                         "perf_event_open",
                         "ptrace_nonexistent",
                         "settimeofday",
                         "acct",
                         "open_by_handle_at",
                         "iopl",
                         "userfaultfd",
                         "kcmp",
                         "sethostname",
                         "fsopen",
                         "move_mount"}) {
    EXPECT_EQ(evaluate(s, sc), "errno:1") << sc;
  }
  EXPECT_EQ(evaluate(s, "unshare", {CLONE_NEWUSER}), "errno:1");
  EXPECT_EQ(evaluate(s, "clone", {CLONE_NEWUSER | 0x11}), "errno:1");
  EXPECT_EQ(evaluate(s, "clone", {CLONE_NEWNS}), "errno:1");
  EXPECT_EQ(evaluate(s, "clone", {CLONE_NEWNET}), "errno:1");
  // clone3 answers ENOSYS so libc falls back to the checked clone(2).
  EXPECT_EQ(evaluate(s, "clone3"), "errno:38");
  // personality: Linux personas only.
  EXPECT_EQ(evaluate(s, "personality", {0}), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "personality", {0xffffffff}), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "personality", {0x0040000}), "errno:1");  // ADDR_NO_RANDOMIZE
  // chroot is in docker's default caps (CAP_SYS_CHROOT).
  EXPECT_EQ(evaluate(s, "chroot"), "SCMP_ACT_ALLOW");
}

TEST(SeccompDefault, CapabilitiesOpenTheirFamilies) {
  auto caps = default_caps();
  caps.push_back("CAP_SYS_ADMIN");
  caps.push_back("CAP_SYS_PTRACE");
  caps.push_back("CAP_SYS_TIME");
  auto s = default_seccomp_profile(caps, "amd64");
  EXPECT_EQ(evaluate(s, "mount"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "unshare", {CLONE_NEWUSER}), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "clone", {CLONE_NEWNS}), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "clone3"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "kcmp"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "settimeofday"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(s, "keyctl"), "errno:1");  // never allowed by default
  // Without CAP_SYS_CHROOT, chroot is denied.
  std::vector<std::string> few = {"CAP_CHOWN"};
  EXPECT_EQ(evaluate(default_seccomp_profile(few, "amd64"), "chroot"), "errno:1");
}

TEST(SeccompDefault, ArchSpecificCalls) {
  auto amd = default_seccomp_profile(default_caps(), "amd64");
  EXPECT_EQ(evaluate(amd, "arch_prctl"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(amd, "set_tls"), "errno:1");
  auto arm = default_seccomp_profile(default_caps(), "arm64");
  EXPECT_EQ(evaluate(arm, "set_tls"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(arm, "arch_prctl"), "errno:1");
  auto s390 = default_seccomp_profile(default_caps(), "s390x");
  // s390 passes clone flags in the second argument.
  EXPECT_EQ(evaluate(s390, "clone", {0, CLONE_NEWUSER}), "errno:1");
  EXPECT_EQ(evaluate(s390, "clone", {0, 0x11}), "SCMP_ACT_ALLOW");
}

TEST(SeccompProfile, LoadsDockerFormat) {
  const char* json = R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "archMap": [
      {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
      {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
    ],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
      {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
      {"names": ["newcall"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
      {"names": ["oldcall"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "3.0"}},
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_CHOWN"]}}
    ]
  })";
  auto s = load_seccomp_profile(json, {"CAP_CHOWN"}, "amd64");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  EXPECT_EQ(evaluate(*s, "read"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(*s, "mkdir"), "errno:13");
  EXPECT_EQ(evaluate(*s, "mount"), "errno:1");
  EXPECT_EQ(evaluate(*s, "personality", {8}), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(*s, "personality", {9}), "errno:1");
  EXPECT_EQ(evaluate(*s, "arch_prctl"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(*s, "newcall"), "errno:1");
  EXPECT_EQ(evaluate(*s, "oldcall"), "errno:1");
  EXPECT_EQ(evaluate(*s, "clone"), "errno:1");
  auto admin = load_seccomp_profile(json, {"CAP_SYS_ADMIN"}, "arm64");
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->architectures, (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_EQ(evaluate(*admin, "mount"), "SCMP_ACT_ALLOW");
  EXPECT_EQ(evaluate(*admin, "arch_prctl"), "errno:1");
  EXPECT_EQ(evaluate(*admin, "clone"), "SCMP_ACT_ALLOW");
}

TEST(SeccompProfile, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* needle;
  } cases[] = {
      {"[]", "must be a JSON object"},
      {"{", "seccomp profile"},
      {R"({"syscalls": []})", "defaultAction"},
      {R"({"defaultAction": 5})", "defaultAction"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"]}]})",
       "syscalls[0].action"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]})",
       "syscalls[0].names"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"],
          "action": "SCMP_ACT_ERRNO"}]})",
       "'name' and 'names'"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"],
          "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
       "syscalls[0].args[0].index"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"],
          "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]})",
       "syscalls[0].args[0].value"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
          "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
       "archMap"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"],
          "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]})",
       "syscalls[0].includes.minKernel"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read",
          "action": "SCMP_ACT_ALLOW"}]})",
       "syscalls[0].names"},
  };
  for (const auto& c : cases) {
    auto s = load_seccomp_profile(c.json, {}, "amd64");
    ASSERT_FALSE(s) << c.json;
    EXPECT_EQ(s.error().code, Errc::InvalidArgument) << c.json;
    EXPECT_NE(s.error().message.find(c.needle), std::string::npos)
        << c.json << " -> " << s.error().message;
  }
}

}  // namespace
}  // namespace berth::engine
