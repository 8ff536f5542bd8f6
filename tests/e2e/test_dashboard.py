"""berthd's dashboard listener (docs/design/dashboard.md): the UI's files, the Engine API under
/api with the dashboard header, the refusals a cross-site page, a DNS-rebinding page or a
headerless request get, the token login of a non-loopback listener, the exec terminal over a
websocket, and the settings page (autostart through systemctl --root, log-opts and mirrors
written to daemon.json and applied live). The UI files are a small stand-in tree written by the
test (the npm build is another target); what is checked is berthd's serving of them."""

import gzip
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import is_berthd, running_daemon
from ctrutil import cbox, img, remove_all_containers  # noqa: F401 - fixtures
from dashclient import WebSocket, free_port, request

INDEX = b"<!doctype html><html><body><div id=app></div><script src=/assets/app-1f2e.js></script>"
APP_JS = b"console.log('berth dashboard');\n" * 50
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_dist(base):
    dist = os.path.join(base, "dist")
    os.makedirs(os.path.join(dist, "assets"))
    with open(os.path.join(dist, "index.html"), "wb") as f:
        f.write(INDEX)
    with open(os.path.join(dist, "assets", "app-1f2e.js"), "wb") as f:
        f.write(APP_JS)
    with gzip.open(os.path.join(dist, "assets", "app-1f2e.js.gz"), "wb") as f:
        f.write(APP_JS)
    return dist


def unit_file():
    """berthd.service as configured by the build (packaging/), else the source template."""
    build = os.environ.get("BERTH_BUILD_DIR", "")
    p = os.path.join(build, "packaging", "berthd.service")
    return p if build and os.path.exists(p) else os.path.join(SOURCE, "packaging", "systemd",
                                                              "berthd.service.in")


@pytest.fixture(scope="module")
def env():
    if not is_berthd():
        pytest.skip("berthd only: the dashboard is berth's")
    base = tempfile.mkdtemp(prefix="e2e-dash-", dir="/var/tmp")
    sdroot = os.path.join(base, "sdroot")
    os.makedirs(os.path.join(sdroot, "etc", "systemd", "system"))
    os.makedirs(os.path.join(sdroot, "usr", "lib", "systemd", "system"))
    shutil.copy(unit_file(), os.path.join(sdroot, "usr", "lib", "systemd", "system",
                                          "berthd.service"))
    shutil.copy(os.path.join(SOURCE, "packaging", "systemd", "berthd.socket"),
                os.path.join(sdroot, "usr", "lib", "systemd", "system", "berthd.socket"))
    yield {"base": base, "dist": make_dist(base), "sdroot": sdroot}
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon(env):
    """The module's berthd (the name ctrutil's img fixture uses) with a loopback dashboard."""
    port = free_port()
    with running_daemon(extra_args=["--dashboard", f"tcp://127.0.0.1:{port}", "--dashboard-dir",
                                    env["dist"], "--systemctl-root", env["sdroot"]]) as d:
        d.dash_port = port
        yield d


@pytest.fixture
def port(daemon):
    return daemon.dash_port


