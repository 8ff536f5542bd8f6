#!/usr/bin/env python3
"""The berthd half of the demo: a local registry (Debian's docker-registry on
127.0.0.1) serving a busybox image built offline, a temp berthd, and the berth
CLI doing what a tutorial reader does: search, pull, images, inspect, history,
tag, push, rmi, save/load; then a container: run -d with a name and an
environment variable, ps, logs, exec, stop, rm, run --rm. Everything it starts
is stopped by pid at the end (containers removed first: their monitors outlive
berthd by design). Usage: demo_images.py BERTHD BERTH"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "e2e"))
import imagebuild as ib  # noqa: E402
from memos_app import memos_image  # noqa: E402 - the tutorial's memo app, built offline
from registry import Registry  # noqa: E402

berthd, berth = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="berth-demo-images-", dir="/var/tmp")
sock = os.path.join(work, "berth.sock")
env = dict(os.environ, DOCKER_HOST=f"unix://{sock}", HOME=work)
reg = Registry()
daemon = None


def run(*args):
    print(f"\n$ berth {' '.join(args)}", flush=True)
    p = subprocess.run([berth, *args], env=env)
    if p.returncode != 0:
        raise SystemExit(f"berth {' '.join(args)} exited {p.returncode}")


try:
    reg.start()
    reg.client().push_image("demo/busybox", "1.36", ib.busybox_image())
    reg.client().push_image("demo/memos", "latest", memos_image())
    print(f"registry on {reg.host} serves demo/busybox:1.36 (built offline from busybox-static)")
    cfg = os.path.join(work, "daemon.json")
    with open(cfg, "w") as f:
        f.write("{}\n")
    daemon = subprocess.Popen([berthd, "--data-root", os.path.join(work, "root"),
                               "--exec-root", os.path.join(work, "exec"), "-H", f"unix://{sock}",
                               "--config-file", cfg, "--bridge", "bdemo0"],
                              env=dict(os.environ, BERTH_NFT_TABLE="berth_demo"),
                              stdout=open(os.path.join(work, "berthd.log"), "w"),
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while not os.path.exists(sock):
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise SystemExit("berthd did not start; see " + os.path.join(work, "berthd.log"))
        time.sleep(0.05)
    ref = f"{reg.host}/demo/busybox:1.36"
    run("version")
    run("search", f"{reg.host}/busybox")
    run("search", "--tags", f"{reg.host}/demo/busybox")
    run("pull", ref)
    run("images")
    run("inspect", "--format", "{{.Id}} {{.Os}}/{{.Architecture}} layers={{len .RootFS.Layers}}", ref)
    run("history", ref)
    run("tag", ref, f"{reg.host}/demo/copy:v1")
    run("push", f"{reg.host}/demo/copy:v1")
    run("save", "-o", os.path.join(work, "busybox.tar"), ref)
    run("rmi", ref, f"{reg.host}/demo/copy:v1")
    run("load", "-i", os.path.join(work, "busybox.tar"))
    run("images", "--digests")
    run("system", "df")
    print("\n== a container through berthd ==", flush=True)
    run("run", "-d", "--name", "demo", "-e", "GREETING=hello from berth", ref,
        "sh", "-c", 'while true; do echo "$GREETING, $(date +%T)"; sleep 1; done')
    run("ps")
    time.sleep(2.5)
    run("logs", "--tail", "2", "demo")
    run("exec", "demo", "sh", "-c", 'echo "exec in $(hostname) as $(id -u), GREETING=$GREETING"')
    run("stop", "-t", "1", "demo")
    run("ps", "-a", "--format", "{{.Names}}: {{.Status}}")
    run("rm", "demo")
    run("run", "--rm", ref, "echo", "bye from a --rm container")

    print("\n== the tutorial: a web app with a published port and a bind mount ==", flush=True)
    memos = f"{reg.host}/demo/memos:latest"
    data = os.path.join(work, "memos")
    run("pull", memos)
    run("run", "-d", "--name", "memos", "-p", "5555:5230", "-v", f"{data}:/var/opt/memos",
        "-e", "CODE=first", memos)
    run("ps")
    run("port", "memos")
    page = None
    for _ in range(100):
        try:
            page = urllib.request.urlopen("http://localhost:5555/", timeout=2).read().decode()
            break
        except OSError:
            time.sleep(0.1)
    print(f"\n$ curl http://localhost:5555/\n{page}", flush=True)
    if page is None:
        raise SystemExit("the app did not answer on localhost:5555")
    run("rm", "-f", "memos")
    run("rmi", memos)
    run("pull", memos)
    run("run", "-d", "--name", "memos", "-p", "5555:5230", "-v", f"{data}:/var/opt/memos",
        "-e", "CODE=second", memos)
    time.sleep(1)
    with open(os.path.join(data, "memos.log")) as f:
        print(f"\n$ cat {data}/memos.log  # written by the app, kept across rm and rmi\n{f.read()}",
              flush=True)
    run("network", "create", "demo-net")
    run("run", "-d", "--name", "web", "--network", "demo-net", memos)
    run("run", "--rm", "--network", "demo-net", memos, "sh", "-c",
        "sleep 0.5; wget -qO- http://web:5230/ | head -1")
    run("rm", "-f", "web", "memos")
    run("network", "rm", "demo-net")
finally:
    if daemon is not None and daemon.poll() is None:
        subprocess.run([berth, "rm", "-f", "demo", "memos", "web"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([berth, "network", "rm", "demo-net"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        daemon.terminate()
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    # The demo daemon's bridge and nftables table (its own names; nothing else is touched).
    subprocess.run(["ip", "link", "del", "bdemo0"], stderr=subprocess.DEVNULL)
    subprocess.run(["nft", "delete", "table", "ip", "berth_demo"], stderr=subprocess.DEVNULL)
    reg.cleanup()  # stops it and removes its storage dir
    shutil.rmtree(work, ignore_errors=True)
