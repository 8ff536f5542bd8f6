#!/usr/bin/env python3
"""Container benchmarks (issue 4): berthd vs dockerd (Debian docker.io 20.10) vs podman.

Run as root through bench/container_bench.sh. Every engine runs on its own temp data root
(berthd and dockerd on their own sockets, podman with --root/--runroot/--tmpdir), all with the
same offline-built busybox image loaded by `docker load`-equivalent (/images/load for the two
daemons, `podman load` for podman). Parts (--parts):

* run:  `run --rm IMG true`, timed as a whole CLI process: berth -> berthd, docker CLI ->
        berthd, docker CLI -> dockerd, podman, and the docker CLI against
        bench/instant_engine.py (answers at once, runs nothing: the CLI's own floor). Warm-up
        runs, then rounds interleaved with the order rotating each round; medians. Once per
        network of --networks, in the same interleaved loop (below).
* many: N x `run -d IMG sleep 1000000` one after another (ms per container; after --warmup
        untimed `run --rm IMG true`), then the PSS of the per-container processes (sum of Pss
        in /proc/PID/smaps_rollup): berth-monitor, containerd-shim (dockerd), conmon (podman),
        divided by N. Once per network. Then, for scale, N x `run -d` of the same busybox
        `sleep` straight from crun and berth-runtime (bench/bare_runtime.py: a prepared bundle,
        no engine, no network set up), while the engines' containers still run: the floor
        under any engine's `run -d` on this machine.
* ps:   `ps -a` with the first network's N containers: berth -> berthd, docker -> berthd, docker ->
        dockerd, podman; interleaved timed runs.
* logs: a container that printed --log-lines lines (`seq 1 N`), then `logs CTR > /dev/null`
        timed (line count checked once per client). berth and docker get --log-opt
        max-size=1g so nothing rotates away.

podman runs with `--runtime runc` (crun 1.8 refuses this machine's hybrid cgroup layout),
`--network none` and explicit ulimits nofile=1024:<hard limit>, nproc=4096:4096 (podman's
root defaults exceed the hard limits here and the harness has no CAP_SYS_RESOURCE; even
nproc at exactly the hard limit is refused by runc's init).

Networks (--networks, default both): "default" runs the issue's commands as written, with no
network flag, so each engine puts the container on its default bridge: berthd its own bridge
(a per-run bridge name and nftables table), dockerd docker0 on DOCKER_BIP with --iptables=false
(the host's firewall stays untouched; docker0 is deleted afterwards); podman is left out (its
bridge needs netavark and iptables rules on the host). "none" adds `--network none` for every
engine, podman included.

Every timed command is a whole process from spawn to reap (bench/proctime.py: a blocking
wait, not subprocess.run's polling, which adds ~1 ms to each run).

Prints a markdown block with the reproducing command; --results FILE replaces (or appends)
the block between `<!-- BEGIN bench:containers -->` and `<!-- END bench:containers -->`.
Everything started is stopped by pid and every temp dir removed, also on failure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
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

DOCKER_CLI = "/usr/local/bin/docker"
CRUN = "/usr/bin/crun"
PODMAN = "/usr/bin/podman"
ENGINES = ("berthd", "dockerd", "podman")
IMG = "bench/busybox:latest"
DOCKER_BIP = "172.29.0.1/16"  # dockerd's docker0, away from berthd's pools' first picks
from container_report import (  # noqa: E402,F401 - the tests reach them through this module too
    BARE_PREFIX, BASELINE, CLIENTS, FLOOR, NETWORKS, fmt, median, render_markdown, replace_block, rotation)

# --- measurement ---------------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"[container_bench] {msg}", file=sys.stderr, flush=True)


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> List[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def pooled_monitors(daemon_pid: int) -> List[int]:
    """berthd's idle monitors (monitor::MonitorPool): its children started with --pooled=."""
    from e2eutil import children_of
    return [p for p in children_of(daemon_pid) if any(a.startswith("--pooled=") for a in cmdline(p))]


