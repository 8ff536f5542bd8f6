"""Rootfs and mounts: readonly root, --no-pivot, default filesystems, bind mounts
and their flags, propagation, masked and readonly paths, devices, and mount
destinations that are symlinks out of the rootfs."""

import json
import os
import subprocess

import pytest

import cgroups
from runtime import run_probe_json


def mount_at(data, point):
    """The last (topmost) mountinfo entry at `point` in the probe's report."""
    found = [m for m in data["mounts"] if m["mount_point"] == point]
    return found[-1] if found else None


def opts(m):
    return set(m["options"].split(","))


def multi_probe(rt, bundle, *commands):
    """Runs several probe invocations in one container via sh; one JSON per line."""
    # Each probe prints its own JSON (including failures); the exit status of the
    # shell is made 0 so failures show up in the per-command results instead.
    script = "; ".join("/probe " + c for c in commands) + "; exit 0"
    bundle.args("/bin/sh", "-c", script).write()
    cid, r = rt.run(bundle)
    assert r.returncode == 0, r
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


@pytest.fixture
def host_tmpfs(workdir):
    """A tmpfs mounted on the host (shared propagation) in the test dir, with one
    file; unmounted after the test."""
    path = os.path.join(workdir, "hostmnt")
    os.makedirs(path)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "berth-it", path], check=True,
                   timeout=20)
    subprocess.run(["mount", "--make-shared", path], check=True, timeout=20)
    with open(os.path.join(path, "file.txt"), "w") as f:
        f.write("from the host")
    os.makedirs(os.path.join(path, "sub"))
    yield path
    subprocess.run(["umount", "-R", path], timeout=20)


def test_readonly_root(rt, bundle):
    bundle.probe("writefile", "/newfile", "x").write()
    cid, r = rt.run(bundle)
    assert r.returncode == 1, r
    assert json.loads(r.stdout)["errno"] == "EROFS"
    bundle.probe("all").write()
    root = mount_at(run_probe_json(rt, bundle), "/")
    assert "ro" in opts(root)


def test_writable_root(rt, bundle):
    bundle.config["root"]["readonly"] = False
    bundle.probe("writefile", "/newfile", "x").write()
    cid, r = rt.run(bundle)
    assert r.returncode == 0, r
    with open(os.path.join(bundle.rootfs, "newfile")) as f:
        assert f.read() == "x"


def test_no_pivot(rt, bundle):
    bundle.probe("all").write()
    cid, _ = rt.create(bundle, no_pivot=True)
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    data = json.loads(rt.output(cid))
    assert data["pid"] == 1
    assert mount_at(data, "/proc")["fstype"] == "proc"
    assert os.path.basename(data["cwd"]) == "" or data["cwd"] == "/"


def test_default_filesystems(rt, bundle):
    data = run_probe_json(rt, bundle)
    expect = {"/proc": "proc", "/dev": "tmpfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs",
              "/dev/mqueue": "mqueue", "/sys": "sysfs"}
    for point, fstype in expect.items():
        m = mount_at(data, point)
        assert m is not None, f"{point} not mounted: {[x['mount_point'] for x in data['mounts']]}"
        assert m["fstype"] == fstype, m
    cg = mount_at(data, "/sys/fs/cgroup")
    assert cg is not None
    if cgroups.version() == 2:
        assert cg["fstype"] == "cgroup2"
    else:
        assert cg["fstype"] == "tmpfs"
        subs = [m for m in data["mounts"] if m["mount_point"].startswith("/sys/fs/cgroup/")]
        assert any(m["fstype"] == "cgroup" for m in subs), subs
        # The default spec mounts cgroup "ro,nosuid,noexec,nodev": every controller's bind too.
        for m in subs:
            assert {"ro", "nosuid", "noexec", "nodev"} <= opts(m), m
        assert {"ro", "nosuid", "noexec", "nodev"} <= opts(cg), cg
    assert "ro" in opts(mount_at(data, "/sys"))
    assert {"nosuid", "noexec", "nodev"} <= opts(mount_at(data, "/dev/shm"))


def test_bind_mount_flags(rt, bundle, workdir):
    src = os.path.join(workdir, "bindsrc")
    os.makedirs(src)
    with open(os.path.join(src, "hello"), "w") as f:
        f.write("hello bind")
    bundle.add_mount("/data", src, "bind", ["bind", "ro", "nosuid", "nodev", "noexec"])
    results = multi_probe(rt, bundle, "all", "readfile /data/hello", "writefile /data/new x")
    m = mount_at(results[0], "/data")
    assert m is not None
    assert {"ro", "nosuid", "nodev", "noexec"} <= opts(m), m
    assert results[1]["data"] == "hello bind"
    assert results[2]["errno"] == "EROFS"
    assert not os.path.exists(os.path.join(src, "new"))


