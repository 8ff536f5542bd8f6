"""`cmake --install` into a DESTDIR: the layout (binaries, systemd units, bash completion,
/etc/berth/daemon.json, the dashboard's directory), then the installed berthd itself: started
from DESTDIR/usr/bin with the installed daemon.json, it finds berth-monitor and berth-init
beside itself (a container runs), and serves the dashboard files from
DESTDIR/usr/share/berth/dashboard. When the npm UI has not been built, the test writes a
stand-in index.html there first (the install rule is OPTIONAL for that case); the serving code
under test is the same."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import is_berthd, new_daemon
from ctrutil import cbox, remove_all_containers  # noqa: F401 - fixture
from dashclient import free_port, request

BINARIES = ("berth", "berthd", "berth-monitor", "berth-init", "berth-runtime")


@pytest.fixture(scope="module")
def installed():
    if not is_berthd():
        pytest.skip("berthd only: berth's install layout")
    build = os.environ.get("BERTH_BUILD_DIR")
    if not build or not os.path.isdir(build):
        pytest.fail(f"$BERTH_BUILD_DIR={build!r} is not the build directory (set by CTest)")
    dest = tempfile.mkdtemp(prefix="e2e-install-", dir="/var/tmp")
    r = subprocess.run(["cmake", "--install", build, "--prefix", "/usr"],
                       env=dict(os.environ, DESTDIR=dest), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    yield dest
    shutil.rmtree(dest, ignore_errors=True)


def test_layout(installed):
    for b in BINARIES:
        assert os.access(os.path.join(installed, "usr/bin", b), os.X_OK), b
    units = os.path.join(installed, "usr/lib/systemd/system")
    service = open(os.path.join(units, "berthd.service")).read()
    for line in ("Type=notify", "ExecStart=/usr/bin/berthd -H fd://", "Delegate=yes",
                 "KillMode=process", "LimitNOFILE=1048576", "Requires=berthd.socket",
                 "WantedBy=multi-user.target"):
        assert line + "\n" in service, line
    socket_unit = open(os.path.join(units, "berthd.socket")).read()
    for line in ("ListenStream=/run/berth/berth.sock", "SocketMode=0660", "SocketGroup=berth"):
        assert line + "\n" in socket_unit, line
    completion = os.path.join(installed, "usr/share/bash-completion/completions/berth")
    assert subprocess.run(["bash", "-n", completion]).returncode == 0
    # The completion lists the verbs: ask it for what follows "berth ex".
    script = (f"_init_completion() {{ cur=${{COMP_WORDS[COMP_CWORD]}}; words=(\"${{COMP_WORDS[@]}}\");"
              f" cword=$COMP_CWORD; }}; source {completion}; COMP_WORDS=(berth ex); COMP_CWORD=1;"
              " _berth; echo ${COMPREPLY[@]}")
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.split()
    assert sorted(out) == ["exec", "export"], out
    cfg = json.load(open(os.path.join(installed, "etc/berth/daemon.json")))
    assert cfg["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert os.path.exists(os.path.join(installed, "usr/share/doc/berth/README.md"))


def test_installed_berthd_runs_containers_and_serves_the_dashboard(installed, cbox):
    dash_dir = os.path.join(installed, "usr/share/berth/dashboard")
    built_ui = os.path.exists(os.path.join(dash_dir, "index.html"))
    if not built_ui:
        os.makedirs(dash_dir, exist_ok=True)
        with open(os.path.join(dash_dir, "index.html"), "w") as f:
            f.write("<!doctype html><title>stand-in</title>")
    index = open(os.path.join(dash_dir, "index.html"), "rb").read()
    port = free_port()
    d = new_daemon(binary=os.path.join(installed, "usr/bin/berthd"),
                   extra_args=["--dashboard", f"tcp://127.0.0.1:{port}"])
    d._staged = True  # run the installed tree as it is (berth-monitor beside berthd)
    os.makedirs(d.base, exist_ok=True)
    shutil.copy(os.path.join(installed, "etc/berth/daemon.json"), os.path.join(d.base, "daemon.json"))
    try:
        d.start()
        r = request(port, "GET", "/")
        assert r.status == 200 and r.body == index, r
        assert request(port, "GET", "/api/_ping", dashboard=True).body == b"OK"
        # The installed CLI talks to it.
        cli = subprocess.run([os.path.join(installed, "usr/bin/berth"), "-H", d.host, "version",
                              "--format", "{{.Server.Version}}"], capture_output=True, text=True)
        assert cli.returncode == 0 and cli.stdout.strip(), cli
        # A container: berthd found the installed berth-monitor (and berth-init for --init).
        r, err = d.api.pull(cbox.ref, timeout=300)
        assert r.status == 200 and not err, (r, err)
        cid = d.api.post("/containers/create", body={
            "Image": cbox.ref, "Cmd": ["sh", "-c", "exit 7"], "HostConfig": {"Init": True}}).json()["Id"]
        assert d.api.post(f"/containers/{cid}/start").status == 204
        w = d.api.post(f"/containers/{cid}/wait", timeout=60).json()
        assert w["StatusCode"] == 7, w
        lc = d.api.get(f"/containers/{cid}/json").json()["HostConfig"]["LogConfig"]
        assert lc["Config"] == {"max-size": "10m", "max-file": "3"}  # the installed daemon.json
        remove_all_containers(d.api)
    finally:
        d.cleanup()


def test_socket_activation_and_readiness(make_daemon, monkeypatch):
    """What berthd.service relies on: `-H fd://` takes the sockets systemd passes
    (systemd-socket-activate does the same: LISTEN_FDS/LISTEN_PID, fd 3), and Type=notify's
    READY=1 (then RELOADING=1/READY=1 on SIGHUP) arrives on $NOTIFY_SOCKET."""
    if not is_berthd():
        pytest.skip("berthd only")
    activate = shutil.which("systemd-socket-activate")
    if not activate:
        pytest.skip("systemd-socket-activate is not installed")
    d = make_daemon()
    notify_path = os.path.join(d.base, "notify.sock")
    os.makedirs(d.base, exist_ok=True)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(30)
    monkeypatch.setenv("NOTIFY_SOCKET", notify_path)
    plain = d.argv

    def activated():
        argv = plain()
        i = argv.index("-H")
        argv[i + 1] = "fd://"
        return [activate, "-l", d.sock, "-E", "BERTH_NFT_TABLE", "-E", "NOTIFY_SOCKET"] + argv

    d.argv = activated
    try:
        d.start()
        assert "listening on fd://3" in d.log_tail(40)
        assert notify.recv(256) == b"READY=1"
        os.kill(d.pid, signal.SIGHUP)
        assert notify.recv(256) == b"RELOADING=1"
        assert notify.recv(256) == b"READY=1"
        assert d.api.ping().status == 200
    finally:
        notify.close()
