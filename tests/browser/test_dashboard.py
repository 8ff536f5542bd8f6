"""The dashboard in a browser: a temp berthd serving its dashboard on a free loopback port and
a local registry holding a small HTTP app image; tutorial.spec.mjs (playwright-core driving
Debian's chromium) walks the tutorial through the UI and prints a JSON summary, checked here.

Environment:
  BERTH_DASHBOARD_DIR   the built dashboard (CTest: <build>/dashboard/dist)
  BERTH_DASHBOARD_DEV_PROXY=1  development only: berthd without its dashboard listener, and
                        dashboard/dev/server.mjs serving the files and forwarding /api/ to
                        berthd's socket (for a berthd that predates the dashboard routes; the
                        terminal step, which needs the exec websocket route, is skipped then)
  BERTH_SCREENSHOT_DIR  where the spec saves its PNGs (default docs/screenshots)
  BERTH_BROWSER_SUMMARY a file to copy the JSON summary to
"""

import json
import os
import shutil
import socket
import subprocess

import pytest

import imagebuild as ib
from ctrutil import cbox_entries
from e2e_conftest import new_daemon
from e2eutil import free_port, stop_pid, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
APP_PORT = 5230
PAGE = b"<h1>memos (berth e2e)</h1>\n"
# Like tests/e2e/memos_app.py's app, but the start line also goes to stdout (the logs view).
APP_CMD = ["sh", "-c", "mkdir -p /var/opt/memos && echo \"start code=$CODE\" | tee -a /var/opt/memos/memos.log"
           " && exec httpd -f -p 5230 -h /www"]


def app_image():
    base = ib.Layer.from_entries(cbox_entries(), created_by="COPY busybox-static + applets")
    E = ib.Entry
    app = ib.Layer.from_entries([E("www", "dir"), E("www/index.html", "file", data=PAGE),
                                 E("var", "dir"), E("var/opt", "dir"), E("var/opt/memos", "dir")],
                                created_by="COPY www")
    return ib.Image([base, app], cmd=APP_CMD,
                    extra_config={"config": {"Cmd": APP_CMD, "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                                             "ExposedPorts": {f"{APP_PORT}/tcp": {}},
                                             "WorkingDir": "/", "Labels": {}}})


def dist_dir():
    d = os.environ.get("BERTH_DASHBOARD_DIR") or os.path.join(REPO, "dashboard", "dist")
    if not os.path.exists(os.path.join(d, "index.html")):
        pytest.fail(f"no built dashboard in {d} (cmake --build builds the 'dashboard' target)")
    return d


@pytest.fixture
def dashboard(tmp_path):
    """(berthd, dashboard URL). The daemon serves the dashboard itself, unless the dev proxy
    mode is asked for."""
    dist = dist_dir()
    port = free_port()
    dev = os.environ.get("BERTH_DASHBOARD_DEV_PROXY") == "1"
    extra = [] if dev else ["--dashboard", f"tcp://127.0.0.1:{port}", "--dashboard-dir", dist]
    d = new_daemon(extra_args=extra)
    proxy = None
    try:
        d.start()
        if dev:
            proxy = subprocess.Popen(["node", os.path.join(REPO, "dashboard", "dev", "server.mjs"), "--dist", dist,
                                      "--socket", d.sock, "--listen", f"127.0.0.1:{port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        wait_until(up, 20, what=f"dashboard on 127.0.0.1:{port}")
        yield d, f"http://127.0.0.1:{port}", dev
    finally:
        if proxy:
            stop_pid(proxy.pid, proc=proxy)
        d.cleanup()


@pytest.fixture
def busy_port():
    """A host port something else already listens on (all addresses, as berthd binds)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 0))
    s.listen(1)
    yield s.getsockname()[1]
    s.close()


def test_dashboard_tutorial(dashboard, registry, busy_port, tmp_path):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} missing: run scripts/install-deps.sh (Debian's chromium)")
    if not os.path.isdir(os.path.join(REPO, "dashboard", "node_modules", "playwright-core")):
        pytest.fail("dashboard/node_modules/playwright-core missing: build the 'dashboard' target (npm ci)")
    daemon, url, dev = dashboard
    registry.client().push_image("e2e/memos", "latest", app_image())
    registry.client().push_image("e2e/memos", "1.0", app_image())
    bind_dir = str(tmp_path / "memos-data")  # absent: berthd creates it, as docker does
    env = dict(os.environ,
               DASHBOARD_URL=url, IMAGE_REPO=f"{registry.host}/e2e/memos", SEARCH_TERM=f"{registry.host}/e2e",
               APP_PORT=str(APP_PORT), HOST_PORT=str(free_port()), BUSY_PORT=str(busy_port),
               BIND_DIR=bind_dir, DIST_DIR=dist_dir(), FAIL_DIR=str(tmp_path), CHROMIUM=CHROMIUM,
               SCREENSHOT_DIR=os.environ.get("BERTH_SCREENSHOT_DIR", os.path.join(REPO, "docs", "screenshots")))
    if dev:
        env["SKIP"] = "terminal"
    p = subprocess.run(["node", os.path.join(HERE, "tutorial.spec.mjs")], env=env, capture_output=True,
                       text=True, timeout=900)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no JSON summary (exit {p.returncode})\nstdout:\n{p.stdout}\nstderr:\n{p.stderr[-6000:]}"
    summary = json.loads(lines[-1])
    if os.environ.get("BERTH_BROWSER_SUMMARY"):
        with open(os.environ["BERTH_BROWSER_SUMMARY"], "w") as f:
            json.dump(summary, f, indent=1)
    assert p.returncode == 0 and summary["ok"], (
        f"failed: {summary.get('failure')}\nstderr:\n{p.stderr[-6000:]}\nberthd log:\n{daemon.log_tail()}")
    assert [s["name"] for s in summary["steps"] if not s["ok"]] == []
    fl = summary["metrics"]["first_load"]
    assert fl["js_css_wire_bytes"] <= 300 * 1024, fl
    assert fl["tti_ms"] <= 1000, fl
    # berthd's own words reached the UI for the failed actions.
    assert "already in use" in summary["metrics"]["port_in_use_message"]
    assert "127.0.0.1:9" in summary["metrics"]["registry_unreachable_message"]
    storm = summary["metrics"]["log_storm"]
    assert storm["max_gap_ms"] <= 200 and storm["total_lines"] >= 50001, storm
    # The bind mount reached the host: the app wrote its start line with the env value.
    with open(os.path.join(bind_dir, "memos.log")) as f:
        assert f.read() == "start code=x\n"
    # Nothing left behind: no containers.
    left = daemon.api.get("/containers/json", query={"all": "1"}).json()
    assert left == [], left
