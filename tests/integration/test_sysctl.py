"""linux.sysctl: namespaced sysctls are applied inside the container; sysctls
for namespaces the container shares with the host are refused."""

from runtime import run_probe_json


def test_net_sysctl_in_new_netns(rt, bundle):
    bundle.set_namespace("network")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1", "net.ipv4.tcp_syncookies": "0"}
    bundle.probe("all", "net.ipv4.ip_forward", "net.ipv4.tcp_syncookies")
    data = run_probe_json(rt, bundle)
    assert data["sysctl"] == {"net.ipv4.ip_forward": "1", "net.ipv4.tcp_syncookies": "0"}


def test_net_sysctl_does_not_touch_host(rt, bundle):
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host_before = f.read().strip()
    bundle.set_namespace("network")
    new = "0" if host_before == "1" else "1"
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": new}
    bundle.probe("all", "net.ipv4.ip_forward")
    assert run_probe_json(rt, bundle)["sysctl"]["net.ipv4.ip_forward"] == new
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read().strip() == host_before


def test_ipc_sysctl_in_new_ipcns(rt, bundle):
    bundle.set_namespace("ipc")
    bundle.linux["sysctl"] = {"kernel.shmmax": "123456789", "kernel.msgmax": "4096"}
    bundle.probe("all", "kernel.shmmax", "kernel.msgmax")
    data = run_probe_json(rt, bundle)
    assert data["sysctl"] == {"kernel.shmmax": "123456789", "kernel.msgmax": "4096"}


def test_net_sysctl_without_netns_refused(rt, bundle):
    bundle.remove_namespace("network")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    cid, r = rt.run(bundle)
    assert r.returncode != 0, r
    assert "net.ipv4.ip_forward" in r.stderr or "sysctl" in r.stderr, r
    assert rt.state_or_none(cid) is None


def test_unknown_sysctl_fails(rt, bundle):
    bundle.set_namespace("network")
    bundle.linux["sysctl"] = {"net.ipv4.berth_does_not_exist": "1"}
    cid, r = rt.run(bundle)
    assert r.returncode != 0, r
    assert rt.state_or_none(cid) is None
