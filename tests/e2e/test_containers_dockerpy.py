"""docker-py's container API (Debian's python3-docker 5.0) against the daemon's socket:
containers.run (attached, detach, remove), logs (stream), exec_run, put_archive/get_archive,
wait, stats(stream=False), kill, prune, attach_socket, events."""

import base64
import io
import json
import os
import socket
import tarfile
import threading
import time

import docker
import pytest

from conftest import is_berthd
from ctr_resource_cases import loopdev  # noqa: F401 - fixture
from ctrutil import cbox, demux, img  # noqa: F401 - fixtures
from e2eutil import wait_until


@pytest.fixture(scope="module")
def client(daemon):
    c = docker.DockerClient(base_url=daemon.host, version="auto", timeout=120)
    yield c
    c.close()


@pytest.fixture
def dclean(client):
    yield client
    for c in client.containers.list(all=True):
        try:
            c.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass


def test_run_attached_and_remove(client, img, dclean):
    out = client.containers.run(img, ["echo", "hi"], remove=True)
    assert out == b"hi\n"
    out = client.containers.run(img, ["sh", "-c", "echo o; echo e >&2"], stderr=True, stdout=False, remove=True)
    assert out == b"e\n"
    with pytest.raises(docker.errors.ContainerError) as e:
        client.containers.run(img, ["sh", "-c", "echo bad >&2; exit 4"], remove=True)
    assert e.value.exit_status == 4 and b"bad" in e.value.stderr
    assert client.containers.list(all=True) == []


def test_run_detach_inspect_logs_stream(client, img, dclean):
    c = client.containers.run(img, ["sh", "-c", "for i in 1 2 3; do echo l$i; sleep 0.3; done"], detach=True,
                              name="py-logs", environment={"K": "V"}, labels={"e2e": "py"})
    assert c.name == "py-logs" and len(c.id) == 64
    c.reload()
    assert c.status in ("running", "exited") and "K=V" in c.attrs["Config"]["Env"]
    assert c.labels["e2e"] == "py" and c.image.id == client.images.get(img).id
    got = b"".join(c.logs(stream=True, follow=True))
    assert got == b"l1\nl2\nl3\n"
    assert c.logs(tail=1) == b"l3\n"
    assert c.logs(timestamps=True).splitlines()[0].split(b" ", 1)[1] == b"l1"
    assert c.wait(timeout=30)["StatusCode"] == 0
    assert [x.name for x in client.containers.list(all=True, filters={"label": "e2e=py"})] == ["py-logs"]
    assert client.containers.list(filters={"label": "e2e=py"}) == []
    assert client.containers.get("py-logs").id == c.id
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("py-no-such")


def test_exec_run(client, img, dclean):
    c = client.containers.run(img, ["sleep", "300"], detach=True, name="py-exec")
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert r.exit_code == 3 and b"out" in r.output and b"err" in r.output
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
    assert r.output == (b"out\n", b"err\n")
    r = c.exec_run(["id", "-u"], user="1000", workdir="/data", environment={"A": "B"})
    assert r.exit_code == 0 and r.output == b"1000\n"
    r = c.exec_run(["sh", "-c", "pwd; echo $A"], workdir="/data", environment={"A": "B"})
    assert r.output == b"/data\nB\n"
    r = c.exec_run(["tty"], tty=True)
    assert r.output.startswith(b"/dev/pts/")
    chunks = list(c.exec_run(["sh", "-c", "echo a; sleep 0.2; echo b"], stream=True).output)
    assert b"".join(chunks) == b"a\nb\n"
    # exec inspect
    api = client.api
    eid = api.exec_create(c.id, ["sh", "-c", "exit 5"])["Id"]
    api.exec_start(eid)
    ins = wait_until(lambda: (lambda i: i if not i["Running"] else None)(api.exec_inspect(eid)), 10, what="exec done")
    assert ins["ExitCode"] == 5 and ins["ContainerID"] == c.id
    # exec with stdin over the socket
    eid = api.exec_create(c.id, ["sh", "-c", "read x; echo got-$x"], stdin=True)["Id"]
    sock = api.exec_start(eid, socket=True)
    raw = sock._sock
    raw.sendall(b"val\n")
    raw.settimeout(10)
    buf = b""
    deadline = time.monotonic() + 10
    while b"got-val" not in demux(buf)[0] and time.monotonic() < deadline:
        chunk = raw.recv(4096)
        if not chunk:
            break
        buf += chunk
    raw.close()
    assert demux(buf)[0] == b"got-val\n", buf