def procs_named(prefix: str, under: str) -> List[int]:
    """Processes whose argv[0] basename starts with prefix and whose arguments mention under."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        argv = cmdline(int(d))
        if argv and os.path.basename(argv[0]).startswith(prefix) and any(under in a for a in argv[1:]):
            out.append(int(d))
    return out


def dying_memcgs() -> Optional[int]:
    """Memory cgroups the kernel counts minus the directories that exist (v1 and v2)."""
    try:
        with open("/proc/cgroups") as f:
            counted = next(int(l.split()[2]) for l in f if l.startswith("memory\t"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    for root in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(root, "memory.stat")) or os.path.exists(
                os.path.join(root, "cgroup.controllers")):
            n = sum(1 for _ in os.walk(root))
            return max(counted - n, 0)
    return None


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


class Podman:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="bench-podman-", dir="/var/tmp")
        hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        self.glob = [PODMAN, "--root", os.path.join(self.base, "root"), "--runroot", os.path.join(self.base, "run"),
                     "--tmpdir", os.path.join(self.base, "tmp"), "--cgroup-manager", "cgroupfs",
                     "--events-backend", "file", "--storage-driver", "overlay", "--runtime", "runc"]
        lim = lambda v: "-1" if v == resource.RLIM_INFINITY else str(v)  # noqa: E731
        self.run_opts = ["--network", "none", "--ulimit", f"nofile=1024:{lim(hard_nofile)}",
                         "--ulimit", "nproc=4096:4096"]

    def cleanup(self):
        subprocess.run(self.glob + ["rm", "-af", "-t", "0"], capture_output=True, timeout=600)
        subprocess.run(self.glob + ["system", "reset", "-f"], capture_output=True, timeout=600)
        from e2eutil import remove_tree
        remove_tree(self.base)


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = {"berth": args.berth if os.access(args.berth or "", os.X_OK) else None,
                    "docker": DOCKER_CLI if os.access(DOCKER_CLI, os.X_OK) else None,
                    "podman": PODMAN}
        self.berthd = args.berthd if os.access(args.berthd or "", os.X_OK) else None
        self.networks = [n for n in args.networks.split(",") if n]
        if not self.networks or any(n not in NETWORKS for n in self.networks):
            raise SystemExit(f"container_bench: --networks takes a comma list of {', '.join(NETWORKS)}")
        self.cleanups = []
        self.daemons = {}
        self.podman = None
        self.errors: List[str] = []
        self.workdir = tempfile.mkdtemp(prefix="bench-containers-", dir="/var/tmp")
        self.env_base = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        self.env_base["HOME"] = self.workdir

    def cleanup(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                log(f"cleanup: {e}")
        self.cleanups.clear()
        from e2eutil import remove_tree
        remove_tree(self.workdir)

    # engines and clients

    def engines(self) -> List[str]:
        out = []
        for e in [x for x in self.args.only.split(",") if x]:
            if e not in ENGINES:
                raise SystemExit(f"container_bench: unknown engine {e!r} (berthd, dockerd, podman)")
            if e == "berthd" and not (self.berthd and self.bin["berth"]):
                self.errors.append("berthd: $BERTHD or $BERTH missing")
                continue
            if e == "podman" and not os.access(PODMAN, os.X_OK):
                self.errors.append("podman: not installed")
                continue
            out.append(e)
        return out

    def start_engines(self, engines: List[str], archive: str):
        from daemons import Daemon
        for e in engines:
            if e == "podman":
                self.podman = Podman()
                self.cleanups.append(self.podman.cleanup)
                p = subprocess.run(self.podman.glob + ["load", "-q", "-i", archive], capture_output=True,
                                   text=True, timeout=600)
                if p.returncode != 0:
                    raise RuntimeError(f"podman load failed: {p.stderr[-1000:]}")
                continue
            # dockerd keeps its default bridge when the default network is measured (docker0 on
            # DOCKER_BIP, no iptables rules); --network none runs use it all the same.
            bridge = DOCKER_BIP if e == "dockerd" and "default" in self.networks else None
            d = Daemon(e, binary=self.berthd if e == "berthd" else None, docker_bridge=bridge)
            self.cleanups.append(d.cleanup)
            d.start(timeout=120)
            with open(archive, "rb") as f:
                r = d.api.post("/images/load", body=f.read(), headers={"Content-Type": "application/x-tar"},
                               query={"quiet": "1"}, timeout=600)
            if r.status != 200 or r.stream_error():
                raise RuntimeError(f"load into {e} failed: {r}")
            self.daemons[e] = d

    def clients(self, engines: List[str]) -> List[tuple]:
        out = []
        for label, engine, cli in CLIENTS:
            if engine in engines and self.bin.get(cli):
                out.append((label, engine, cli))
        return out

    def argv(self, client, *cmd: str, net: Optional[str] = None) -> tuple:
        """The command line and environment of one client command; net (a NETWORKS key) marks
        a run/create whose options go after the verb."""
        label, engine, cli = client
        if cli == "podman":
            if net not in (None, "none"):
                raise ValueError("podman runs only with --network none here")
            cmd = list(cmd)
            if net:
                cmd[1:1] = self.podman.run_opts
            return self.podman.glob + cmd, self.env_base
        cmd = list(cmd)
        if net == "none":
            cmd[1:1] = ["--network", "none"]
        return [self.bin[cli]] + cmd, dict(self.env_base, DOCKER_HOST=self.daemons[engine].host)

    def time_cmd(self, argv, env, stdout=subprocess.DEVNULL) -> float:
        t = timed_run(argv, env=env, stdout=stdout, timeout=600)
        if t.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:1] + argv[-6:])} failed ({t.returncode}): "
                               f"{t.stderr.decode(errors='replace')[-600:]}")
        return t.seconds

    def interleaved(self, clients, make_argv, warmup: int, runs: int) -> Dict[str, List[float]]:
        return self.interleaved_jobs([(c[0], lambda c=c: make_argv(c)) for c in clients], warmup, runs)

    def interleaved_jobs(self, jobs, warmup: int, runs: int) -> Dict:
        """jobs: [(key, () -> (argv, env))]. Warm-up runs of each, then `runs` rounds with the
        order rotating each round; {key: [seconds]}. A job that fails is dropped (an error)."""
        samples: Dict = {}
        live = []
        for key, make in jobs:
            try:
                for _ in range(warmup):
                    self.time_cmd(*make())
                live.append((key, make))
                samples[key] = []
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                self.errors.append(f"{key}: {e}")
                log(f"{key}: {e}")
        for i in range(runs):
            for key, make in rotation(live, i):
                if key not in samples:
                    continue
                try:
                    samples[key].append(self.time_cmd(*make()))
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    self.errors.append(f"{key}: {e}")
                    log(f"{key}: {e}")
                    del samples[key]
        return samples

    # parts

    def bench_run(self, clients):
        if self.bin.get("docker"):
            from instant_engine import InstantEngine
            stub = InstantEngine(os.path.join(self.workdir, "instant.sock")).start()
            self.cleanups.append(stub.stop)
            self.daemons["instant"] = stub
            clients = clients + [c for c in CLIENTS if c[1] == "instant"]
        # Both networks in one interleaved loop: the VM's drift hits them alike.
        jobs = [((net, c[0]), lambda c=c, net=net: self.argv(c, "run", "--rm", IMG, "true", net=net))
                for net in self.networks for c in clients if net == "none" or c[2] != "podman"]
        s = self.interleaved_jobs(jobs, self.args.warmup, self.args.rounds)
        variants: Dict[str, Dict[str, List[float]]] = {}
        for (net, label), v in s.items():
            variants.setdefault(net, {})[label] = v
            log(f"run --rm [{net}] {label}: median {fmt(median(v) * 1000 if v else None)} ms")
        return {"variants": variants, "rounds": self.args.rounds, "warmup": self.args.warmup}

    def per_container_procs(self, engine):
        if engine == "berthd":
            d = self.daemons[engine]
            # The idle monitor kept for the next container belongs to none; it counts all the same.
            return "berth-monitor", procs_named("berth-monitor", d.data_root) + \
                procs_named("berth-monitor", os.path.realpath(d.data_root)) + pooled_monitors(d.pid)
        if engine == "dockerd":
            return "containerd-shim-runc-v2", procs_named("containerd-shim", self.daemons[engine].base)
        return "conmon", procs_named("conmon", self.podman.base)

    def bench_many(self, clients, net: str):
        """N x `run -d` per engine on network net; the containers stay (for `ps`)."""
        n = self.args.count
        rows = {}
        for c in clients:
            label, engine, cli = c
            if cli == "docker" and engine == "berthd":
                continue  # one client per engine: the containers stay for `ps`
            if cli == "podman" and net != "none":
                continue
            try:
                # Each engine's loop starts on a settled machine: the kernel and the engines
                # finish the work the previous part left behind (namespaces of removed
                # containers are torn down by kernel workers after the fact).
                # Warm-up, as the other parts have: after quiesce() dropped the page cache the
                # first container read the engine's binaries and the image back (~110 ms here
                # instead of ~36 for berth), ~2 ms on each of 50 containers' mean. `run --rm`
                # leaves no container behind for `ps` and the PSS count.
                for _ in range(self.args.warmup):
                    argv, env = self.argv(c, "run", "--rm", IMG, "true", net=net)
                    self.time_cmd(argv, env)
                time.sleep(self.args.settle)
                t0 = time.perf_counter()
                for i in range(n):
                    argv, env = self.argv(c, "run", "-d", "--name", f"bench-{i}", IMG, "sleep", "1000000",
                                          net=net)
                    self.time_cmd(argv, env)
                dt = time.perf_counter() - t0
                time.sleep(self.args.settle)
                name, pids = self.per_container_procs(engine)
                pids = sorted(set(pids))
                total = sum(pss_kb(p) for p in pids)
                rows[label] = {"ms_per": dt * 1000 / n, "proc": name, "nprocs": len(pids),
                               "pss_kb_per": total / n if pids else None}
                log(f"{n} x run -d {label}: {dt * 1000 / n:.1f} ms/container; {len(pids)} {name}, "
                    f"{total} kB PSS")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                self.errors.append(f"{label} run -d [{net}]: {e}")
                log(f"{label} [{net}]: {e}")
        rows.update(self.bare_runtimes(n))
        return rows

    def bare_runtimes(self, n: int) -> Dict[str, Dict]:
        """The same N containers straight from the OCI runtimes (bench/bare_runtime.py): the
        floor under any engine's `run -d` on this machine, measured in the same session."""
        wanted = [(name, path) for name, path in (("crun", CRUN), ("berth-runtime", self.args.berth_runtime))
                  if name in self.args.bare.split(",") and path and os.access(path, os.X_OK)]
        if not wanted:
            return {}
        time.sleep(self.args.settle)
        argv = [sys.executable, os.path.join(HERE, "bare_runtime.py"), "--count", str(n)]
        for name, path in wanted:
            argv += ["--runtime", f"{name}={path}"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        try:
            out = json.loads(p.stdout)
        except ValueError:
            self.errors.append(f"bare runtimes: exit {p.returncode}: {p.stderr.strip()[-300:]}")
            return {}
        rows = {}
        for name, r in out.get("runtimes", {}).items():
            if "ms_per" not in r:
                self.errors.append(f"bare {name}: {r.get('error')}")
                continue
            rows[BARE_PREFIX + name] = {"ms_per": r["ms_per"], "proc": "-", "nprocs": 0, "pss_kb_per": None,
                                        "version": r.get("version"), "notes": out.get("notes", [])}
            log(f"{n} x bare {name} run -d: {r['ms_per']:.1f} ms/container")
        return rows

    def bench_ps(self, clients):
        s = self.interleaved(clients, lambda c: self.argv(c, "ps", "-a"), self.args.warmup, self.args.ps_runs)
        for k, v in s.items():
            log(f"ps -a {k}: median {fmt(median(v) * 1000 if v else None)} ms")
        return {"samples": s, "runs": self.args.ps_runs, "warmup": self.args.warmup, "count": self.args.count}

    def remove_all(self, engines):
        for e in engines:
            if e == "podman":
                subprocess.run(self.podman.glob + ["rm", "-af", "-t", "0"], capture_output=True, timeout=600)
            else:
                self.daemons[e].remove_containers()

    def bench_logs(self, clients, engines):
        n = self.args.log_lines
        made = {}
        for e in engines:
            c = next((c for c in clients if c[1] == e and not (c[2] == "docker" and e == "berthd")), None)
            if not c:
                continue
            try:
                opts = [] if e == "podman" else ["--log-opt", "max-size=1g"]
                if e == "podman":
                    opts = ["--log-driver", "k8s-file"]
                argv, env = self.argv(c, "run", "-d", *opts, "--name", "bench-logs", IMG, "seq", "1", str(n),
                                      net="none")
                self.time_cmd(argv, env)
                argv, env = self.argv(c, "wait", "bench-logs")
                self.time_cmd(argv, env)
                made[e] = True
            except (RuntimeError, subprocess.TimeoutExpired) as ex:
                self.errors.append(f"{e} logs container: {ex}")
        live = [c for c in clients if c[1] in made]
        counts = {}
        for c in live:
            argv, env = self.argv(c, "logs", "bench-logs")
            p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
            counts[c[0]] = p.stdout.count(b"\n")
            if p.returncode != 0 or counts[c[0]] != n:
                self.errors.append(f"{c[0]} logs printed {counts[c[0]]} lines (rc {p.returncode}), want {n}")
        s = self.interleaved(live, lambda c: self.argv(c, "logs", "bench-logs"), 1, self.args.logs_runs)
        for k, v in s.items():
            log(f"logs {k}: median {fmt(median(v) * 1000 if v else None)} ms")
        return {"samples": s, "runs": self.args.logs_runs, "lines": n, "counts": counts}

    def quiesce(self, res):
        """Every part starts from the same kernel state. A removed container's memory cgroup
        lives on ("dying") while page cache is charged to it, and each engine's containers
        leave some; with ~260 of them a berth `run -d` took 29 ms instead of 11.8 (after
        dropping the caches). Dropping the page cache frees them; the parts' warm-up runs
        read back what the engines need."""
        if self.args.no_drop_caches:
            return
        before = dying_memcgs()
        subprocess.run(["sync"], check=False)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        time.sleep(self.args.settle)
        res["dying_memcgs"].append(f"{before} → {dying_memcgs()}")

    def run(self):
        import imagebuild as ib
        res = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
               "host": f"{os.cpu_count()} CPUs, kernel {platform.release()}", "load_before": loadavg()}
        try:
            engines = self.engines()
            res["engines"] = engines
            ents = ib.busybox_entries() + [ib.Entry("bin/seq", "symlink", link="busybox")]
            im = ib.Image([ib.Layer.from_entries(ents, created_by="COPY busybox-static")],
                          labels={"org.berth.bench": "busybox"})
            archive = os.path.join(self.workdir, "busybox.tar")
            ib.write_docker_archive(archive, [(im, [IMG])])
            self.start_engines(engines, archive)
            clients = self.clients(engines)
            parts = set(self.args.parts.split(","))
            res["dying_memcgs"] = []
            if "run" in parts:
                self.quiesce(res)
                res["run"] = self.bench_run(clients)
            if "many" in parts or "ps" in parts:
                res["many"] = {"count": self.args.count, "warmup": self.args.warmup, "variants": {}}
                # --network none first (when measured): `ps` lists the first variant's containers.
                nets = sorted(self.networks, key=lambda k: k != "none")
                for net in nets if "many" in parts else nets[:1]:
                    self.quiesce(res)
                    res["many"]["variants"][net] = self.bench_many(clients, net)
                    if net == nets[0] and "ps" in parts:
                        res["ps"] = self.bench_ps(clients)
                    self.remove_all(engines)
            if "logs" in parts:
                self.quiesce(res)
                res["logs"] = self.bench_logs(clients, engines)
                self.remove_all(engines)
        finally:
            res["load_after"] = loadavg()
            res["errors"] = self.errors
            self.cleanup()
        return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--berthd", default=os.environ.get("BERTHD", os.path.join(REPO, "build/release/cmd/berthd/berthd")))
    ap.add_argument("--berth", default=os.environ.get("BERTH", os.path.join(REPO, "build/release/cmd/berth/berth")))
    ap.add_argument("--berth-runtime", default=os.environ.get(
        "BERTH_RUNTIME", os.path.join(REPO, "build/release/cmd/berth-runtime/berth-runtime")))
    ap.add_argument("--bare", default="crun,berth-runtime",
                    help="OCI runtimes run bare in the many part (bench/bare_runtime.py); '' for none")
    ap.add_argument("--only", default="berthd,dockerd,podman", help="engines: comma list of berthd,dockerd,podman")
    ap.add_argument("--parts", default="run,many,ps,logs", help="comma list of run,many,ps,logs")
    ap.add_argument("--networks", default="default,none",
                    help="networks of the run and many parts: default (each engine's own), none")
    ap.add_argument("--rounds", type=int, default=20, help="timed `run --rm` rounds")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--count", type=int, default=50, help="containers for `run -d` and `ps -a`")
    ap.add_argument("--ps-runs", type=int, default=20)
    ap.add_argument("--log-lines", type=int, default=1_000_000)
    ap.add_argument("--logs-runs", type=int, default=3)
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds of quiet before each engine's run -d loop and before reading PSS")
    ap.add_argument("--no-drop-caches", action="store_true",
                    help="do not drop the page cache (and the dying memory cgroups) before each part")
    ap.add_argument("--out", help="also write the markdown block here")
    ap.add_argument("--results", help="replace/append the block in this file (bench/RESULTS.md)")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("container_bench: needs root", file=sys.stderr)
        return 2
    b = Bench(args)
    res = b.run()
    given = list(argv if argv is not None else sys.argv[1:])
    shown, skip = [], False
    for a in given:  # the reproducing command, without where the result was written
        if skip or a.startswith(("--results=", "--out=")):
            skip = False
            continue
        if a in ("--results", "--out"):
            skip = True
            continue
        shown.append(a)
    cmd = "bench/container_bench.sh " + " ".join(shlex.quote(a) for a in shown)
    md = render_markdown(res, cmd.strip())
    print(md)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md + "\n")
    if args.results:
        with open(args.results) as f:
            text = f.read()
        with open(args.results, "w") as f:
            f.write(replace_block(text, md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