def test_bind_mount_rw_writes_through(rt, bundle, workdir):
    src = os.path.join(workdir, "rwsrc")
    os.makedirs(src)
    bundle.add_mount("/data", src, "bind", ["bind", "rw"])
    results = multi_probe(rt, bundle, "writefile /data/out written-inside")
    assert results[0]["ok"] is True
    with open(os.path.join(src, "out")) as f:
        assert f.read() == "written-inside"


def test_bind_mount_single_file(rt, bundle, workdir):
    src = os.path.join(workdir, "single.txt")
    with open(src, "w") as f:
        f.write("one file")
    bundle.add_mount("/etc/single.txt", src, "bind", ["bind", "ro"])
    results = multi_probe(rt, bundle, "readfile /etc/single.txt")
    assert results[0]["data"] == "one file"


def test_rbind_includes_submounts(rt, make_bundle, workdir, host_tmpfs):
    parent = os.path.dirname(host_tmpfs)  # the workdir holds hostmnt/ (a tmpfs)
    b = make_bundle()
    b.add_mount("/data", parent, "bind", ["rbind", "ro"])
    data = multi_probe(rt, b, "all", "readfile /data/hostmnt/file.txt")
    sub = mount_at(data[0], "/data/hostmnt")
    assert sub is not None and sub["fstype"] == "tmpfs"
    assert data[1]["data"] == "from the host"

    b = make_bundle()
    b.add_mount("/data", parent, "bind", ["bind", "ro"])
    data = multi_probe(rt, b, "all", "readfile /data/hostmnt/file.txt")
    assert mount_at(data[0], "/data/hostmnt") is None
    assert data[1]["errno"] == "ENOENT"


@pytest.mark.parametrize("prop,expect", [("rshared", "shared:"), ("rslave", "master:"),
                                         ("rprivate", None)])
def test_bind_propagation(rt, bundle, host_tmpfs, prop, expect):
    bundle.add_mount("/data", host_tmpfs, "bind", ["rbind", prop])
    data = run_probe_json(rt, bundle)
    m = mount_at(data, "/data")
    assert m is not None
    tags = [t.split(":")[0] + ":" for t in m["optional"]]
    if expect is None:
        assert tags == [], m
    else:
        assert expect in tags, m
    if prop == "rslave":
        assert "shared:" not in tags, m


def test_slave_mount_receives_host_mounts(rt, bundle, host_tmpfs):
    bundle.add_mount("/data", host_tmpfs, "bind", ["rbind", "rslave"])
    bundle.probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    sub = os.path.join(host_tmpfs, "sub")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "late", sub], check=True,
                   timeout=20)
    data = json.loads(rt.ok("exec", cid, "/probe", "all").stdout)
    late = mount_at(data, "/data/sub")
    assert late is not None and late["fstype"] == "tmpfs"


def test_masked_paths(rt, bundle):
    os.makedirs(os.path.join(bundle.rootfs, "secret"))
    with open(os.path.join(bundle.rootfs, "secret", "key"), "w") as f:
        f.write("s3cr3t")
    with open(os.path.join(bundle.rootfs, "secret-file"), "w") as f:
        f.write("hidden")
    # /proc/kcore is absent on some kernels; /proc/timer_list exists and has content.
    assert os.path.getsize("/proc/timer_list") == 0 and open("/proc/timer_list").read()
    bundle.linux["maskedPaths"] = ["/proc/kcore", "/proc/timer_list", "/secret", "/secret-file",
                                   "/does/not/exist"]
    results = multi_probe(rt, bundle, "readfile /proc/timer_list", "ls /secret",
                          "readfile /secret-file")
    assert results[0]["ok"] and results[0]["size"] == 0, results[0]
    assert results[1]["ok"] and results[1]["entries"] == [], results[1]
    assert results[2]["ok"] and results[2]["data"] == "", results[2]


def test_readonly_paths(rt, bundle):
    bundle.config["root"]["readonly"] = False
    os.makedirs(os.path.join(bundle.rootfs, "rodir"))
    bundle.linux["readonlyPaths"] = ["/proc/sys", "/rodir"]
    results = multi_probe(rt, bundle, "writefile /proc/sys/kernel/hostname x",
                          "writefile /rodir/f x", "writefile /tmp/ok x")
    assert results[0]["errno"] == "EROFS", results[0]
    assert results[1]["errno"] == "EROFS", results[1]
    assert results[2]["ok"] is True


