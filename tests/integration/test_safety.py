"""Safety: no runtime fd leaks into the container, the container cannot open the
runtime binary for writing through /proc/PID/exe (CVE-2019-5736 class), and
failed creates leave no mounts, cgroups, state or processes behind."""

import hashlib
import json
import os
import subprocess
import stat
import time
import uuid

import pytest

from leaks import Snapshot
from runtime import proc_start_time


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def extra_fds():
    """Inheritable fds (no O_CLOEXEC) handed to the runtime via pass_fds."""
    fds = [os.open("/dev/null", os.O_RDONLY)]
    r, w = os.pipe()
    fds += [r, w]
    fds.append(os.open("/etc/hostname", os.O_RDONLY))
    for fd in fds:
        os.set_inheritable(fd, True)
    yield tuple(fds)
    for fd in fds:
        os.close(fd)


def fd_numbers(data):
    return [f["fd"] for f in data["fds"]]


def test_no_fd_leak_run(rt, bundle, extra_fds):
    cid, r = rt.run(bundle, pass_fds=extra_fds)
    assert r.returncode == 0, r
    data = json.loads(r.stdout)
    assert fd_numbers(data) == [0, 1, 2], data["fds"]


def test_no_fd_leak_create_start(rt, bundle, extra_fds):
    cid, _ = rt.create(bundle, pass_fds=extra_fds)
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    data = json.loads(rt.output(cid))
    assert fd_numbers(data) == [0, 1, 2], data["fds"]


def test_no_fd_leak_exec(rt, bundle, extra_fds):
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    r = rt.cmd("exec", cid, "/probe", "all", pass_fds=extra_fds)
    assert r.returncode == 0, r
    data = json.loads(r.stdout)
    assert fd_numbers(data) == [0, 1, 2], data["fds"]


def test_init_exe_not_writable(rt, bundle):
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    r = rt.cmd("exec", cid, "/probe", "open", "/proc/1/exe", "w")
    out = json.loads(r.stdout)
    assert out["ok"] is False, out
    assert out["errno"] in ("ETXTBSY", "EACCES", "EPERM"), out


def test_runtime_binary_not_writable_during_exec(rt, bundle, runtime_bin):
    """A container process keeps trying to open every /proc/PID/exe for writing
    while the runtime joins the container with `exec` several times."""
    before = sha256(runtime_bin)
    script = ("i=0; while [ $i -lt 150 ]; do for p in /proc/[0-9]*; do "
              "/probe open $p/exe w; done; i=$((i+1)); done 2>/dev/null")
    bundle.args("/bin/sh", "-c", script)
    cid, _ = rt.create(bundle)
    rt.start(cid)
    for _ in range(8):
        r = rt.cmd("exec", cid, "/probe", "exit", "0")
        if r.returncode != 0 and rt.state(cid)["status"] == "stopped":
            break
    rt.wait_status(cid, "stopped", timeout=60)
    results = [json.loads(x) for x in rt.output(cid).splitlines() if x.startswith("{")]
    assert results, "the container printed nothing"
    opened = [x for x in results if x["ok"]]
    assert opened == [], f"{len(opened)} writable opens of /proc/*/exe"
    assert sha256(runtime_bin) == before