def test_archives(client, daemon, img, dclean):
    c = client.containers.run(img, ["sleep", "300"], detach=True, name="py-arch")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"put by docker-py\n"
        ti = tarfile.TarInfo("put/file.txt")
        ti.size, ti.mode = len(data), 0o640
        tf.addfile(ti, io.BytesIO(data))
    assert c.put_archive("/tmp", buf.getvalue()) is True
    r = c.exec_run(["sh", "-c", "cat /tmp/put/file.txt; stat -c %a /tmp/put/file.txt"])
    assert r.output == b"put by docker-py\n640\n"
    stream, st = c.get_archive("/data/sub")
    assert st["name"] == "sub" and st["mode"] & 0o777 == 0o755 and (st["mode"] & (1 << 31))
    raw = b"".join(stream)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        names = sorted(tf.getnames())
        assert names == ["sub", "sub/a.txt", "sub/b.txt"], names
        assert tf.extractfile("sub/b.txt").read() == b"bb\n"
    with pytest.raises(docker.errors.NotFound):
        c.get_archive("/no/such/path")
    with pytest.raises(docker.errors.NotFound):
        c.put_archive("/no/such/dir", buf.getvalue())
    # HEAD (stat only)
    _, st = c.get_archive("/data/hello.txt")
    assert st["size"] == len(b"hello from the image\n")
    r = daemon.api.request("HEAD", f"/containers/{c.id}/archive", query={"path": "/data/hello.txt"})
    assert r.status == 200 and r.body == b""
    head = json.loads(base64.b64decode(r.headers["X-Docker-Container-Path-Stat"]))
    assert head["name"] == "hello.txt" and head["size"] == st["size"]
    assert daemon.api.request("HEAD", f"/containers/{c.id}/archive", query={"path": "/nope"}).status == 404


def test_wait_kill_stats(client, img, dclean):
    c = client.containers.run(img, ["sh", "-c", "sleep 1; exit 6"], detach=True)
    assert c.wait(timeout=30)["StatusCode"] == 6
    c = client.containers.run(img, ["sleep", "300"], detach=True, name="py-kill")
    s = c.stats(stream=False)
    assert s["pids_stats"].get("current", 0) >= 1, s.get("pids_stats")
    assert s["memory_stats"].get("usage", 0) > 0 and s["cpu_stats"]["cpu_usage"]["total_usage"] > 0
    # Lists, never null (clients walk them without a check).
    assert all(isinstance(v, list) for v in s["blkio_stats"].values()), s["blkio_stats"]
    # Resizing a container without a TTY does nothing and is no error (dockerd's answer).
    client.api.resize(c.id, 10, 20)
    assert s["name"] in ("/py-kill", "py-kill") and s["id"] == c.id and s["read"].startswith("20")
    stream = c.stats(stream=True, decode=True)
    first, second = next(stream), next(stream)
    assert second["precpu_stats"]["cpu_usage"]["total_usage"] == first["cpu_stats"]["cpu_usage"]["total_usage"]
    stream.close() if hasattr(stream, "close") else None
    waiter = {}
    t = threading.Thread(target=lambda: waiter.update(c.wait(timeout=60)))
    t.start()
    time.sleep(0.5)
    c.kill(signal="SIGKILL")
    t.join(timeout=60)
    assert waiter.get("StatusCode") == 137, waiter
    c.reload()
    assert c.status == "exited" and c.attrs["State"]["ExitCode"] == 137
    with pytest.raises(docker.errors.APIError) as e:
        c.kill()
    assert e.value.status_code == 409 and "is not running" in str(e.value)
    c2 = client.containers.run(img, ["sleep", "300"], detach=True)
    c2.stop(timeout=1)
    assert client.api.wait(c2.id, condition="not-running")["StatusCode"] == 137


def test_block_io_limits(client, img, dclean, loopdev):
    rdev = os.stat(loopdev).st_rdev
    mm = f"{os.major(rdev)}:{os.minor(rdev)}"
    c = client.containers.run(img, ["sleep", "300"], detach=True,
                              device_read_bps=[{"Path": loopdev, "Rate": 1 << 20}],
                              device_write_iops=[{"Path": loopdev, "Rate": 40}])
    h = c.attrs["HostConfig"]
    assert h["BlkioDeviceReadBps"] == [{"Path": loopdev, "Rate": 1 << 20}], h["BlkioDeviceReadBps"]
    assert h["BlkioDeviceWriteIOps"] == [{"Path": loopdev, "Rate": 40}]
    code, out = c.exec_run(["sh", "-c", "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device "
                            "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device 2>/dev/null || "
                            "cat /sys/fs/cgroup/io.max"])
    text = out.decode()
    assert code == 0 and (f"{mm} 1048576" in text and f"{mm} 40" in text
                          or f"{mm} rbps=1048576 wbps=max riops=max wiops=40" in text), text
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.run(img, ["true"], device_read_bps=[{"Path": loopdev, "Rate": -1}])
    # dockerd 20.10 files a body's type error under 500.
    assert e.value.status_code in ((400,) if is_berthd() else (400, 500)) and "Rate" in str(e.value), str(e.value)


