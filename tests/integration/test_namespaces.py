"""Namespaces: new ones of each type, joining existing ones by path, user
namespaces with id mappings."""

import json
import os
import subprocess
import uuid

import pytest

from runtime import run_probe_json


def host_ns(ns):
    return os.readlink(f"/proc/self/ns/{ns}")


def ns_of(pid, ns):
    return os.readlink(f"/proc/{pid}/ns/{ns}")


def _interfaces(proc_net_dev):
    lines = proc_net_dev.splitlines()[2:]
    return sorted(line.split(":")[0].strip() for line in lines if ":" in line)


def test_new_pid_namespace(rt, bundle):
    data = run_probe_json(rt, bundle)
    assert data["pid"] == 1
    assert data["ppid"] == 0
    assert data["namespaces"]["pid"] != host_ns("pid")


def test_uts_hostname(rt, bundle):
    bundle.config["hostname"] = "berth-host"
    bundle.set_namespace("uts").write()
    data = run_probe_json(rt, bundle)
    assert data["hostname"] == "berth-host"
    assert data["namespaces"]["uts"] != host_ns("uts")
    assert os.uname().nodename != "berth-host"


def test_uts_domainname(rt, bundle):
    # runtime-spec 1.0.2 "domainname"; runc < 1.2 ignores it.
    bundle.config["domainname"] = "berth.example"
    bundle.set_namespace("uts").write()
    data = run_probe_json(rt, bundle)
    assert data["domainname"] == "berth.example"


@pytest.mark.parametrize("ns,proc_name", [("ipc", "ipc"), ("network", "net"), ("mount", "mnt"),
                                          ("cgroup", "cgroup"), ("uts", "uts")])
def test_new_namespace_differs_from_host(rt, bundle, ns, proc_name):
    bundle.set_namespace(ns).write()
    data = run_probe_json(rt, bundle)
    assert data["namespaces"][proc_name] != host_ns(proc_name)


def test_without_namespace_shares_host(rt, bundle):
    bundle.remove_namespace("network").remove_namespace("ipc").write()
    data = run_probe_json(rt, bundle)
    assert data["namespaces"]["net"] == host_ns("net")
    assert data["namespaces"]["ipc"] == host_ns("ipc")


def test_new_network_namespace_has_only_lo(rt, bundle):
    bundle.set_namespace("network").probe("readfile", "/proc/net/dev").write()
    data = run_probe_json(rt, bundle)
    assert _interfaces(data["data"]) == ["lo"]


def test_cgroup_namespace_root(rt, bundle):
    bundle.set_namespace("cgroup").write()
    data = run_probe_json(rt, bundle)
    assert data["cgroup"], data
    for line in data["cgroup"]:
        assert line.split(":", 2)[2] == "/", data["cgroup"]


def test_join_namespaces_of_running_container(rt, make_bundle):
    first = make_bundle()
    first.config["hostname"] = "shared-uts"
    first.set_namespace("uts").set_namespace("network").set_namespace("ipc")
    first.probe("sleep", "60").write()
    cid, _ = rt.run(first, detach=True, check=True)
    pid = rt.state(cid)["pid"]

    second = make_bundle()
    for ns, name in (("network", "net"), ("ipc", "ipc"), ("uts", "uts")):
        second.set_namespace(ns, path=f"/proc/{pid}/ns/{name}")
    second.config.pop("hostname", None)
    second.write()
    data = run_probe_json(rt, second)
    assert data["namespaces"]["net"] == ns_of(pid, "net")
    assert data["namespaces"]["ipc"] == ns_of(pid, "ipc")
    assert data["namespaces"]["uts"] == ns_of(pid, "uts")
    assert data["hostname"] == "shared-uts"
    # The pid namespace was not joined: the second container has its own.
    assert data["namespaces"]["pid"] != ns_of(pid, "pid")


def test_join_named_netns(rt, bundle):
    name = f"berth-it-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=20)
    try:
        path = f"/var/run/netns/{name}"
        bundle.set_namespace("network", path=path).write()
        data = run_probe_json(rt, bundle)
        assert data["namespaces"]["net"] == f"net:[{os.stat(path).st_ino}]"
    finally:
        subprocess.run(["ip", "netns", "del", name], timeout=20)


def test_join_bad_namespace_path_fails(rt, bundle):
    bundle.set_namespace("network", path="/proc/self/ns/does-not-exist").write()
    cid, r = rt.run(bundle)
    assert r.returncode != 0
    assert rt.state_or_none(cid) is None


def test_join_path_that_is_no_namespace_fails_cleanly(rt, bundle, tmp_path):
    """Network/ipc/uts joins happen in the init itself (no stage 1): a path that exists but
    is no namespace fails there, with the runtime's message and nothing left."""
    not_ns = tmp_path / "not-a-namespace"
    not_ns.write_text("")
    bundle.set_namespace("network", path=str(not_ns)).write()
    cid, r = rt.run(bundle)
    assert r.returncode != 0
    assert "join net namespace" in r.stderr, r.stderr
    assert rt.state_or_none(cid) is None


def _userns_bundle(bundle, host_uid=100000):
    bundle.set_namespace("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": host_uid, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": host_uid, "size": 65536}]
    # A v1 cgroup mount and sysfs need care in a user namespace; the probe does
    # not need them here.
    bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                               if m["destination"] not in ("/sys/fs/cgroup",)]
    return bundle


def test_user_namespace_mappings(rt, bundle):
    _userns_bundle(bundle).write()
    data = run_probe_json(rt, bundle)
    assert data["uid"] == 0 and data["gid"] == 0
    assert data["namespaces"]["user"] != host_ns("user")

    bundle.probe("readfile", "/proc/self/uid_map").write()
    uid_map = run_probe_json(rt, bundle)["data"].split()
    assert uid_map == ["0", "100000", "65536"]
    bundle.probe("readfile", "/proc/self/gid_map").write()
    gid_map = run_probe_json(rt, bundle)["data"].split()
    assert gid_map == ["0", "100000", "65536"]


def test_user_namespace_host_view(rt, bundle):
    _userns_bundle(bundle).probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    pid = rt.state(cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    # Seen from the host, container root is the mapped id.
    assert status["Uid"].split()[0] == "100000"
    assert status["Gid"].split()[0] == "100000"
    r = rt.ok("exec", cid, "/probe", "all")
    assert json.loads(r.stdout)["uid"] == 0


def test_time_namespace_offsets(rt, bundle):
    # linux.timeOffsets in a new time namespace: /proc/uptime follows the
    # boottime clock, so it shows the offset.
    offset = 10_000_000
    bundle.set_namespace("time")
    bundle.linux["timeOffsets"] = {"boottime": {"secs": offset, "nanosecs": 0},
                                   "monotonic": {"secs": offset, "nanosecs": 0}}
    bundle.probe("readfile", "/proc/uptime").write()
    with open("/proc/uptime") as f:
        host_before = float(f.read().split()[0])
    inside = float(run_probe_json(rt, bundle)["data"].split()[0])
    with open("/proc/uptime") as f:
        host_after = float(f.read().split()[0])
    assert host_before + offset <= inside <= host_after + offset + 1, (host_before, inside)