def test_ui_files_with_security_headers(port):
    r = request(port, "GET", "/")
    assert r.status == 200 and r.body == INDEX
    assert r.header("content-type") == "text/html; charset=utf-8"
    assert r.header("cache-control") == "no-cache"
    csp = r.header("content-security-policy")
    assert "default-src 'self'" in csp and f"ws://127.0.0.1:{port}" in csp
    assert "script-src 'self';" in csp
    assert r.header("x-content-type-options") == "nosniff"
    assert r.header("x-frame-options") == "DENY"
    assert r.header("referrer-policy") == "no-referrer"
    assert not any(h.startswith("access-control-") for h in r.headers)
    js = request(port, "GET", "/assets/app-1f2e.js", headers={"Accept-Encoding": "gzip"})
    assert js.status == 200 and js.header("content-encoding") == "gzip"
    assert gzip.decompress(js.body) == APP_JS
    assert "immutable" in js.header("cache-control")
    assert request(port, "GET", "/assets/app-1f2e.js").body == APP_JS
    assert request(port, "GET", "/containers/abc").body == INDEX  # client-side route
    assert request(port, "GET", "/assets/gone-00.js").status == 404
    for bad in ("/../daemon.json", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fdaemon.json"):
        r = request(port, "GET", bad)
        assert r.status in (400, 404) and b"root:" not in r.body, (bad, r)


def test_engine_api_under_api(port, daemon):
    r = request(port, "GET", "/api/_ping", dashboard=True)
    assert r.status == 200 and r.body == b"OK"
    r = request(port, "GET", "/api/v1.47/containers/json?all=1", dashboard=True)
    assert r.status == 200 and isinstance(json.loads(r.body), list)
    r = request(port, "GET", "/api/version", dashboard=True)
    assert r.status == 200 and "ApiVersion" in json.loads(r.body)
    s = request(port, "GET", "/api/berth/session", dashboard=True)
    assert json.loads(s.body) == {"login_required": False, "authenticated": True}


def test_cross_site_and_rebinding_requests_are_refused(port, daemon):
    before = len(daemon.api.get("/containers/json", query={"all": "1"}).json())
    body = json.dumps({"Image": "busybox", "Cmd": ["true"]})
    # A cross-site form/fetch cannot add the header: refused, nothing created.
    r = request(port, "POST", "/api/containers/create", body=body)
    assert r.status == 403 and b"X-Berth-Dashboard" in r.body
    # With the header but another site's Origin (or a sandboxed "null" one).
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{port + 1}"):
        r = request(port, "POST", "/api/containers/create", body=body, dashboard=True,
                    headers={"Origin": origin})
        assert r.status == 403, (origin, r)
    # DNS rebinding: the browser names the attacker's host.
    r = request(port, "GET", "/api/containers/json", dashboard=True, host=f"evil.example:{port}")
    assert r.status == 421
    assert request(port, "GET", "/", host=f"rebind.example:{port}").status == 421
    # Websocket without an Origin (not a browser's) and with a foreign one.
    assert WebSocket(port, "/api/events", origin=None).status == 403
    assert WebSocket(port, "/api/events", origin="http://evil.example").status == 403
    assert len(daemon.api.get("/containers/json", query={"all": "1"}).json()) == before
    # Same-origin requests pass.
    r = request(port, "GET", "/api/containers/json", dashboard=True,
                headers={"Origin": f"http://localhost:{port}"}, host=f"localhost:{port}")
    assert r.status == 200


def test_exec_terminal_over_websocket(port, daemon, img):
    api = daemon.api
    try:
        cid = api.post("/containers/create", body={"Image": img, "Cmd": ["sleep", "300"]}).json()["Id"]
        assert api.post(f"/containers/{cid}/start").status == 204
        r = request(port, "POST", f"/api/containers/{cid}/exec", dashboard=True,
                    body=json.dumps({"Cmd": ["sh"], "Tty": True, "AttachStdin": True,
                                     "AttachStdout": True, "AttachStderr": True}))
        assert r.status == 201, r
        eid = json.loads(r.body)["Id"]
        ws = WebSocket(port, f"/api/exec/{eid}/start/ws", origin=f"http://127.0.0.1:{port}")
        assert ws.status == 101, ws.head
        r = request(port, "POST", f"/api/exec/{eid}/resize?h=30&w=100", dashboard=True, body="")
        assert r.status == 200, r
        ws.send(b"stty size; echo hel''lo-$((6*7))\n")
        out = ws.read_until(b"hello-42")
        assert b"hello-42" in out, out
        ws.send(b"exit\n")
        out += ws.read_until(b"\x00never")  # until the close frame
        assert b"30 100" in out, out
        ws.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if not json.loads(request(port, "GET", f"/api/exec/{eid}/json",
                                      dashboard=True).body)["Running"]:
                break
            time.sleep(0.1)
        assert not json.loads(request(port, "GET", f"/api/exec/{eid}/json",
                                      dashboard=True).body)["Running"]
    finally:
        remove_all_containers(api)


def test_settings_autostart_through_systemctl_root(port, env):
    wants = os.path.join(env["sdroot"], "etc", "systemd", "system", "multi-user.target.wants",
                         "berthd.service")
    s = json.loads(request(port, "GET", "/api/berth/settings", dashboard=True).body)
    assert s["autostart"]["supported"] is True and s["autostart"]["state"] == "disabled", s
    assert s["autostart"]["enabled"] is False
    r = request(port, "PUT", "/api/berth/settings", dashboard=True,
                body=json.dumps({"autostart": {"enabled": True}}))
    assert r.status == 200, r
    s = json.loads(r.body)
    assert s["autostart"] == {"supported": True, "enabled": True, "state": "enabled",
                              "detail": ""}
    assert os.path.islink(wants)
    r = request(port, "PUT", "/api/berth/settings", dashboard=True,
                body=json.dumps({"autostart": {"enabled": False}}))
    assert r.status == 200 and json.loads(r.body)["autostart"]["state"] == "disabled"
    assert not os.path.lexists(wants)


def test_settings_log_opts_and_mirrors(port, daemon, img):
    cfg_path = os.path.join(daemon.base, "daemon.json")
    with open(cfg_path, "w") as f:
        json.dump({"max-concurrent-downloads": 4}, f)
    before = open(cfg_path).read()
    # Invalid values: 400 naming the field, daemon.json untouched.
    for body, field in (({"log_opts": {"max-size": "lots"}}, b"max-size"),
                        ({"log_opts": {"max-file": "0"}}, b"max-file"),
                        ({"registry_mirrors": ["ftp://mirror"]}, b"registry_mirrors[0]"),
                        ({"log_opts": {"compress": "true"}}, b"log_opts.compress")):
        r = request(port, "PUT", "/api/berth/settings", dashboard=True, body=json.dumps(body))
        assert r.status == 400 and field in r.body, (body, r)
        assert open(cfg_path).read() == before
    r = request(port, "PUT", "/api/berth/settings", dashboard=True,
                body=json.dumps({"log_opts": {"max-size": "1m", "max-file": "2"},
                                 "registry_mirrors": ["https://mirror.example"]}))
    assert r.status == 200, r
    s = json.loads(r.body)
    assert s["log_opts"] == {"max-size": "1m", "max-file": "2"}
    assert s["registry_mirrors"] == ["https://mirror.example"]
    saved = json.load(open(cfg_path))
    assert saved == {"max-concurrent-downloads": 4, "log-opts": {"max-size": "1m", "max-file": "2"},
                     "registry-mirrors": ["https://mirror.example"]}
    assert stat.S_IMODE(os.stat(cfg_path).st_mode) == 0o644
    assert [n for n in os.listdir(daemon.base) if ".tmp" in n] == []
    # Applied live: a new container gets the defaults, one with its own options keeps them.
    api = daemon.api
    try:
        cid = api.post("/containers/create", body={"Image": img, "Cmd": ["true"]}).json()["Id"]
        lc = api.get(f"/containers/{cid}/json").json()["HostConfig"]["LogConfig"]
        assert lc == {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "2"}}, lc
        own = api.post("/containers/create", body={
            "Image": img, "Cmd": ["true"],
            "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "5m"}}}}).json()["Id"]
        assert api.get(f"/containers/{own}/json").json()["HostConfig"]["LogConfig"]["Config"] == {
            "max-size": "5m"}
        info = api.get("/info").json()
        assert "https://mirror.example/" in json.dumps(info.get("RegistryConfig", {})) or \
            "mirror.example" in json.dumps(info)
    finally:
        remove_all_containers(api)
    # Cleared again: the keys leave daemon.json.
    r = request(port, "PUT", "/api/berth/settings", dashboard=True,
                body=json.dumps({"log_opts": {}, "registry_mirrors": []}))
    assert r.status == 200
    assert json.load(open(cfg_path)) == {"max-concurrent-downloads": 4}


def test_token_login_on_a_non_loopback_listener(make_daemon, env):
    port = free_port()
    d = make_daemon(extra_args=["--dashboard", f"tcp://0.0.0.0:{port}", "--dashboard-dir",
                                os.path.join(env["base"], "not-built")])
    d.start()
    token_file = os.path.join(d.data_root, "dashboard.token")
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    token = open(token_file).read().strip()
    assert len(token) == 64
    assert f"(login token in {token_file})" in d.log_tail(80)
    # No files installed: the page says so, the API still answers (after login).
    r = request(port, "GET", "/")
    assert r.status == 503 and b"not installed" in r.body
    assert json.loads(request(port, "GET", "/api/berth/session", dashboard=True).body) == {
        "login_required": True, "authenticated": False}
    r = request(port, "GET", "/api/containers/json", dashboard=True)
    assert r.status == 401 and json.loads(r.body) == {"message": "login required"}
    r = request(port, "POST", "/login", body=json.dumps({"token": "0" * 64}))
    assert r.status == 401 and json.loads(r.body) == {"message": "invalid token"}
    assert r.header("set-cookie") == ""
    r = request(port, "POST", "/login", body=json.dumps({"token": token}))
    assert r.status == 204
    cookie = r.header("set-cookie")
    assert cookie == f"berth_token={token}; HttpOnly; SameSite=Strict; Path=/"
    r = request(port, "GET", "/api/containers/json", dashboard=True,
                headers={"Cookie": f"berth_token={token}"})
    assert r.status == 200
    r = request(port, "GET", "/api/_ping", dashboard=True,
                headers={"Authorization": f"Bearer {token}"})
    assert r.status == 200
    # The cookie does not replace the header, and the token survives a restart.
    assert request(port, "GET", "/api/containers/json",
                   headers={"Cookie": f"berth_token={token}"}).status == 403
    d.restart()
    assert open(token_file).read().strip() == token
    assert request(port, "GET", "/api/_ping", dashboard=True,
                   headers={"Authorization": f"Bearer {token}"}).status == 200


def test_dashboard_none_and_busy_port(make_daemon):
    # "none": no listener at all.
    d = make_daemon(extra_args=["--dashboard", "none"])
    d.start()
    assert "dashboard:" not in d.log_tail(80)
    # A configured address that cannot be bound is fatal (and says why).
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        busy = blocker.getsockname()[1]
        d2 = make_daemon(extra_args=["--dashboard", f"tcp://127.0.0.1:{busy}"])
        # (start() reports the exit as a RuntimeError, or as the TimeoutError that
        # carries it when the exit came during a retry of its readiness probe.)
        with pytest.raises((RuntimeError, TimeoutError), match="dashboard tcp://127.0.0.1:.*in use"):
            d2.start(timeout=5)
    finally:
        blocker.close()


def test_berth_doctor_sees_the_daemon_and_the_dashboard(port, daemon):
    berth = os.environ["BERTH"]
    r = subprocess.run([berth, "-H", daemon.host, "doctor", "--dashboard",
                        f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    assert "  OK       berthd: answering at" in r.stdout, r.stdout
    assert f"  OK       dashboard: answering at http://127.0.0.1:{port}" in r.stdout, r.stdout
    # Exit status follows the essential host checks (kernel, cgroups, seccomp here).
    missing = [line for line in r.stdout.splitlines() if line.startswith("  MISSING")]
    assert r.returncode == (1 if missing else 0), r.stdout
    # Nothing listening: berthd is reported missing and doctor fails.
    r = subprocess.run([berth, "-H", "unix:///nonexistent/berth.sock", "doctor", "--dashboard",
                        "http://127.0.0.1:1"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "  MISSING  berthd:" in r.stdout, r.stdout
    assert "  WARNING  dashboard: no answer" in r.stdout
