"""linux.resources on the machine's real cgroups (v1/hybrid or v2), read back
from the host through the container's own /proc/PID/cgroup, plus `update`."""

import json
import os
import uuid

import pytest

import cgroups

V2 = cgroups.version() == 2
MiB = 1024 * 1024


def running(rt, bundle):
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    return cid, rt.state(cid)["pid"]


def shares_to_weight(shares):
    # The conversion runc/crun/systemd use for cgroup v1 shares -> v2 weight.
    return 1 + ((shares - 2) * 9999) // 262142


@pytest.fixture
def cgroup_name():
    """A unique absolute cgroupsPath; its dirs are removed after the test if the
    runtime left them (which the test itself asserts against where relevant)."""
    name = f"berth-it-{uuid.uuid4().hex[:10]}"
    yield name
    for path in sorted(_dirs_named(name), key=len, reverse=True):
        try:
            os.rmdir(path)
        except OSError:
            pass


def _dirs_named(name):
    from leaks import cgroup_dirs_named
    return cgroup_dirs_named(name)


def test_memory_limit_and_reservation(rt, bundle):
    bundle.resources()["memory"] = {"limit": 64 * MiB, "reservation": 32 * MiB}
    _, pid = running(rt, bundle)
    if V2:
        assert cgroups.read(pid, "memory", "memory.max") == str(64 * MiB)
        assert cgroups.read(pid, "memory", "memory.low") == str(32 * MiB)
    else:
        assert cgroups.read(pid, "memory", "memory.limit_in_bytes") == str(64 * MiB)
        assert cgroups.read(pid, "memory", "memory.soft_limit_in_bytes") == str(32 * MiB)


def test_memory_swap(rt, bundle):
    bundle.resources()["memory"] = {"limit": 64 * MiB, "swap": 128 * MiB}
    swap_file = "memory.swap.max" if V2 else "memory.memsw.limit_in_bytes"
    probe_dir = "/sys/fs/cgroup" if V2 else "/sys/fs/cgroup/memory"
    supported = os.path.exists(os.path.join(probe_dir, swap_file)) or (
        V2 and any(os.path.exists(os.path.join(d, swap_file))
                   for d, _, _ in os.walk(probe_dir)))
    bundle.probe("sleep", "60")
    cid, r = rt.run(bundle, detach=True)
    if not supported:
        assert r.returncode != 0, r
        assert "swap" in r.stderr.lower() or "memsw" in r.stderr, r
        return
    assert r.returncode == 0, r
    pid = rt.state(cid)["pid"]
    if V2:  # v2 counts swap alone; OCI "swap" is memory+swap
        assert cgroups.read(pid, "memory", swap_file) == str(64 * MiB)
    else:
        assert cgroups.read(pid, "memory", swap_file) == str(128 * MiB)


def test_cpu_shares_quota_period(rt, bundle):
    bundle.resources()["cpu"] = {"shares": 512, "quota": 50000, "period": 100000}
    _, pid = running(rt, bundle)
    if V2:
        assert cgroups.read(pid, "cpu", "cpu.weight") == str(shares_to_weight(512))
        assert cgroups.read(pid, "cpu", "cpu.max") == "50000 100000"
    else:
        assert cgroups.read(pid, "cpu", "cpu.shares") == "512"
        assert cgroups.read(pid, "cpu", "cpu.cfs_quota_us") == "50000"
        assert cgroups.read(pid, "cpu", "cpu.cfs_period_us") == "100000"


def test_cpuset(rt, bundle):
    bundle.resources()["cpu"] = {"cpus": "0", "mems": "0"}
    _, pid = running(rt, bundle)
    assert cgroups.read(pid, "cpuset", "cpuset.cpus") == "0"
    assert cgroups.read(pid, "cpuset", "cpuset.mems") == "0"
    with open(f"/proc/{pid}/status") as f:
        allowed = next(line for line in f if line.startswith("Cpus_allowed_list:"))
    assert allowed.split()[1] == "0"


def test_pids_limit(rt, bundle):
    bundle.resources()["pids"] = {"limit": 10}
    cid, pid = running(rt, bundle)
    assert cgroups.read(pid, "pids", "pids.max") == "10"
    out = json.loads(rt.ok("exec", cid, "/probe", "forks", "50").stdout)
    # init + the exec'd probe + children stay within 10 tasks.
    assert out["forked"] <= 8, out
    assert out["errno"] == "EAGAIN", out


