// seccomp_default: berth's equivalent of docker's default seccomp profile.
//
// The rules below restate docker's documented behaviour: deny by default
// with EPERM, allow the syscalls ordinary programs use, and open the
// privileged families only to containers holding the capability that the
// kernel would demand anyway (so the filter never allows what the
// capability set forbids, and a container given a capability can use it).
#include <sys/utsname.h>

#include <algorithm>

#include "base/strings.h"
#include "engine/seccomp_default.h"
#include "engine/seccomp_profile_internal.h"

namespace berth::engine {
namespace si = seccomp_internal;
namespace {

// Syscalls every container may make. Grouped by purpose; names unknown to
// the host's libseccomp (other arches, newer kernels) are skipped by the
// runtime, as docker's profile relies on too.
const char* const kAllowed[] = {
    // files and directories
    "access",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "close",
    "close_range",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "flock",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futimesat",
    "getcwd",
    "getdents",
    "getdents64",
    "lchown",
    "lchown32",
    "link",
    "linkat",
    "_llseek",
    "lseek",
    "lstat",
    "lstat64",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pipe",
    "pipe2",
    "pread64",
    "preadv",
    "preadv2",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "rename",
    "renameat",
    "renameat2",
    "rmdir",
    "sendfile",
    "sendfile64",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "tee",
    "truncate",
    "truncate64",
    "umask",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vmsplice",
    "write",
    "writev",
    // extended attributes
    "fgetxattr",
    "flistxattr",
    "fremovexattr",
    "fsetxattr",
    "getxattr",
    "lgetxattr",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lsetxattr",
    "removexattr",
    "setxattr",
    // polling, events, inotify, fanotify marks
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "fanotify_mark",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "_newselect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "pselect6",
    "pselect6_time64",
    "select",
    "signalfd",
    "signalfd4",
    // async I/O
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    // memory
    "brk",
    "cachestat",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mremap",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "remap_file_pages",
    // processes, threads, credentials
    "capget",
    "capset",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "fork",
    "getcpu",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "get_thread_area",
    "gettid",
    "getuid",
    "getuid32",
    "prctl",
    "prlimit64",
    "restart_syscall",
    "rseq",
    "seccomp",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "ugetrlimit",
    "uname",
    "vfork",
    "wait4",
    "waitid",
    "waitpid",
    "sysinfo",
    "times",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "process_mrelease",
    "pidfd_open",
    "pidfd_send_signal",
    // futexes
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    // scheduling
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    // signals
    "alarm",
    "kill",
    "pause",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "sigprocmask",
    "sigreturn",
    "tgkill",
    "tkill",
    // time (reading; setting needs CAP_SYS_TIME)
    "adjtimex",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "getitimer",
    "gettimeofday",
    "nanosleep",
    "setitimer",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    // sockets (socket itself is below: AF_VSOCK is refused)
    "accept",
    "accept4",
    "bind",
    "connect",
    "getpeername",
    "getsockname",
    "getsockopt",
    "listen",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "send",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setsockopt",
    "shutdown",
    "socketcall",
    "socketpair",
    // System V IPC and POSIX message queues (namespaced)
    "ipc",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    // randomness; tracing helpers gated by ptrace access checks in the kernel
    "getrandom",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
};

si::Rule allow(std::vector<std::string> names) {
  si::Rule r;
  r.names = std::move(names);
  r.action = "SCMP_ACT_ALLOW";
  return r;
}

si::Rule allow_with_cap(std::string cap, std::vector<std::string> names) {
  si::Rule r = allow(std::move(names));
  r.includes.caps = {std::move(cap)};
  return r;
}

si::Rule allow_on(std::vector<std::string> arches, std::vector<std::string> names) {
  si::Rule r = allow(std::move(names));
  r.includes.arches = std::move(arches);
  return r;
}

oci::SeccompArg arg(uint32_t index, uint64_t value, uint64_t value_two, std::string op) {
  return oci::SeccompArg{index, value, value_two, std::move(op)};
}

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
// | CLONE_NEWPID | CLONE_NEWNET: creating any namespace needs CAP_SYS_ADMIN.
constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;
constexpr uint64_t kAfVsock = 40;
constexpr uint32_t kEnosys = 38;

si::Profile builtin_profile() {
  si::Profile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = 1;  // EPERM
  p.arch_map = {
      {"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}},
      {"SCMP_ARCH_MIPS64", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
      {"SCMP_ARCH_MIPS64N32", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
      {"SCMP_ARCH_MIPSEL64", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
      {"SCMP_ARCH_MIPSEL64N32", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
      {"SCMP_ARCH_S390X", {"SCMP_ARCH_S390"}},
      {"SCMP_ARCH_RISCV64", {}},
      {"SCMP_ARCH_PPC64LE", {}},
  };
  p.syscalls.push_back(allow({std::begin(kAllowed), std::end(kAllowed)}));

  // socket(2) for every family but AF_VSOCK (reaches the host's hypervisor).
  si::Rule sock = allow({"socket"});
  sock.args = {arg(0, kAfVsock, 0, "SCMP_CMP_NE")};
  p.syscalls.push_back(sock);

  // personality(2): only the Linux personas (and the query 0xffffffff).
  for (uint64_t persona : {0x0ull, 0x0008ull, 0x20000ull, 0x20008ull, 0xffffffffull}) {
    si::Rule r = allow({"personality"});
    r.args = {arg(0, persona, 0, "SCMP_CMP_EQ")};
    p.syscalls.push_back(r);
  }

  // Architecture-specific calls.
  p.syscalls.push_back(allow_on({"ppc64le"}, {"sync_file_range2", "swapcontext"}));
  p.syscalls.push_back(
      allow_on({"arm", "arm64"}, {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                                  "breakpoint", "cacheflush", "set_tls"}));
  p.syscalls.push_back(allow_on({"amd64", "x32"}, {"arch_prctl"}));
  p.syscalls.push_back(allow_on({"amd64", "x32", "386"}, {"modify_ldt"}));
  p.syscalls.push_back(allow_on(
      {"s390", "s390x"}, {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}));
  p.syscalls.push_back(allow_on({"riscv64"}, {"riscv_flush_icache"}));

  // Capability-gated families.
  p.syscalls.push_back(allow_with_cap("CAP_DAC_READ_SEARCH", {"open_by_handle_at"}));
  p.syscalls.push_back(allow_with_cap("CAP_SYS_ADMIN", {"bpf",
                                                        "clone",
                                                        "clone3",
                                                        "fanotify_init",
                                                        "fsconfig",
                                                        "fsmount",
                                                        "fsopen",
                                                        "fspick",
                                                        "lookup_dcookie",
                                                        "mount",
                                                        "mount_setattr",
                                                        "move_mount",
                                                        "name_to_handle_at",
                                                        "open_tree",
                                                        "perf_event_open",
                                                        "quotactl",
                                                        "quotactl_fd",
                                                        "setdomainname",
                                                        "sethostname",
                                                        "setns",
                                                        "syslog",
                                                        "umount",
                                                        "umount2",
                                                        "unshare"}));
  // Without CAP_SYS_ADMIN clone(2) may not create namespaces. s390 passes
  // the flags in the second argument.
  {
    si::Rule r = allow({"clone"});
    r.args = {arg(0, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ")};
    r.excludes.caps = {"CAP_SYS_ADMIN"};
    r.excludes.arches = {"s390", "s390x"};
    p.syscalls.push_back(r);
    si::Rule s = allow({"clone"});
    s.args = {arg(1, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ")};
    s.excludes.caps = {"CAP_SYS_ADMIN"};
    s.includes.arches = {"s390", "s390x"};
    p.syscalls.push_back(s);
  }
  // clone3 passes its flags in memory a filter cannot read: answer ENOSYS so
  // libc falls back to clone(2), whose flags the rule above checks.
  {
    si::Rule r;
    r.names = {"clone3"};
    r.action = "SCMP_ACT_ERRNO";
    r.errno_ret = kEnosys;
    r.excludes.caps = {"CAP_SYS_ADMIN"};
    p.syscalls.push_back(r);
  }
  p.syscalls.push_back(allow_with_cap("CAP_SYS_BOOT", {"reboot"}));
  p.syscalls.push_back(allow_with_cap("CAP_SYS_CHROOT", {"chroot"}));
  p.syscalls.push_back(
      allow_with_cap("CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}));
  p.syscalls.push_back(allow_with_cap("CAP_SYS_PACCT", {"acct"}));
  p.syscalls.push_back(
      allow_with_cap("CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise",
                                        "process_vm_readv", "process_vm_writev", "ptrace"}));
  p.syscalls.push_back(allow_with_cap("CAP_SYS_RAWIO", {"iopl", "ioperm"}));
  p.syscalls.push_back(allow_with_cap(
      "CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}));
  p.syscalls.push_back(allow_with_cap("CAP_SYS_TTY_CONFIG", {"vhangup"}));
  p.syscalls.push_back(allow_with_cap(
      "CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}));
  p.syscalls.push_back(allow_with_cap("CAP_SYSLOG", {"syslog"}));
  p.syscalls.push_back(allow_with_cap("CAP_BPF", {"bpf"}));
  p.syscalls.push_back(allow_with_cap("CAP_PERFMON", {"perf_event_open"}));
  return p;
}

// "6.1.0-18-amd64" -> {6, 1}; missing parts are 0.
std::pair<int, int> kernel_version(std::string_view release) {
  auto parts = split(release, '.');
  auto num = [](const std::string& s) {
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return static_cast<int>(parse_int(s.substr(0, i)).value_or(0));
  };
  int major = parts.size() > 0 ? num(parts[0]) : 0;
  int minor = parts.size() > 1 ? num(parts[1]) : 0;
  return {major, minor};
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A rule's arch list names Go arches ("amd64") in docker's profiles; SCMP
// names are accepted too.
bool arch_listed(const std::vector<std::string>& list, std::string_view go_arch) {
  if (contains(list, go_arch)) return true;
  auto scmp = si::scmp_arches(go_arch);
  return !scmp.empty() && contains(list, scmp.front());
}

}  // namespace

namespace seccomp_internal {

std::vector<std::string> scmp_arches(std::string_view a) {
  if (a == "amd64") return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  if (a == "386") return {"SCMP_ARCH_X86"};
  if (a == "arm64") return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
  if (a == "arm") return {"SCMP_ARCH_ARM"};
  if (a == "ppc64le") return {"SCMP_ARCH_PPC64LE"};
  if (a == "ppc64") return {"SCMP_ARCH_PPC64"};
  if (a == "s390x") return {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"};
  if (a == "riscv64") return {"SCMP_ARCH_RISCV64"};
  if (a == "mips64le") return {"SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"};
  if (a == "mips64") return {"SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"};
  if (a == "mipsle") return {"SCMP_ARCH_MIPSEL"};
  if (a == "mips") return {"SCMP_ARCH_MIPS"};
  return {};
}

oci::Seccomp apply(const Profile& p, const std::vector<std::string>& caps, std::string_view arch,
                   std::string_view kernel) {
  std::string go_arch = arch.empty() ? host_go_arch() : std::string(arch);
  std::string release(kernel);
  if (release.empty()) {
    struct utsname u;
    if (uname(&u) == 0) release = u.release;
  }
  auto kver = kernel_version(release);
  auto kernel_at_least = [&](const std::string& min) { return kver >= kernel_version(min); };

  oci::Seccomp s;
  s.default_action = p.default_action;
  s.default_errno_ret = p.default_errno_ret;
  s.flags = p.flags;
  s.listener_path = p.listener_path;
  s.listener_metadata = p.listener_metadata;
  if (!p.architectures.empty()) {
    s.architectures = p.architectures;
  } else {
    auto native = scmp_arches(go_arch);
    for (const ArchMapEntry& e : p.arch_map) {
      if (!native.empty() && e.arch == native.front()) {
        s.architectures.push_back(e.arch);
        s.architectures.insert(s.architectures.end(), e.sub_arches.begin(), e.sub_arches.end());
      }
    }
  }
  for (const Rule& r : p.syscalls) {
    if (!r.excludes.arches.empty() && arch_listed(r.excludes.arches, go_arch)) continue;
    if (std::any_of(r.excludes.caps.begin(), r.excludes.caps.end(),
                    [&](const std::string& c) { return contains(caps, c); })) {
      continue;
    }
    if (!r.excludes.min_kernel.empty() && kernel_at_least(r.excludes.min_kernel)) continue;
    if (!r.includes.arches.empty() && !arch_listed(r.includes.arches, go_arch)) continue;
    if (!std::all_of(r.includes.caps.begin(), r.includes.caps.end(),
                     [&](const std::string& c) { return contains(caps, c); })) {
      continue;
    }
    if (!r.includes.min_kernel.empty() && !kernel_at_least(r.includes.min_kernel)) continue;
    oci::SeccompSyscall sc;
    sc.names = r.names;
    sc.action = r.action;
    sc.errno_ret = r.errno_ret;
    sc.args = r.args;
    s.syscalls.push_back(std::move(sc));
  }
  return s;
}

}  // namespace seccomp_internal

std::string host_go_arch() {
  struct utsname u;
  if (uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64" || m == "arm64") return "arm64";
  if (m == "i386" || m == "i686") return "386";
  if (starts_with(m, "armv")) return "arm";
  if (m == "ppc64le") return "ppc64le";
  if (m == "s390x") return "s390x";
  if (m == "riscv64") return "riscv64";
  return m;
}

oci::Seccomp default_seccomp_profile(const std::vector<std::string>& caps, std::string_view arch) {
  static const si::Profile profile = builtin_profile();
  return si::apply(profile, caps, arch);
}

}  // namespace berth::engine
