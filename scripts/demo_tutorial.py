#!/usr/bin/env python3
"""The tutorial, offline, against a running berthd (scripts/demo.sh starts one).

What a tutorial reader does, with the berth CLI: search a registry for the memo app, pull it,
run it with a name, a published port, a bind mount of a folder in the home directory, an
environment variable, detached, with auto-start on; open the app and save a memo; remove the
container and run it again: the memo is still there; turn auto-start off. The registry is
Debian's docker-registry on 127.0.0.1 serving the memo app built here from busybox-static
(tests/e2e/memos_app.py), so nothing comes from the internet.

Usage: demo_tutorial.py --berth PATH [--host unix://SOCK] [--app-port 5555]
       [--dashboard-port 9000] [--home DIR] [--check] [--cleanup]
--check: also check the dashboard's files and API and exit non-zero on any failure (CI).
--cleanup: remove the container and the image at the end (CI); otherwise they keep running
for the reader. The registry is stopped and its files removed either way (the image is
pulled by then).
"""
import argparse
import http.client
import os
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from memos_app import APP_PORT, memos_demo_image  # noqa: E402
from registry import Registry  # noqa: E402

MEMO_DIR_IN_APP = "/var/opt/memos"


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--host", default="")
    ap.add_argument("--app-port", type=int, default=5555)
    ap.add_argument("--dashboard-port", type=int, default=9000)
    ap.add_argument("--home", default=os.path.expanduser("~"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--cleanup", action="store_true")
    return ap.parse_args()


class Demo:
    def __init__(self, a):
        self.a = a
        self.env = dict(os.environ)
        if a.host:
            self.env["DOCKER_HOST"] = a.host

    def berth(self, *args, check=True, show=True, capture=False):
        if show:
            print(f"\n$ berth {' '.join(args)}", flush=True)
        p = subprocess.run([self.a.berth, *args], env=self.env, text=True,
                           stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE if capture else None)
        if check and p.returncode != 0:
            raise SystemExit(f"demo: berth {' '.join(args)} exited {p.returncode}")
        return p

    def http(self, port, method, path, body=None, headers=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            c.close()

    def wait_app(self, timeout=20):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                status, page = self.http(self.a.app_port, "GET", "/")
                if status == 200 and "<h1>memos</h1>" in page:
                    return page
                last = f"HTTP {status}"
            except OSError as e:
                last = str(e)
            time.sleep(0.2)
        raise SystemExit(f"demo: the app did not answer on localhost:{self.a.app_port} ({last})")

    def run_memos(self, image, data):
        self.berth("run", "-d", "--name", "memos", "-p", f"{self.a.app_port}:{APP_PORT}",
                   "-v", f"{data}:{MEMO_DIR_IN_APP}", "-e", "CODE=berth-demo",
                   "--restart", "unless-stopped", image)

    def check_dashboard(self):
        port = self.a.dashboard_port
        status, page = self.http(port, "GET", "/")
        if status != 200 or "<script" not in page:
            raise SystemExit(f"demo: the dashboard's page is missing (HTTP {status})")
        status, body = self.http(port, "GET", "/api/v1.47/containers/json",
                                 headers={"X-Berth-Dashboard": "1"})
        if status != 200 or '"/memos"' not in body:
            raise SystemExit(f"demo: the dashboard's API does not list memos (HTTP {status})")
        print(f"dashboard: page and API answer on 127.0.0.1:{port}", flush=True)

    def main(self):
        a = self.a
        data = os.path.join(a.home, "berth-demo", "memos")
        reg = Registry()
        try:
            reg.start()
            reg.client().push_image("demo/memos-demo", "latest", memos_demo_image())
            print(f"a local registry on {reg.host} serves demo/memos-demo:latest, built offline "
                  "from busybox-static", flush=True)
            remote = f"{reg.host}/demo/memos-demo:latest"
            self.berth("search", f"{reg.host}/memos")
            self.berth("pull", remote)
        finally:
            reg.cleanup()
        self.berth("tag", remote, "memos-demo")
        self.berth("images", "memos-demo")
        # A previous demo's container (the data in the folder stays).
        self.berth("rm", "-f", "memos", check=False, show=False, capture=True)
        self.run_memos("memos-demo", data)
        self.berth("ps", "--filter", "name=memos")
        self.wait_app()
        memo = f"saved by the demo at {time.strftime('%H:%M:%S')}"
        status, page = self.http(a.app_port, "POST", "/",
                                 body=urllib.parse.urlencode({"memo": memo}),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200 or memo not in page:
            raise SystemExit(f"demo: saving a memo failed (HTTP {status})")
        print(f"\nsaved a memo in the app: {memo!r}; the app keeps it in {data}/memos.txt",
              flush=True)
        self.berth("logs", "memos")
        self.berth("rm", "-f", "memos")
        self.run_memos("memos-demo", data)
        page = self.wait_app()
        if memo not in page:
            raise SystemExit("demo: the memo did not survive rm -f and a new run")
        print(f"\nthe memo survived `berth rm -f memos` and a new run: {memo!r}", flush=True)
        # The tutorial's last step: no auto-start for this one.
        self.berth("update", "--restart", "no", "memos")
        self.berth("inspect", "--format", "restart policy: {{.HostConfig.RestartPolicy.Name}}",
                   "memos")
        if a.check:
            self.check_dashboard()
        if a.cleanup:
            self.berth("rm", "-f", "memos")
            self.berth("rmi", "memos-demo", remote)
            print("\ndemo: OK (cleaned up)", flush=True)
            return
        print(f"""
The memo app runs:     http://localhost:{a.app_port}
The dashboard:         http://127.0.0.1:{a.dashboard_port}
Its data on the host:  {data}
Stop and remove it with `berth rm -f memos` (the data stays in the folder).""", flush=True)


if __name__ == "__main__":
    Demo(parse_args()).main()