FAILURES = {
    "bind_source_missing": lambda b: b.add_mount("/data", "/nonexistent/berth", "bind",
                                                 ["bind"]),
    "invalid_seccomp": lambda b: b.seccomp({"defaultAction": "SCMP_ACT_BOGUS"}),
    "failing_hook": lambda b: b.add_hook("createRuntime", "/bin/sh",
                                         args=["sh", "-c", "cat >/dev/null; exit 1"]),
    "missing_executable": lambda b: b.args("/no/such/binary"),
    "bad_sysctl": lambda b: b.linux.__setitem__("sysctl", {"net.berth.nope": "1"}),
    "bad_device": lambda b: b.linux.__setitem__("devices", [
        {"path": "/dev/x", "type": "q", "major": 1, "minor": 3}]),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failed_create_leaves_nothing(rt, bundle, workdir, case):
    name = f"berth-it-{uuid.uuid4().hex[:10]}"
    bundle.linux["cgroupsPath"] = f"/{name}"
    bundle.resources()["pids"] = {"limit": 100}
    bundle.probe("sleep", "60")
    FAILURES[case](bundle)
    snap = Snapshot(workdir, cgroup_name=name)
    cid, r = rt.create(bundle, check=False)
    if r.returncode == 0:
        # Some checks (a missing executable) may legitimately surface at start.
        r = rt.start(cid, check=False)
        assert r.returncode != 0, r
        rt.delete(cid, force=True)
    assert rt.state_or_none(cid) is None
    snap.assert_clean(rt)


def test_rootfs_bind_leaves_host_mounts_alone(rt, bundle):
    before = open("/proc/self/mountinfo").read()
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    during = open("/proc/self/mountinfo").read()
    assert during == before, "runtime mounted in the host mount namespace"
    rt.delete(cid, force=True)
    assert open("/proc/self/mountinfo").read() == before


def test_container_cannot_see_host_processes(rt, bundle):
    bundle.probe("ls", "/proc")
    cid, r = rt.run(bundle)
    entries = json.loads(r.stdout)["entries"]
    pids = sorted(int(e) for e in entries if e.isdigit())
    assert pids == [1], pids


def test_state_dir_not_world_writable(rt, bundle):
    bundle.probe("sleep", "60")
    cid, _ = rt.create(bundle)
    # Directories and regular files; fifos/sockets are guarded by their dir.
    for dirpath, dirnames, filenames in os.walk(rt.root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
                assert not st.st_mode & 0o002, path


def test_kill_all_reaches_exec_processes(rt, bundle, workdir):
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    pid_file = os.path.join(workdir, "exec.pid")
    rt.ok("exec", "-d", "--pid-file", pid_file, cid, "/probe", "sleep", "60")
    with open(pid_file) as f:
        exec_pid = int(f.read())
    rt.kill(cid, "KILL", all=True)
    rt.wait_status(cid, "stopped")
    deadline = time.monotonic() + 10
    while proc_start_time(exec_pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc_start_time(exec_pid) is None


def _named_cgroup(bundle):
    name = f"berth-it-{uuid.uuid4().hex[:10]}"
    bundle.linux["cgroupsPath"] = f"/{name}"
    bundle.resources()["pids"] = {"limit": 100}
    return name


def test_failed_start_then_delete_leaves_nothing(rt, bundle, workdir):
    # The startContainer hook runs inside the container after `start`: its
    # failure kills the init; `delete` must then clean up everything.
    name = _named_cgroup(bundle)
    bundle.add_hook("startContainer", "/bin/sh", args=["sh", "-c", "exit 1"])
    bundle.probe("sleep", "60")
    snap = Snapshot(workdir, cgroup_name=name)
    cid, _ = rt.create(bundle)
    rt.start(cid, check=False)
    deadline = time.monotonic() + 10
    while rt.state(cid)["status"] != "stopped" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rt.state(cid)["status"] == "stopped"
    rt.delete(cid)
    assert rt.state_or_none(cid) is None
    snap.assert_clean(rt)


def test_failed_run_leaves_nothing(rt, bundle, workdir):
    name = _named_cgroup(bundle)
    bundle.add_hook("startContainer", "/bin/sh", args=["sh", "-c", "exit 1"])
    bundle.probe("sleep", "60")
    snap = Snapshot(workdir, cgroup_name=name)
    cid, r = rt.run(bundle, check=False)
    assert r.returncode != 0, r
    assert rt.state_or_none(cid) is None
    snap.assert_clean(rt)


def test_delete_running_leaves_nothing(rt, bundle, workdir):
    name = _named_cgroup(bundle)
    bundle.args("/bin/sh", "-c", "/probe sleep 60 & /probe sleep 60 & exec /probe sleep 60")
    snap = Snapshot(workdir, cgroup_name=name)
    cid, _ = rt.create(bundle)
    rt.start(cid)
    deadline = time.monotonic() + 10
    while len(json.loads(rt.ok("ps", "-f", "json", cid).stdout)) < 3 and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(json.loads(rt.ok("ps", "-f", "json", cid).stdout)) == 3
    rt.delete(cid, force=True)
    assert rt.state_or_none(cid) is None
    snap.assert_clean(rt)


def test_preserve_fds_passes_exactly_those(rt, bundle, workdir):
    # --preserve-fds 1: the caller's fd 3 reaches the container (runc's
    # contract), fd 4 does not.
    out = os.path.join(workdir, "preserved.txt")
    bundle.args("/bin/sh", "-c", "echo via-fd3 >&3; exec /probe all").write()
    cid = f"t-{uuid.uuid4().hex[:12]}"
    script = (f'exec 3>"{out}" 4</dev/null; exec "{rt.binary}" --root "{rt.root}" run '
              f'--preserve-fds 1 --bundle "{bundle.path}" {cid}')
    r = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r
    with open(out) as f:
        assert f.read() == "via-fd3\n"
    fds = fd_numbers(json.loads(r.stdout))
    assert fds == [0, 1, 2, 3], fds