def test_blkio_weight(rt, bundle):
    weight_file = "io.weight" if V2 else "blkio.weight"
    root = "/sys/fs/cgroup" if V2 else "/sys/fs/cgroup/blkio"
    if not os.path.exists(os.path.join(root, weight_file)) and not (
            not V2 and os.path.exists(os.path.join(root, "blkio.bfq.weight"))):
        pytest.skip(f"{weight_file} not available on this kernel (no CFQ/BFQ weight)")
    bundle.resources()["blockIO"] = {"weight": 500}
    _, pid = running(rt, bundle)
    names = [weight_file] if V2 else ["blkio.weight", "blkio.bfq.weight"]
    values = [cgroups.read(pid, "blkio", n) for n in names if cgroups.exists(pid, "blkio", n)]
    assert any(v.split()[-1] == "500" for v in values), values


# fuse: in no runtime's default allowlist (runc allows tun by default).
FUSE = {"path": "/dev/berth-fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}
NULL2 = {"path": "/dev/berth-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666}


def test_devices_allowlist(rt, bundle):
    # Both nodes exist (linux.devices); only 1:3 is allowed by the cgroup, on
    # top of the default devices every runtime allows.
    bundle.linux["devices"] = [FUSE, NULL2]
    bundle.resources()["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
    ]
    bundle.args("/bin/sh", "-c", "/probe open /dev/berth-null w;"
                " /probe open /dev/berth-fuse w; exit 0")
    cid, r = rt.run(bundle)
    assert r.returncode == 0, r
    null, fuse = [json.loads(x) for x in r.stdout.splitlines()]
    assert null["ok"] is True, null
    assert fuse.get("errno") == "EPERM", fuse


def test_devices_allow_rule_grants_access(rt, bundle):
    bundle.linux["devices"] = [FUSE]
    bundle.resources()["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
    ]
    bundle.probe("open", "/dev/berth-fuse", "w")
    cid, r = rt.run(bundle)
    assert json.loads(r.stdout)["ok"] is True, r


def test_devices_v1_list(rt, bundle):
    if V2:
        pytest.skip("the devices.list file exists only on cgroup v1 (v2 uses eBPF)")
    bundle.linux["devices"] = [FUSE]
    bundle.resources()["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
    ]
    _, pid = running(rt, bundle)
    rules = cgroups.read(pid, "devices", "devices.list").splitlines()
    assert "c 10:229 rw" in rules, rules
    assert "a *:* rwm" not in rules, rules


def test_update_memory_and_pids(rt, bundle, workdir):
    bundle.resources()["memory"] = {"limit": 64 * MiB}
    bundle.resources()["pids"] = {"limit": 20}
    cid, pid = running(rt, bundle)
    rt.ok("update", "--memory", str(128 * MiB), "--pids-limit", "30", cid)
    mem_file = "memory.max" if V2 else "memory.limit_in_bytes"
    assert cgroups.read(pid, "memory", mem_file) == str(128 * MiB)
    assert cgroups.read(pid, "pids", "pids.max") == "30"

    res = os.path.join(workdir, "resources.json")
    with open(res, "w") as f:
        json.dump({"memory": {"limit": 96 * MiB}, "pids": {"limit": 40}}, f)
    rt.ok("update", "-r", res, cid)
    assert cgroups.read(pid, "memory", mem_file) == str(96 * MiB)
    assert cgroups.read(pid, "pids", "pids.max") == "40"


def test_absolute_cgroups_path(rt, bundle, cgroup_name):
    bundle.linux["cgroupsPath"] = f"/{cgroup_name}"
    bundle.resources()["pids"] = {"limit": 50}
    cid, pid = running(rt, bundle)
    paths = cgroups.paths(pid)
    for controller in (["pids", "memory", "cpu"] if not V2 else [""]):
        assert paths[controller].endswith("/" + cgroup_name), paths
        assert os.path.dirname(paths[controller]) in ("/sys/fs/cgroup",
                                                      f"/sys/fs/cgroup/{controller}")
    assert cgroups.read(pid, "pids", "pids.max") == "50"
    rt.kill(cid, "KILL")
    rt.wait_status(cid, "stopped")
    rt.delete(cid)
    assert _dirs_named(cgroup_name) == [], "delete left cgroup directories"


def test_nested_cgroups_path(rt, bundle, cgroup_name):
    bundle.linux["cgroupsPath"] = f"/{cgroup_name}/inner"
    cid, pid = running(rt, bundle)
    assert cgroups.controller_dir(pid, "pids").endswith(f"/{cgroup_name}/inner")
    rt.delete(cid, force=True)
    assert not any(p.endswith("/inner") for p in _dirs_named(cgroup_name))