DEFAULT_DEVICES = {"/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
                   "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0)}


def test_default_devices(rt, bundle):
    bundle.linux.setdefault("resources", {})["devices"] = [{"allow": True, "access": "rwm"}]
    paths = list(DEFAULT_DEVICES) + ["/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout",
                                     "/dev/stderr"]
    results = multi_probe(rt, bundle, *[f"stat {p}" for p in paths],
                          "writefile /dev/null x")
    by_path = dict(zip(paths, results))
    for path, (major, minor) in DEFAULT_DEVICES.items():
        st = by_path[path]
        assert st["ok"] and st["type"] == "char", (path, st)
        assert (st["major"], st["minor"]) == (major, minor), (path, st)
        assert st["mode"] & 0o666 == 0o666, (path, st)
    ptmx = by_path["/dev/ptmx"]
    assert ptmx["type"] == "symlink" and ptmx["target"] == "pts/ptmx"
    assert by_path["/dev/fd"]["target"] == "/proc/self/fd"
    assert by_path["/dev/stdin"]["target"] == "/proc/self/fd/0"
    assert by_path["/dev/stdout"]["target"] == "/proc/self/fd/1"
    assert by_path["/dev/stderr"]["target"] == "/proc/self/fd/2"
    assert results[-1]["ok"] is True


def test_extra_device(rt, bundle):
    bundle.linux["devices"] = [{"path": "/dev/berth-null", "type": "c", "major": 1, "minor": 3,
                                "fileMode": 0o640, "uid": 0, "gid": 0}]
    bundle.resources()["devices"] = [{"allow": False, "access": "rwm"},
                                     {"allow": True, "type": "c", "major": 1, "minor": 3,
                                      "access": "rwm"}]
    results = multi_probe(rt, bundle, "stat /dev/berth-null", "writefile /dev/berth-null x")
    st = results[0]
    assert st["type"] == "char" and (st["major"], st["minor"]) == (1, 3), st
    assert st["mode"] == 0o640, st
    assert results[1]["ok"] is True


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_symlink_destination_stays_in_rootfs(rt, bundle, workdir, style):
    outside = os.path.join(workdir, "outside")  # on the host, outside the rootfs
    os.makedirs(outside)
    with open(os.path.join(outside, "marker"), "w") as f:
        f.write("host")
    target_missing = os.path.join(workdir, "not-created")
    if style == "absolute":
        os.symlink(outside, os.path.join(bundle.rootfs, "evil"))
        os.symlink(target_missing, os.path.join(bundle.rootfs, "evil2"))
    else:
        os.symlink("../../../../../../../../" + outside.lstrip("/"),
                   os.path.join(bundle.rootfs, "evil"))
        os.symlink("../../../../../../../../" + target_missing.lstrip("/"),
                   os.path.join(bundle.rootfs, "evil2"))
    bundle.add_mount("/evil", "tmpfs", "tmpfs", ["nosuid", "size=1m"])
    bundle.add_mount("/evil2/sub", "tmpfs", "tmpfs", ["nosuid", "size=1m"])
    bundle.config["root"]["readonly"] = False
    bundle.args("/bin/sh", "-c", "/probe writefile /evil/pwned x; /probe ls /evil").write()
    before = open("/proc/self/mountinfo").read()
    cid, r = rt.run(bundle)
    # Whether the runtime follows the link inside the rootfs or refuses, nothing
    # outside the rootfs may be created, mounted over or written to.
    assert sorted(os.listdir(outside)) == ["marker"]
    assert not os.path.exists(target_missing)
    assert open("/proc/self/mountinfo").read() == before
    if r.returncode == 0:
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        assert "marker" not in lines[1].get("entries", [])


def test_idmapped_bind_mount(rt, bundle, workdir):
    # runtime-spec 1.1 mounts[].uidMappings/gidMappings: through the mount, an
    # on-disk owner containerID appears as hostID; unmapped owners as the
    # overflow id 65534.
    src = os.path.join(workdir, "idmapped")
    os.makedirs(src)
    for name, owner in (("by-root", 0), ("by-2000", 2000)):
        path = os.path.join(src, name)
        with open(path, "w") as f:
            f.write(name)
        os.chown(path, owner, owner)
    bundle.config.setdefault("mounts", []).append({
        "destination": "/idm", "source": src, "type": "bind", "options": ["bind"],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]})
    by_root, by_2000 = multi_probe(rt, bundle, "stat /idm/by-root", "stat /idm/by-2000")
    assert by_root["ok"] and (by_root["uid"], by_root["gid"]) == (1000, 1000), by_root
    assert (by_2000["uid"], by_2000["gid"]) == (65534, 65534), by_2000
    # The host's view of the source is unchanged.
    assert os.stat(os.path.join(src, "by-root")).st_uid == 0
