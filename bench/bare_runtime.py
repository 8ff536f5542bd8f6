#!/usr/bin/env python3
"""N x `RUNTIME run -d` straight from OCI runtimes, no engine: the floor under `run -d` here.

The container bench's `many` part times N x `run -d IMG sleep 1000000` through each engine.
How fast that can be depends on the machine far more than on the engine (process creation,
page faults and mount namespaces are what a container costs, and they are slow in some VMs),
so the part also runs this script, in the same session, for a figure that no engine can go
under on this machine: the bare runtime creating and starting the same container from a
prepared bundle, with no image store, no daemon, no CLI request, no log and no network set up.

Run as root (container_bench.py runs it as a child process):

    python3 bench/bare_runtime.py --count 50 --runtime crun=/usr/bin/crun \
        --runtime berth-runtime=build/release/cmd/berth-runtime/berth-runtime

The runtimes take turns, container by container, with no pause (the order rotates each
round), after --warmup untimed containers each (deleted first): N x
`RUNTIME --root ROOT run -d --bundle BUNDLE ID` per runtime, each timed from spawn to reap;
then every container is deleted (`delete -f`). The bundle is a busybox-static rootfs (read-only, shared)
with the runtime's own default config.json (`crun spec`, else `runc spec`) running
`sleep 1000000`; its namespaces are that spec's (a new, unconfigured network namespace).

The script runs in a private mount namespace: crun 1.8 refuses hybrid cgroup hosts whose v2
hierarchy has controllers, so an empty file is bind-mounted over that hierarchy's
cgroup.controllers there (bench/runtime_bench.py does the same); berth-runtime runs from a
read-only bind mount of its binary, its protected install. The host is untouched.

Prints one JSON object on stdout: {"count": N, "runtimes": {NAME: {"ms_per": float,
"version": str} or {"error": str}}, "notes": [str]}. Exit 0 when it could measure at least one
runtime. Every container is deleted and the temp dir removed, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runtime_bench as rb  # noqa: E402


def run_detached(argv: List[str], timeout: float) -> tuple:
    """(exit code, seconds from spawn to reap, stderr text). stderr goes to a file, not a pipe:
    the detached container inherits it and would hold a pipe open."""
    with tempfile.TemporaryFile() as errf:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf,
                             start_new_session=True)
        try:
            code = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return -1000, time.perf_counter() - t0, f"timed out after {timeout}s"
        dt = time.perf_counter() - t0
        errf.seek(0)
        return code, dt, errf.read().decode("utf-8", "replace").strip()


def sleep_bundle(tmp: str, busybox: str, spec_from: Dict[str, str]) -> tuple:
    """A bundle running `sleep 1000000` (runtime_bench's bundle, args changed)."""
    bundle = os.path.join(tmp, "bundle")
    os.makedirs(bundle)
    how = rb.make_bundle(bundle, busybox, spec_from)
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["process"]["args"] = ["sleep", "1000000"]
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    how = how.replace("args [/bin/true]", "args [sleep 1000000]")
    return bundle, how.split("; sha256 ")[0]  # the digest was of the /bin/true config


def measure(runners: List[rb.Runner], bundle: str, count: int, warmup: int,
            timeout: float) -> Dict[str, Dict]:
    """count containers per runtime, the runtimes taking turns (the order rotating each round)
    after `warmup` untimed containers each (deleted before the timed ones): whichever ran
    first paid ~30% more here without the warm-up. Mean ms per container, as the engines'
    loops report it."""
    out: Dict[str, Dict] = {}
    totals = {r.name: 0.0 for r in runners}
    try:
        for phase, n in (("w", warmup), ("t", count)):
            for i in range(n):
                k = i % len(runners)
                for r in runners[k:] + runners[:k]:
                    if r.name in out:
                        continue  # failed already
                    cid = f"bare-{os.getpid()}-{r.name}-{phase}{i}"
                    r.live.add(cid)
                    code, dt, err = run_detached(r.argv("run", "-d", "--bundle", bundle, cid), timeout)
                    if code != 0:
                        out[r.name] = {"error": rb.fail_msg(f"{r.name} run -d", code, err)}
                    elif phase == "t":
                        totals[r.name] += dt
            if phase == "w":
                for r in runners:
                    r.cleanup()
                rb.reap_strays()
    finally:
        for r in runners:
            r.cleanup()
        rb.reap_strays()
    for r in runners:
        out.setdefault(r.name, {"ms_per": totals[r.name] * 1000 / count})
    return out


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runtime", action="append", default=[], metavar="NAME=PATH",
                    help="a runtime to measure (repeatable), e.g. crun=/usr/bin/crun")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=3, help="untimed containers per runtime first")
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per runtime call")
    a = ap.parse_args(argv)
    if a.count < 1 or a.warmup < 0:
        ap.error("--count must be >= 1 and --warmup >= 0")
    wanted = []
    for spec in a.runtime:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            ap.error(f"--runtime takes NAME=PATH, not {spec!r}")
        wanted.append((name, path))
    if not wanted:
        ap.error("give at least one --runtime NAME=PATH")
    if os.geteuid() != 0:
        print("bare_runtime: needs root", file=sys.stderr)
        return 2
    out: Dict = {"count": a.count, "runtimes": {}, "notes": []}
    tmp = tempfile.mkdtemp(prefix="bench-bare-", dir="/var/tmp")
    try:
        mode, _ = rb.cgroup_mode()
        controllers = ""
        if mode == "hybrid":
            with open(rb.HYBRID_CONTROLLERS) as f:
                controllers = f.read().strip()
        if controllers:
            rb.apply_hybrid_workaround(tmp)
            out["notes"].append(f"empty file bind-mounted over {rb.HYBRID_CONTROLLERS} in the "
                                "script's private mount namespace (crun 1.8 refuses hybrid hosts)")
        else:
            rb.enter_private_mount_ns()
        rb.set_child_subreaper()
        ok = [(n, p) for n, p in wanted if os.path.isfile(p) and os.access(p, os.X_OK)]
        for n, p in wanted:
            if (n, p) not in ok:
                out["runtimes"][n] = {"error": f"not an executable file: {p}"}
        spec_from = {n: p for n, p in ok if n in ("crun", "runc")}
        for tool in ("crun", "runc"):
            found = shutil.which(tool)
            if tool not in spec_from and found:
                spec_from[tool] = found
        bundle, how = sleep_bundle(tmp, a.busybox, spec_from)
        out["notes"].append(how)
        runners = []
        for name, path in ok:
            if os.path.basename(path).startswith("berth-runtime"):
                path = rb.install_readonly(tmp, path)
            root = os.path.join(tmp, f"root-{name}")
            os.makedirs(root)
            runners.append(rb.Runner(name, path, root, a.timeout))
        rows = measure(runners, bundle, a.count, a.warmup, a.timeout) if runners else {}
        for name, row in rows.items():
            out["runtimes"][name] = row
        for r in runners:
            out["runtimes"][r.name]["version"] = rb.version_of(r.path)
    except rb.BenchError as e:
        out["notes"].append(f"error: {e}")
    finally:
        rb.remove_tree(tmp)
    print(json.dumps(out))
    return 0 if any("ms_per" in r for r in out["runtimes"].values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
