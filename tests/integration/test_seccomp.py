"""linux.seccomp: actions, errnoRet, default actions, argument conditions and
architectures, observed from the probe's syscalls and /proc/self/status."""

import json

import pytest

from runtime import run_probe_json

ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]

# What the runtime and the static probe/busybox need, for default-deny profiles.
BASE_ALLOW = [
    "access", "arch_prctl", "brk", "capget", "capset", "chdir", "close", "close_range",
    "dup", "dup2", "dup3", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_wait",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fchdir", "fchown",
    "fcntl", "fstat", "fstatfs", "futex", "getdents64", "getegid", "geteuid", "getgid",
    "getgroups", "getpid", "getppid", "getrandom", "getrlimit", "gettid", "getuid", "ioctl",
    "lseek", "madvise", "mmap", "mprotect", "munmap", "nanosleep", "newfstatat", "open",
    "openat", "openat2", "prctl", "pread64", "prlimit64", "read", "readlink", "readlinkat",
    "rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sched_getaffinity",
    "sched_yield", "set_robust_list", "set_tid_address", "setgid", "setgroups", "setuid",
    "setresuid", "setresgid", "sigaltstack", "stat", "statx", "tgkill", "umask", "uname",
    "wait4", "waitid", "write", "writev", "clone", "clone3", "fork", "vfork", "kill",
]


def profile(default="SCMP_ACT_ALLOW", syscalls=(), **extra):
    p = {"defaultAction": default, "architectures": ARCHES, "syscalls": list(syscalls)}
    p.update(extra)
    return p


def run_syscall(rt, bundle, *args):
    bundle.probe("syscall", *args)
    cid, r = rt.run(bundle)
    return r, (json.loads(r.stdout) if r.stdout.startswith("{") else None)


def test_filter_installed(rt, bundle):
    bundle.seccomp(profile(syscalls=[{"names": ["personality"], "action": "SCMP_ACT_ERRNO"}]))
    assert run_probe_json(rt, bundle)["seccomp"] == 2


def test_no_seccomp_mode_zero(rt, bundle):
    bundle.linux.pop("seccomp", None)
    assert run_probe_json(rt, bundle)["seccomp"] == 0


def test_errno_with_errno_ret(rt, bundle):
    bundle.seccomp(profile(syscalls=[
        {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]))
    r, out = run_syscall(rt, bundle, "unshare")
    assert out == {"syscall": "unshare", "ret": -1, "ok": False, "errno": "EACCES"}, r
    _, out = run_syscall(rt, bundle, "uname")
    assert out["ok"] is True


def test_errno_default_is_eperm(rt, bundle):
    bundle.seccomp(profile(syscalls=[{"names": ["mkdir", "mkdirat"],
                                      "action": "SCMP_ACT_ERRNO"}]))
    bundle.config["root"]["readonly"] = False
    r, out = run_syscall(rt, bundle, "mkdir", "/newdir")
    assert out["errno"] == "EPERM", r


def test_default_action_errno(rt, bundle):
    # getcwd is not in the allow list.
    bundle.seccomp(profile(default="SCMP_ACT_ERRNO", defaultErrnoRet=38, syscalls=[
        {"names": BASE_ALLOW, "action": "SCMP_ACT_ALLOW"}]))
    r, out = run_syscall(rt, bundle, "getcwd")
    assert r.returncode == 1, r
    assert out["errno"] == "ENOSYS", out  # defaultErrnoRet 38
    r, out = run_syscall(rt, bundle, "uname")
    assert out["ok"] is True, r


def test_kill_process_sigsys(rt, bundle):
    bundle.seccomp(profile(syscalls=[{"names": ["unshare"], "action": "SCMP_ACT_KILL_PROCESS"}]))
    r, out = run_syscall(rt, bundle, "unshare")
    assert r.returncode == 128 + 31, r  # killed by SIGSYS
    assert out is None


def test_argument_condition(rt, bundle):
    # personality(8) is refused; any other persona passes.
    bundle.seccomp(profile(syscalls=[{
        "names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
        "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]))
    _, out = run_syscall(rt, bundle, "personality", "8")
    assert out["errno"] == "EACCES", out
    _, out = run_syscall(rt, bundle, "personality", "0xffffffff")
    assert out["ok"] is True, out


def test_masked_eq_condition(rt, bundle):
    bundle.seccomp(profile(syscalls=[{
        "names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
        "args": [{"index": 0, "value": 0xff, "valueTwo": 0x08, "op": "SCMP_CMP_MASKED_EQ"}]}]))
    _, out = run_syscall(rt, bundle, "personality", "0x108")
    assert out["errno"] == "EPERM", out
    _, out = run_syscall(rt, bundle, "personality", "0xffffffff")
    assert out["ok"] is True, out


def test_architectures_native_only(rt, bundle):
    bundle.seccomp({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                    "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
                                  "errnoRet": 1}]})
    _, out = run_syscall(rt, bundle, "unshare")
    assert out["errno"] == "EPERM"


@pytest.mark.parametrize("bad", [
    {"defaultAction": "SCMP_ACT_BOGUS"},
    {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_BOGUS"]},
    {"defaultAction": "SCMP_ACT_ALLOW",
     "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_NOPE"}]},
    {"defaultAction": "SCMP_ACT_ALLOW",
     "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
])
def test_invalid_profile_rejected(rt, bundle, bad):
    bundle.seccomp(bad)
    cid, r = rt.run(bundle)
    assert r.returncode != 0 and r.returncode != 159, r
    assert r.stderr.strip(), r
    assert rt.state_or_none(cid) is None
    assert r.stdout == ""


def test_unknown_syscall_name_ignored_or_rejected(rt, bundle):
    # Runtimes skip syscall names the kernel/libseccomp does not know (so one
    # profile serves many kernels); the known rule must still apply.
    bundle.seccomp(profile(syscalls=[{"names": ["berth_no_such_syscall", "unshare"],
                                      "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]))
    r, out = run_syscall(rt, bundle, "unshare")
    assert out is not None and out["errno"] == "EPERM", r


def test_exec_process_gets_filter(rt, bundle):
    bundle.seccomp(profile(syscalls=[{"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
                                      "errnoRet": 13}]))
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    r = rt.cmd("exec", cid, "/probe", "syscall", "unshare")
    assert json.loads(r.stdout)["errno"] == "EACCES", r
