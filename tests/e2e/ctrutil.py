"""Shared pieces of the container suites (issue 4): the "cbox" image (static busybox with every
applet, users, a few data files), fixtures that push it and pull it into the module's daemon,
per-test container cleanup, raw-API helpers, and berthd-side checks (monitor processes by
/proc cmdline, mounts and cgroups left behind, container directories).

Test modules import the fixtures they use: `from ctrutil import cbox, img, clean, ...`."""

import json
import os
import subprocess
import time

import pytest

import imagebuild as ib
from conftest import Pushed, is_berthd
from e2eutil import mounts_under, pid_alive, wait_until

BUSYBOX = "/bin/busybox"
CGROUP_ROOT = "/sys/fs/cgroup"


def _applets():
    out = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout
    return sorted({a.strip() for a in out.split() if a.strip() and "/" not in a} - {"busybox"})


def cbox_entries():
    E = ib.Entry
    ents = [E("bin", "dir"), E("etc", "dir"), E("tmp", "dir", mode=0o1777), E("root", "dir", mode=0o700),
            E("home", "dir"), E("home/e2e", "dir"), E("data", "dir"), E("data/sub", "dir"),
            E("bin/busybox", "file", src=BUSYBOX, mode=0o755)]
    ents += [E(f"bin/{a}", "symlink", link="busybox") for a in _applets()]
    ents += [
        E("etc/passwd", "file", data=b"root:x:0:0:root:/root:/bin/sh\n"
          b"e2e:x:1000:1000:e2e:/home/e2e:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
        E("etc/group", "file", data=b"root:x:0:\ne2e:x:1000:\nnogroup:x:65534:\n"),
        E("data/hello.txt", "file", data=b"hello from the image\n"),
        E("data/sub/a.txt", "file", data=b"a\n"),
        E("data/sub/b.txt", "file", data=b"bb\n"),
    ]
    return ents


_cbox_image = None


def cbox_image():
    global _cbox_image
    if _cbox_image is None:
        layer = ib.Layer.from_entries(cbox_entries(), created_by="COPY busybox-static + applets")
        _cbox_image = ib.Image([layer], labels={"org.berth.e2e": "cbox"})
    return _cbox_image


@pytest.fixture(scope="session")
def cbox(registry):
    im = cbox_image()
    digest = registry.client().push_image("e2e/cbox", "latest", im)
    return Pushed(registry, "e2e/cbox", "latest", im, digest)


@pytest.fixture(scope="module")
def img(daemon, cbox):
    """The cbox image pulled into the module's daemon; its reference."""
    r, err = daemon.api.pull(cbox.ref, timeout=300)
    assert r.status == 200 and not err, (r, err)
    return cbox.ref


def remove_all_containers(api):
    try:
        r = api.get("/containers/json", query={"all": "1"}, timeout=30)
    except OSError:
        return
    if r.status != 200:
        return
    for c in r.json():
        try:
            api.delete(f"/containers/{c['Id']}", query={"force": "1", "v": "1"}, timeout=60)
        except OSError:
            pass


@pytest.fixture
def clean(daemon):
    """Removes every container of the module's daemon after the test (pass or fail)."""
    yield daemon
    remove_all_containers(daemon.api)


# --- raw API ------------------------------------------------------------------------------

def create(api, body, name=None, expect=201):
    r = api.post("/containers/create", query={"name": name} if name else None, body=body)
    if expect is not None:
        assert r.status == expect, r
    return r


def run_detached(api, image, cmd, name=None, **extra):
    body = {"Image": image, "Cmd": list(cmd)}
    body.update(extra)
    cid = create(api, body, name).json()["Id"]
    r = api.post(f"/containers/{cid}/start")
    assert r.status == 204, r
    return cid


def inspect(api, cid):
    r = api.get(f"/containers/{cid}/json")
    assert r.status == 200, r
    return r.json()


def ps_all(api):
    r = api.get("/containers/json", query={"all": "1"})
    assert r.status == 200, r
    return r.json()


def wait_status(api, cid, statuses, timeout=30, what=None):
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    return wait_until(lambda: inspect(api, cid)["State"]["Status"] in statuses and inspect(api, cid),
                      timeout, interval=0.1, what=what or f"{cid[:12]} in {statuses}")


def demux(raw):
    """docker's multiplexed stream -> (stdout bytes, stderr bytes)."""
    out, err, i = b"", b"", 0
    while i + 8 <= len(raw):
        kind, size = raw[i], int.from_bytes(raw[i + 4:i + 8], "big")
        chunk = raw[i + 8:i + 8 + size]
        if kind == 2:
            err += chunk
        else:
            out += chunk
        i += 8 + size
    return out, err


# --- berthd-side state --------------------------------------------------------------------

def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def monitor_pids(data_root):
    """Live berth-monitor processes whose arguments point into data_root."""
    root = os.path.realpath(data_root)
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        argv = proc_cmdline(int(d))
        if not argv or "berth-monitor" not in os.path.basename(argv[0]):
            continue
        if any(a.startswith(root + "/") or a.startswith(data_root + "/") for a in argv[1:]) and pid_alive(int(d)):
            out.append(int(d))
    return out


def container_dirs(data_root):
    d = os.path.join(data_root, "containers")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def cgroups_of(ids, max_depth=6):
    """cgroup directories (any v1 controller or the v2 tree) whose name contains one of ids."""
    ids = [i for i in ids if i]
    hits = []
    if not ids:
        return hits
    base_depth = CGROUP_ROOT.rstrip("/").count("/")
    for root, dirs, _files in os.walk(CGROUP_ROOT):
        if root.count("/") - base_depth >= max_depth:
            dirs[:] = []
            continue
        for name in dirs:
            if any(i in name for i in ids):
                hits.append(os.path.join(root, name))
    return hits


def leftover_mounts(data_root):
    return mounts_under(data_root)


def kill_monitors(data_root):
    """Teardown: SIGKILL every berth-monitor of this data root and its container processes
    (monitors are detached from berthd and survive its stop). Returns the killed pids."""
    from e2eutil import descendants_of
    killed = []
    for m in monitor_pids(data_root):
        for p in descendants_of(m) + [m]:
            try:
                os.kill(p, 9)
                killed.append(p)
            except ProcessLookupError:
                pass
    return killed


def remove_cgroups(ids):
    """Teardown: rmdir (deepest first) the cgroups named after ids; only those ids."""
    for path in sorted(cgroups_of(ids), key=len, reverse=True):
        for root, dirs, _ in sorted(os.walk(path, topdown=False), key=lambda t: -len(t[0])):
            try:
                os.rmdir(root)
            except OSError:
                pass


def events(api, since, until, filters=None):
    q = {"since": str(since), "until": str(until)}
    if filters:
        q["filters"] = json.dumps(filters)
    r = api.get("/events", query=q, timeout=60)
    assert r.status == 200, r
    return r.json_stream()


def now():
    return time.time()


def berthd_skip(reason):
    if not is_berthd():
        pytest.skip(f"berthd only: {reason}")


def attach_socket(sock_path, cid, query="stream=1&stdout=1&stderr=1&stdin=1", timeout=15):
    """POST /containers/{id}/attach hijacked: returns (socket, bytes already read past the
    header). Raises if the daemon does not answer 101 or 200."""
    import socket as _socket
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall((f"POST /containers/{cid}/attach?{query} HTTP/1.1\r\nHost: localhost\r\n"
               "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError(f"attach: connection closed after {buf!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0]
    if b" 101 " not in status + b" " and b" 200 " not in status + b" ":
        s.close()
        raise ConnectionError(f"attach: {head!r}")
    return s, rest


def read_until(sock, pred, timeout=15, initial=b""):
    """Reads from sock until pred(bytes so far) or timeout; returns the bytes."""
    import socket as _socket
    buf = initial
    deadline = time.monotonic() + timeout
    while not pred(buf) and time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except _socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return buf
