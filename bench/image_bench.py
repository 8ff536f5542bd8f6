#!/usr/bin/env python3
"""Image benchmarks: berthd vs dockerd (Debian docker.io 20.10) vs podman, on one machine.

Run as root, normally through bench/image_bench.sh. What it measures:

* cold pull of "big" (~200 MB uncompressed, 4 layers with whiteouts; built offline by
  tests/e2e/imagebuild.py and cached under /var/tmp/berth-e2e-cache) from a local
  docker-registry on 127.0.0.1. Each run gets a fresh data root: berthd and dockerd are started
  on new dirs (startup not timed; the pull is POST /images/create over the unix socket, timed
  until the progress stream ends), podman runs `podman --root D --runroot D2 pull
  --tls-verify=false REF` (timed as a whole process). Rounds are interleaved: every engine
  once per round, the order rotating each round.
  With `--fs fresh` (the default) every run's data root is a new ext4 filesystem (mkfs.ext4
  defaults, on a sparse loop file in /var/tmp) made before and removed after the run. Why: on
  a filesystem where the previous run's ~200 MB tree was just deleted, ext4 skips inodes freed
  in the last 5 s (305 s while their inode-table block is dirty, i.e. being written again) one
  by one on every file it creates (ialloc.c recently_deleted(), active on journal-less ext4 such
  as this VM's root): perf showed ~55% of berthd's CPU in that scan, so the old method measured
  how recently the bench itself had deleted files. `--fs shared` keeps the old method.
* `images` with 100 distinct small images loaded into each daemon: `berth images` against
  berthd vs `docker images` (the docker CLI, /usr/local/bin/docker) against dockerd; warm-up
  runs, then alternating timed runs (hyperfine-like), medians.
* idle RSS: VmRSS of berthd (plus any process it spawned) after startup and one /_ping, vs
  dockerd + its containerd (sum of VmRSS of dockerd and its descendants) after the same.

Prints a markdown block (with the command that reproduces it) and writes it to --out when
given. The berthd columns read "n/a" when $BERTHD / $BERTH are missing. Everything started is
stopped by pid and every temp dir removed, also on failure.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)
from proctime import timed_run  # noqa: E402
from benchstats import median, ratio, rotation  # noqa: E402,F401 - the tests use them here

DOCKER_CLI = "/usr/local/bin/docker"
PODMAN = "/usr/bin/podman"
ENGINES = ("berthd", "dockerd", "podman")


# --- pure parts (unit-tested in bench/test_image_bench.py) ------------------------------------

def fmt_num(x: Optional[float], digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def fmt_ratio(r: Optional[float]) -> str:
    return "n/a" if r is None else f"{r:.2f}×"


def render_markdown(res: Dict, command: str) -> str:
    """res: {"date", "host", "pull": {"image": str, "rounds": int, "samples": {engine: [s]}},
    "images": {"count": int, "runs": int, "samples": {"berth": [s], "docker": [s]}},
    "rss": {"berthd": MiB|None, "dockerd+containerd": MiB|None}}. Missing parts are skipped."""
    out = [f"### Image benchmarks ({res.get('date', '?')}, {res.get('host', '?')})", "",
           f"Reproduce: `{command}`", ""]
    pull = res.get("pull")
    if pull:
        base = median(pull["samples"].get("dockerd") or [])
        where = {"fresh": "a new ext4 filesystem", "shared": "a new dir on /var/tmp"}.get(pull.get("fs", "shared"))
        out += [f"Cold pull of {pull['image']} from a local docker-registry, {pull['rounds']} interleaved rounds "
                f"(data root of each run on {where}):", "",
                "| engine | median s | min s | max s | runs | vs dockerd |", "|---|---|---|---|---|---|"]
        for eng in ENGINES:
            xs = pull["samples"].get(eng)
            if xs is None:
                continue
            m = median(xs)
            out.append(f"| {eng} | {fmt_num(m)} | {fmt_num(min(xs) if xs else None)} | "
                       f"{fmt_num(max(xs) if xs else None)} | {len(xs)} | {fmt_ratio(ratio(m, base))} |")
        out.append("")
    imgs = res.get("images")
    if imgs:
        base = median(imgs["samples"].get("docker") or [])
        out += [f"`images` with {imgs['count']} images, {imgs['runs']} timed runs each:", "",
                "| command | median ms | min ms | vs docker images |", "|---|---|---|---|"]
        for name, label in (("berth", "berth images (berthd)"), ("docker", "docker images (dockerd)")):
            xs = imgs["samples"].get(name) or []
            m = median(xs)
            out.append(f"| {label} | {fmt_num(m * 1000 if m is not None else None, 1)} | "
                       f"{fmt_num(min(xs) * 1000 if xs else None, 1)} | {fmt_ratio(ratio(m, base))} |")
        out.append("")
    rss = res.get("rss")
    if rss:
        out += ["Idle RSS (after startup and one /_ping):", "", "| daemon | VmRSS MiB |", "|---|---|"]
        for k, v in rss.items():
            out.append(f"| {k} | {fmt_num(v, 1)} |")
        out.append("")
    return "\n".join(out)


# --- measurement -----------------------------------------------------------------------------

def vmrss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def log(msg: str) -> None:
    print(f"[image_bench] {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.berthd = args.berthd if args.berthd and os.access(args.berthd, os.X_OK) else None
        self.berth = args.berth if args.berth and os.access(args.berth, os.X_OK) else None
        self.cleanups = []

    def cleanup(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                log(f"cleanup: {e}")
        self.cleanups.clear()

    def daemon(self, kind, data_root=None):
        from daemons import Daemon
        d = Daemon(kind, binary=self.berthd if kind == "berthd" else None, data_root=data_root)
        self.cleanups.append(d.cleanup)
        d.start(timeout=120)
        return d

    def engines(self):
        want = [e for e in self.args.engines.split(",") if e]
        out = []
        for e in want:
            if e == "berthd" and not self.berthd:
                log("berthd: $BERTHD missing, column n/a")
                continue
            if e == "podman" and not os.access(PODMAN, os.X_OK):
                log("podman missing, column n/a")
                continue
            out.append(e)
        return out

    def fresh_fs(self):
        """A new ext4 filesystem mounted on a new dir; returns (mountpoint, cleanup)."""
        base = tempfile.mkdtemp(prefix="bench-fs-", dir="/var/tmp")
        img, mnt = os.path.join(base, "fs.img"), os.path.join(base, "mnt")
        os.mkdir(mnt)
        mounted = False

        def cleanup():
            from e2eutil import remove_tree
            if mounted:
                subprocess.run(["umount", mnt], check=True)
            remove_tree(base)
        try:
            subprocess.run(["truncate", "-s", "4G", img], check=True)
            subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
            subprocess.run(["mount", "-o", "loop", img, mnt], check=True)
            mounted = True
        except Exception:
            cleanup()
            raise
        return mnt, cleanup

    def pull_once(self, engine, ref):
        if self.args.fs == "fresh":
            mnt, cleanup = self.fresh_fs()
            try:
                return self._pull_once(engine, ref, os.path.join(mnt, "root"))
            finally:
                cleanup()
        return self._pull_once(engine, ref, None)

    def _pull_once(self, engine, ref, data_root):
        if engine == "podman":
            base = tempfile.mkdtemp(prefix="bench-podman-", dir="/var/tmp")
            try:
                argv = [PODMAN, "--root", data_root or os.path.join(base, "root"), "--runroot", os.path.join(base, "run"),
                        "--storage-driver", "overlay", "pull", "-q", "--tls-verify=false", ref]
                t0 = time.perf_counter()
                p = subprocess.run(argv, capture_output=True, text=True, timeout=1200)
                dt = time.perf_counter() - t0
                if p.returncode != 0:
                    raise RuntimeError(f"podman pull failed: {p.stderr[-2000:]}")
                return dt
            finally:
                from e2eutil import remove_tree
                remove_tree(base)
        d = self.daemon(engine, data_root=data_root)
        try:
            t0 = time.perf_counter()
            r, err = d.api.pull(ref, timeout=1200)
            dt = time.perf_counter() - t0
            if err:
                raise RuntimeError(f"{engine} pull failed: {err}")
            return dt
        finally:
            d.cleanup()
            self.cleanups.remove(d.cleanup)

    def bench_pull(self, registry):
        import imagebuild as ib
        im = ib.big_image()
        registry.client().push_image("bench/big", "latest", im)
        ref = f"{registry.host}/bench/big:latest"
        engines = self.engines()
        samples = {e: [] for e in ENGINES if e in engines}
        if "berthd" not in engines:
            samples["berthd"] = []
        comp = sum(l.size for l in im.layers) / (1 << 20)
        unc = im.uncompressed_size() / (1 << 20)
        for rnd in range(self.args.rounds):
            for eng in rotation(engines, rnd):
                dt = self.pull_once(eng, ref)
                samples[eng].append(dt)
                log(f"round {rnd + 1}/{self.args.rounds} {eng}: {dt:.2f}s")
        return {"image": f'"big" ({unc:.0f} MB uncompressed, {comp:.0f} MB gzip, {len(im.layers)} layers)',
                "rounds": self.args.rounds, "fs": self.args.fs, "samples": samples}

    def _load_many(self, d, archive):
        with open(archive, "rb") as f:
            r = d.api.post("/images/load", body=f.read(), headers={"Content-Type": "application/x-tar"},
                           query={"quiet": "1"}, timeout=600)
        if r.status != 200 or r.stream_error():
            raise RuntimeError(f"load into {d.kind} failed: {r}")

    def _time_cli(self, argv, env):
        t = timed_run(argv, env=env, timeout=120)
        if t.returncode != 0:
            raise RuntimeError(f"{argv} failed: {t.stderr.decode(errors='replace')[-1000:]}")
        return t.seconds

    def bench_images(self, workdir):
        import imagebuild as ib
        n = self.args.image_count
        archive = os.path.join(workdir, "many.tar")
        ib.write_docker_archive(archive, [(ib.small_image(10000 + i), [f"bench/small-{i}:latest"]) for i in range(n)])
        runs = {}
        env_base = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env_base["HOME"] = workdir
        dd = self.daemon("dockerd")
        self._load_many(dd, archive)
        runs["docker"] = ([DOCKER_CLI, "images"], dict(env_base, DOCKER_HOST=dd.host))
        if self.berthd and self.berth:
            bd = self.daemon("berthd")
            self._load_many(bd, archive)
            runs["berth"] = ([self.berth, "images"], dict(env_base, DOCKER_HOST=bd.host))
        else:
            log("berth images: $BERTHD or $BERTH missing, row n/a")
        samples = {k: [] for k in ("berth", "docker")}
        for k, (argv, env) in runs.items():
            for _ in range(self.args.warmup):
                self._time_cli(argv, env)
        order = list(runs)
        for i in range(self.args.image_runs):
            for k in rotation(order, i):
                argv, env = runs[k]
                samples[k].append(self._time_cli(argv, env))
        return {"count": n, "runs": self.args.image_runs, "samples": samples}

    def bench_rss(self):
        from e2eutil import descendants_of
        out = {"berthd": None, "dockerd+containerd": None}
        if self.berthd:
            d = self.daemon("berthd")
            d.api.ping()
            time.sleep(self.args.settle)
            out["berthd"] = sum(vmrss_kib(p) for p in [d.pid] + descendants_of(d.pid)) / 1024.0
        d = self.daemon("dockerd")
        d.api.ping()
        time.sleep(self.args.settle)
        pids = [d.pid] + descendants_of(d.pid)
        out["dockerd+containerd"] = sum(vmrss_kib(p) for p in pids) / 1024.0
        return out

    def run(self):
        from registry import Registry
        res = {"date": datetime.date.today().isoformat(),
               "host": f"{platform.node()}, {os.cpu_count()} CPUs, {platform.release()}"}
        workdir = tempfile.mkdtemp(prefix="bench-images-", dir="/var/tmp")
        from e2eutil import remove_tree
        self.cleanups.append(lambda: remove_tree(workdir))
        try:
            parts = set(self.args.parts.split(","))
            if "pull" in parts:
                reg = Registry()
                self.cleanups.append(reg.cleanup)
                reg.start()
                res["pull"] = self.bench_pull(reg)
            if "images" in parts:
                res["images"] = self.bench_images(workdir)
                self.cleanup_daemons()
            if "rss" in parts:
                res["rss"] = self.bench_rss()
        finally:
            self.cleanup()
        return res

    def cleanup_daemons(self):
        # Stop the daemons of a finished part (registry and workdir stay).
        keep = []
        for fn in self.cleanups:
            if getattr(fn, "__self__", None) is not None and type(fn.__self__).__name__ == "Daemon":
                fn()
            else:
                keep.append(fn)
        self.cleanups = keep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--berthd", default=os.environ.get("BERTHD", os.path.join(REPO, "build/release/cmd/berthd/berthd")))
    ap.add_argument("--berth", default=os.environ.get("BERTH", os.path.join(REPO, "build/release/cmd/berth/berth")))
    ap.add_argument("--engines", default="berthd,dockerd,podman")
    ap.add_argument("--parts", default="pull,images,rss", help="comma list of pull,images,rss")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved cold-pull rounds")
    ap.add_argument("--fs", choices=("fresh", "shared"), default="fresh",
                    help="data root of each pull run: a new ext4 filesystem, or a dir in /var/tmp")
    ap.add_argument("--image-count", type=int, default=100)
    ap.add_argument("--image-runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--settle", type=float, default=2.0, help="seconds idle before reading RSS")
    ap.add_argument("--out", help="also write the markdown block here")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("image_bench: needs root", file=sys.stderr)
        return 2
    b = Bench(args)
    res = b.run()
    cmd = "bench/image_bench.sh " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    md = render_markdown(res, cmd.strip())
    print(md)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