def test_wait_condition_removed(client, img, dclean):
    c = client.containers.run(img, ["sh", "-c", "sleep 1; exit 2"], detach=True, auto_remove=True)
    assert client.api.wait(c.id, timeout=30, condition="removed")["StatusCode"] == 2
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(c.id)


def test_prune_and_lifecycle_calls(client, img, dclean):
    a = client.containers.create(img, ["true"], name="py-prune-a")
    a.start()
    b = client.containers.run(img, ["sleep", "300"], detach=True, name="py-prune-keep")
    a.wait(timeout=30)
    r = client.containers.prune()
    assert r["ContainersDeleted"] == [a.id] and isinstance(r["SpaceReclaimed"], int)
    assert [x.name for x in client.containers.list(all=True)] == ["py-prune-keep"]
    b.pause()
    b.reload()
    assert b.status == "paused"
    b.unpause()
    b.rename("py-renamed")
    b.reload()
    assert b.name == "py-renamed"
    b.update(mem_limit="64m", memswap_limit="128m")
    b.reload()
    assert b.attrs["HostConfig"]["Memory"] == 64 << 20
    top = b.top()
    assert "PID" in top["Titles"] and any("sleep" in " ".join(p) for p in top["Processes"])
    b.restart(timeout=1)
    b.reload()
    assert b.status == "running"
    b.stop(timeout=1)
    b.reload()
    assert b.status == "exited"
    ch = client.containers.run(img, ["sh", "-c", "touch /tmp/changed; sleep 300"], detach=True)
    wait_until(lambda: ch.exec_run(["test", "-f", "/tmp/changed"]).exit_code == 0, 10, what="setup")
    changes = ch.diff()
    assert {"Path": "/tmp/changed", "Kind": 1} in changes
    image = ch.commit(repository="e2e-py/committed", tag="v1", conf={"Env": ["C=1"]})
    try:
        # docker merges the body's config over the container's: the command and the
        # image's PATH stay, the body's variable is added.
        cfg = image.attrs["Config"]
        assert cfg["Cmd"] == ["sh", "-c", "touch /tmp/changed; sleep 300"], cfg
        assert "C=1" in cfg["Env"] and any(e.startswith("PATH=") for e in cfg["Env"]), cfg
        assert client.containers.run(image.id, ["sh", "-c", "test -f /tmp/changed && echo $C"], remove=True) == b"1\n"
    finally:
        client.images.remove(image.id, force=True)
    data = b"".join(ch.export())
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        assert "tmp/changed" in tf.getnames()


def test_attach_socket(client, img, dclean):
    c = client.containers.create(img, ["sh", "-c", "read x; echo got-$x; echo err-$x >&2"], stdin_open=True,
                                 name="py-attach")
    s = c.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    raw = s._sock if hasattr(s, "_sock") else s
    c.start()
    raw.sendall(b"zz\n")
    raw.settimeout(15)
    buf = b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            chunk = raw.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    raw.close()
    out, err = demux(buf)
    assert out == b"got-zz\n" and err == b"err-zz\n", buf
    assert c.wait(timeout=30)["StatusCode"] == 0
    # A TTY container's attach stream is raw.
    t = client.containers.create(img, ["sh", "-c", "echo tty-out"], tty=True)
    s = t.attach_socket(params={"stdout": 1, "stream": 1})
    raw = s._sock if hasattr(s, "_sock") else s
    t.start()
    raw.settimeout(15)
    buf = b""
    while True:
        try:
            chunk = raw.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    raw.close()
    assert buf.replace(b"\r\n", b"\n") == b"tty-out\n", buf


def test_events_stream(client, img, dclean):
    since = int(time.time()) - 1
    c = client.containers.run(img, ["true"], detach=True, name="py-events")
    c.wait(timeout=30)
    c.remove()
    evs = list(client.events(since=since, until=int(time.time()) + 1, decode=True,
                             filters={"container": c.id, "type": "container"}))
    actions = [e["Action"] for e in evs]
    for a in ("create", "start", "die", "destroy"):
        assert a in actions, actions
    assert all(e["id"] == c.id and e["Actor"]["Attributes"]["name"] == "py-events" for e in evs)


def test_errors(client, img, dclean):
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("e2e-py/no-such-image:latest", ["true"])
    client.containers.create(img, ["true"], name="py-dup")
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.create(img, ["true"], name="py-dup")
    assert e.value.status_code == 409 and 'Conflict. The container name "/py-dup" is already in use' in str(e.value)
    c = client.containers.run(img, ["sleep", "300"], detach=True, name="py-running")
    with pytest.raises(docker.errors.APIError) as e:
        c.remove()
    assert e.value.status_code == 409
    c.stop(timeout=1)
    with pytest.raises(docker.errors.APIError) as e:
        c.exec_run(["true"])
    assert e.value.status_code == 409 and "is not running" in str(e.value)
