#!/usr/bin/env python3
"""Benchmarks berth-runtime against crun and runc on one busybox bundle (stdlib only).

Run as root, normally through bench/run.sh. What it measures:

* `run`: `RUNTIME --root ROOT run --bundle BUNDLE ID` of /bin/true, interleaved round-robin
  (the runtime order rotates every iteration) after warm-up runs. Wall time is
  time.perf_counter() from just before spawning `time -q -f %M RUNTIME ...` (GNU time) until
  it has been reaped. Peak RSS is GNU time's %M, the ru_maxrss that wait4() reports for the
  runtime process: the largest resident set that any *single* process of the tree reached,
  among the runtime process itself and the descendants it (transitively) reaped -- including
  the container process, whose high-water mark spans its life before and after exec. It is not
  the sum over processes that were alive at the same time, and it misses processes reparented
  elsewhere.
* phases: `create`, then `state` (untimed, for the container pid), then `start`, then the wait
  until the container process has exited (pidfd poll; this harness is a child subreaper, so it
  reaps the container process), then `delete`; each phase timed as above.
* A `host /bin/true` row: the same `time ... /bin/true` spawn without any runtime, i.e. the
  harness's own floor for both wall time and RSS.

All runtimes get the same bundle and config.json (generated once from `runc spec`, or
`crun spec`, with terminal=false and args ["/bin/true"]), each its own --root. Every subprocess
has a timeout; containers are deleted (`delete -f`) and temp dirs removed on any exit.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import hashlib
import json
import os
import platform
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_report as rep  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BERTH = os.path.join(REPO, "build/release/cmd/berth-runtime/berth-runtime")
DEFAULT_RESULTS = os.path.join(REPO, "bench/RESULTS.md")
DEFAULT_OUT = os.path.join(REPO, "bench/out")
HYBRID_CONTROLLERS = "/sys/fs/cgroup/unified/cgroup.controllers"
HELPER_TIMEOUT = 60.0  # untimed helper calls (spec, state, --version, cleanup delete -f)


class BenchError(Exception):
    pass


class CallTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise CallTimeout()


def _on_term(signum, frame):
    raise KeyboardInterrupt()


def _kill_group(pid: int) -> None:
    for fn in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            fn()
        except (ProcessLookupError, PermissionError):
            pass


TIME_TOOL = "/usr/bin/time"  # GNU time (Debian package `time`); see spawn()


def spawn(argv: List[str], timeout: float) -> Tuple[int, float, int, str]:
    """Runs argv to completion: (exit code, wall seconds, ru_maxrss KiB, stderr text).

    argv runs under GNU time (`time -q -f %M -o FILE`), which forks/execs it and reports the
    ru_maxrss that wait4 gives for it. Why not wait4 from here: a child's ru_maxrss includes
    the high-water RSS of the address space it had before exec, i.e. a copy of this ~20 MiB
    Python process; under GNU time that floor is GNU time's own ~1 MiB (see the host row).
    Wall time is perf_counter() around the whole call, so it includes GNU time's exec (same
    for every runtime; the `host /bin/true` row shows the floor).

    The child gets its own session/process group (so a timeout or Ctrl-C kills all of it),
    stdin and stdout /dev/null, stderr a temp file (a pipe could be held open by a container).
    The timeout is an ITIMER_REAL alarm that interrupts wait4; no thread is involved.
    A negative exit code is -signal; -1000 means timeout.
    """
    with tempfile.TemporaryFile() as errf, tempfile.NamedTemporaryFile(prefix="rss-") as rssf:
        full = [TIME_TOOL, "-q", "-f", "%M", "-o", rssf.name, *argv]
        p = None
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            t0 = time.perf_counter()
            p = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=errf, start_new_session=True)
            _, status, _ = os.wait4(p.pid, 0)
            t1 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            code = p.returncode
        except BaseException as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if p is not None and p.returncode is None:
                _kill_group(p.pid)
                try:
                    os.waitpid(p.pid, 0)
                except ChildProcessError:  # the signal came after wait4 had reaped it
                    pass
                p.returncode = -9
            if isinstance(e, CallTimeout):
                return -1000, float(timeout), 0, f"timed out after {timeout}s: {shlex.join(argv)}"
            raise
        errf.seek(0)
        err = errf.read().decode("utf-8", "replace").strip()
        rss_text = rssf.read().decode("utf-8", "replace").split()
        try:
            rss = int(rss_text[-1])
        except (IndexError, ValueError):
            return (code or -1001), t1 - t0, 0, f"{TIME_TOOL} wrote no %M value: {rss_text} {err}"
        return code, t1 - t0, rss, err


def capture(argv: List[str], timeout: float) -> Tuple[int, str]:
    """Runs argv and returns (exit code, stdout+stderr); for untimed helper calls."""
    try:
        cp = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return -1000, f"timed out after {timeout}s"
    except OSError as e:
        return -1, str(e)
    return cp.returncode, cp.stdout.decode("utf-8", "replace").strip()


def remove_tree(path: str) -> None:
    """rmtree that retries briefly (a killed runtime's children may still be exiting) and
    says what it could not remove instead of failing silently."""
    errors: List[str] = []
    # The read-only install of berth-runtime is a bind mount inside the tree.
    # (os.path.ismount cannot see a file bind-mounted from the same filesystem.)
    ro = os.path.join(path, "install", "berth-runtime")
    if os.path.exists(ro):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.umount2(ro.encode(), 2)  # MNT_DETACH; fails harmlessly when not mounted
    for attempt in range(5):
        errors.clear()
        shutil.rmtree(path, onerror=lambda fn, p, exc: errors.append(f"{p}: {exc[1]}"))
        if not os.path.exists(path):
            return
        time.sleep(0.2 * (attempt + 1))
    print(f"runtime_bench: could not remove {path}: {'; '.join(errors[:5])}", file=sys.stderr)


def remove_leftover_cgroups(cids: List[str]) -> None:
    """A runtime killed mid-`run` (timeout, Ctrl-C) may have made cgroups, and a container
    process, but no state, so `delete -f` cannot find them. The default-path cgroups named
    after our container ids are ours (ids embed this process's pid): kill what is still in
    them, reap what was reparented to us, and rmdir them, retrying for up to ~3 s."""
    base = "/sys/fs/cgroup"
    try:
        hiers = [os.path.join(base, h) for h in os.listdir(base)] + [base]
    except OSError:
        hiers = [base]
    pending = [os.path.join(h, c) for c in cids for h in hiers
               if os.path.isdir(os.path.join(h, c))]
    errors: Dict[str, str] = {}
    for attempt in range(15):
        errors.clear()
        for path in pending:
            try:
                with open(os.path.join(path, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        reap_strays()
        for path in pending:
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                errors[path] = str(e)
        pending = list(errors)
        if not pending:
            return
        time.sleep(0.2)
    for path, err in errors.items():
        print(f"runtime_bench: could not remove cgroup {path}: {err}", file=sys.stderr)


def reap_strays() -> None:
    """Reaps orphans reparented to this subreaper (called only while no Popen child runs)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# ---------------------------------------------------------------------------------------------
# Machine and environment


def cgroup_mode() -> Tuple[str, str]:
    """(mode, description) from /proc/self/mountinfo: unified, hybrid or legacy."""
    fstypes = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstypes[left.split()[4]] = right.split()[0]
    top = fstypes.get("/sys/fs/cgroup")
    if top == "cgroup2":
        return "unified", "cgroup v2 (unified)"
    if fstypes.get("/sys/fs/cgroup/unified") == "cgroup2":
        try:
            with open(HYBRID_CONTROLLERS) as f:
                ctl = f.read().strip()
        except OSError:
            ctl = "?"
        return "hybrid", f"hybrid (v1 controllers; v2 at /sys/fs/cgroup/unified with " \
                         f"controllers: {ctl or 'none'})"
    return "legacy", "cgroup v1 (legacy)"


def machine_info() -> Dict[str, str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"Machine": f"nproc {os.cpu_count()}, {cpu}, kernel {platform.release()}",
            "cgroup mode": cgroup_mode()[1]}


def apply_hybrid_workaround(tmpdir: str) -> None:
    """Makes crun usable on a hybrid host whose v2 hierarchy has controllers (crun refuses:
    "cgroups in hybrid mode not supported"): this process enters a private mount namespace and
    bind-mounts an empty file over /sys/fs/cgroup/unified/cgroup.controllers. Only this process
    and its children (all runtimes alike) see it; the host is untouched.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_void_p]
    clone_newns, ms_rec, ms_private, ms_bind = 0x00020000, 0x4000, 1 << 18, 4096
    if libc.unshare(clone_newns) != 0:
        raise BenchError(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
    if libc.mount(b"none", b"/", None, ms_rec | ms_private, None) != 0:
        raise BenchError(f"mount --make-rprivate /: {os.strerror(ctypes.get_errno())}")
    empty = os.path.join(tmpdir, "empty-cgroup.controllers")
    open(empty, "w").close()
    if libc.mount(empty.encode(), HYBRID_CONTROLLERS.encode(), None, ms_bind, None) != 0:
        raise BenchError(f"bind {empty} over {HYBRID_CONTROLLERS}: "
                         f"{os.strerror(ctypes.get_errno())}")


def enter_private_mount_ns() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_void_p]
    if libc.unshare(0x00020000) != 0:
        raise BenchError(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
    if libc.mount(b"none", b"/", None, 0x4000 | (1 << 18), None) != 0:
        raise BenchError(f"mount --make-rprivate /: {os.strerror(ctypes.get_errno())}")


def install_readonly(tmpdir: str, path: str) -> str:
    """berth-runtime's protected install: the binary on a read-only bind mount, which
    berth-runtime detects (its /proc/self/exe cannot be opened for writing) and then skips the
    per-invocation re-exec it otherwise does against CVE-2019-5736. Done in the harness's private
    mount namespace; returns the path to run."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_void_p]
    ms_bind, ms_remount, ms_rdonly = 4096, 32, 1
    dst = os.path.join(tmpdir, "install", "berth-runtime")
    os.makedirs(os.path.dirname(dst))
    shutil.copy2(path, dst)
    if libc.mount(dst.encode(), dst.encode(), None, ms_bind, None) != 0 or \
            libc.mount(None, dst.encode(), None, ms_bind | ms_remount | ms_rdonly, None) != 0:
        raise BenchError(f"read-only bind of {dst}: {os.strerror(ctypes.get_errno())}")
    return dst


def set_child_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise BenchError(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


# ---------------------------------------------------------------------------------------------
# Bundle


def has_elf_interpreter(path: str) -> bool:
    """True if the ELF64 little-endian file has a PT_INTERP header (i.e. needs ld.so)."""
    with open(path, "rb") as f:
        hdr = f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2 or hdr[5] != 1:
            raise BenchError(f"{path}: not an ELF64 little-endian file")
        phoff, = struct.unpack_from("<Q", hdr, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


def make_bundle(dirpath: str, busybox: str, spec_from: Dict[str, str]) -> str:
    """Creates dirpath/{rootfs,config.json}; returns a note on how config.json was made."""
    if has_elf_interpreter(busybox):
        raise BenchError(f"{busybox} is dynamically linked (has PT_INTERP); install busybox-static")
    rootfs = os.path.join(dirpath, "rootfs")
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "root"):
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy2(busybox, os.path.join(rootfs, "bin/busybox"))
    code, applets = capture([busybox, "--list"], HELPER_TIMEOUT)
    if code != 0:
        raise BenchError(f"{busybox} --list failed: {applets}")
    for name in applets.split():
        if name != "busybox" and "/" not in name:
            os.symlink("busybox", os.path.join(rootfs, "bin", name))
    if not os.path.exists(os.path.join(rootfs, "bin/true")):
        raise BenchError(f"{busybox} has no `true` applet")
    for tool, path in spec_from.items():
        specdir = os.path.join(dirpath, f"spec-{tool}")
        os.makedirs(specdir)
        code, msg = capture([path, "spec", "--bundle", specdir], HELPER_TIMEOUT)
        cfg_path = os.path.join(specdir, "config.json")
        if code != 0 or not os.path.exists(cfg_path):
            print(f"note: `{tool} spec` failed ({msg}); trying the next generator", file=sys.stderr)
            continue
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = ["/bin/true"]
        cfg["root"] = {"path": "rootfs", "readonly": True}
        text = json.dumps(cfg, indent=2, sort_keys=True) + "\n"
        with open(os.path.join(dirpath, "config.json"), "w") as f:
            f.write(text)
        ns = ",".join(n["type"] for n in cfg.get("linux", {}).get("namespaces", []))
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        cg = cfg.get("linux", {}).get("cgroupsPath", "(unset: runtime default)")
        return (f"Bundle: busybox-static rootfs ({len(applets.split())} applets), config.json from "
                f"`{tool} spec` with terminal=false, args [/bin/true], root readonly; "
                f"namespaces {ns}; cgroupsPath {cg}; sha256 {digest}")
    raise BenchError("no runtime could generate a default config.json (`runc spec`/`crun spec`)")


# ---------------------------------------------------------------------------------------------
# Benchmark loops


class Runner:
    """Runs one runtime binary with its own --root; remembers containers to clean up."""

    def __init__(self, name: str, path: str, root: str, timeout: float):
        self.name, self.path, self.root, self.timeout = name, path, root, timeout
        self.live: set = set()

    def argv(self, *args: str) -> List[str]:
        return [self.path, "--root", self.root, *args]

    def cleanup(self) -> None:
        for cid in sorted(self.live):
            capture(self.argv("delete", "-f", cid), HELPER_TIMEOUT)
        remove_leftover_cgroups(sorted(self.live))
        self.live.clear()


def fail_msg(what: str, code: int, err: str) -> str:
    err = " ".join(err.split())[:300]
    return f"failed: `{what}` exited {code}: {err}"


def bench_run(runners: List[Runner], results: Dict[str, rep.RuntimeResult], bundle: str,
              runs: int, warmup: int, timeout: float) -> None:
    host = rep.HOST
    results.setdefault(host, rep.RuntimeResult(host, version="-"))
    names = [r.name for r in runners] + [host]
    by_name = {r.name: r for r in runners}
    for i in range(-warmup, runs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            res = results[name]
            if not res.ok():
                continue
            if name == host:
                code, wall, rss, err = spawn(["/bin/true"], timeout)
                cid = None
            else:
                rt = by_name[name]
                cid = f"bb-{os.getpid()}-{i + warmup}"
                rt.live.add(cid)
                code, wall, rss, err = spawn(rt.argv("run", "--bundle", bundle, cid), timeout)
                if code == 0:
                    rt.live.discard(cid)
                else:
                    rt.cleanup()
            reap_strays()
            if code != 0:
                res.status = fail_msg(f"{name} run", code, err)
                print(f"{name}: {res.status}", file=sys.stderr)
                continue
            if i >= 0:
                res.wall.append(wall)
                res.rss.append(rss)


def phase_iteration(rt: Runner, bundle: str, cid: str,
                    timeout: float) -> Tuple[Dict[str, float], Dict[str, int], Optional[str]]:
    walls, rsss = {}, {}
    rt.live.add(cid)
    code, walls["create"], rsss["create"], err = spawn(rt.argv("create", "--bundle", bundle, cid),
                                                       timeout)
    if code != 0:
        return walls, rsss, fail_msg(f"{rt.name} create", code, err)
    code, out = capture(rt.argv("state", cid), HELPER_TIMEOUT)
    try:
        st = json.loads(out) if code == 0 else None
        pid = int(st["pid"]) if st else 0
    except (ValueError, KeyError, TypeError):
        pid = 0
    if pid <= 0:
        return walls, rsss, fail_msg(f"{rt.name} state", code, out)
    # Open the pidfd before `start` so an immediately exiting process cannot be missed.
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return walls, rsss, f"failed: container pid {pid} gone before start"
    try:
        code, walls["start"], rsss["start"], err = spawn(rt.argv("start", cid), timeout)
        if code != 0:
            return walls, rsss, fail_msg(f"{rt.name} start", code, err)
        t0 = time.perf_counter()
        ready = select.select([pidfd], [], [], timeout)[0]
        walls["wait"] = time.perf_counter() - t0
    finally:
        os.close(pidfd)
    if not ready:
        return walls, rsss, f"failed: container process {pid} still running {timeout}s after start"
    try:
        os.waitpid(pid, 0)  # ours as subreaper once `create` exited; reap before `delete`
    except ChildProcessError:
        pass
    code, walls["delete"], rsss["delete"], err = spawn(rt.argv("delete", cid), timeout)
    if code != 0:
        return walls, rsss, fail_msg(f"{rt.name} delete", code, err)
    rt.live.discard(cid)
    return walls, rsss, None


def bench_phases(runners: List[Runner], results: Dict[str, rep.RuntimeResult], bundle: str,
                 runs: int, warmup: int, timeout: float) -> None:
    for i in range(-warmup, runs):
        k = i % len(runners) if runners else 0
        for rt in runners[k:] + runners[:k]:
            res = results[rt.name]
            if not res.ok():
                continue
            cid = f"ph-{os.getpid()}-{i + warmup}"
            walls, rsss, err = phase_iteration(rt, bundle, cid, timeout)
            if err is not None:
                rt.cleanup()
            reap_strays()
            if err is not None:
                res.status = err
                print(f"{rt.name}: {err}", file=sys.stderr)
                continue
            if i >= 0:
                for p, v in walls.items():
                    res.phases.setdefault(p, []).append(v)
                for p, v in rsss.items():
                    res.phase_rss.setdefault(p, []).append(v)


def bench_hyperfine(runners: List[Runner], bundle: str, runs: int, warmup: int, out_dir: str,
                    timeout: float) -> Dict[str, Dict[str, float]]:
    hf = shutil.which("hyperfine")
    if hf is None:
        raise BenchError("--hyperfine: hyperfine not found (apt-get install hyperfine)")
    os.makedirs(out_dir, exist_ok=True)
    export = os.path.join(out_dir, "hyperfine.json")
    argv = [hf, "-N", "--style", "basic", "--warmup", str(warmup), "--runs", str(runs),
            "--export-json", export]
    for rt in runners:
        argv += ["-n", rt.name, shlex.join(rt.argv("run", "--bundle", bundle, f"hf-{os.getpid()}"))]
    limit = timeout * (runs + warmup) * len(runners)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, timeout=limit)
    except subprocess.TimeoutExpired:
        raise BenchError(f"hyperfine did not finish within {limit}s") from None
    finally:
        for rt in runners:
            rt.live.add(f"hf-{os.getpid()}")
            rt.cleanup()
    if proc.returncode != 0:
        raise BenchError(f"hyperfine exited {proc.returncode}")
    with open(export) as f:
        data = json.load(f)
    return {r["command"]: {"median": r["median"], "mean": r["mean"], "stddev": r["stddev"] or 0.0,
                           "min": r["min"], "max": r["max"], "runs": len(r["times"])}
            for r in data["results"]}


# ---------------------------------------------------------------------------------------------
# Main


def parse_args(argv: List[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runtimes", default="berth,crun,runc",
                    help="comma list of berth, crun, runc (default: all three)")
    ap.add_argument("--berth", default=DEFAULT_BERTH, help="berth-runtime binary")
    ap.add_argument("--crun", default=shutil.which("crun") or "/usr/bin/crun")
    ap.add_argument("--runc", default=shutil.which("runc") or "/usr/sbin/runc")
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--time-tool", default="/usr/bin/time",
                    help="GNU time binary used to read ru_maxrss (Debian package `time`)")
    ap.add_argument("--runs", type=int, default=30, help="measured runs per runtime (default 30)")
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured runs first (default 3)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per runtime call")
    ap.add_argument("--bench", default="run,phases", help="comma list of run, phases")
    ap.add_argument("--hyperfine", action="store_true",
                    help="also cross-check `run` with hyperfine -N (not interleaved)")
    ap.add_argument("--spec-from", default="runc,crun",
                    help="runtimes to try, in order, for the default config.json")
    ap.add_argument("--berth-install", choices=("readonly", "plain"), default="readonly",
                    help="run berth-runtime from a read-only bind mount (its protected install, "
                    "no self re-exec) or from the build tree (re-exec on every call)")
    ap.add_argument("--hybrid-workaround", choices=("auto", "on", "off"), default="auto",
                    help="private mount ns hiding v2 controllers on hybrid hosts (auto: only "
                         "when crun is benchmarked and needs it)")
    ap.add_argument("--results", default=DEFAULT_RESULTS, help="Markdown file to update")
    ap.add_argument("--no-write", action="store_true", help="print only, do not touch --results")
    ap.add_argument("--out", default=DEFAULT_OUT, help="directory for raw JSON samples")
    a = ap.parse_args(argv)
    if a.runs < 1 or a.warmup < 0 or a.timeout <= 0:
        ap.error("--runs must be >= 1, --warmup >= 0, --timeout > 0")
    return a


def repro_command(argv: List[str]) -> str:
    if os.environ.get("BERTH_BENCH_WRAPPER") == "1":
        return shlex.join(["bench/run.sh", *argv])
    return shlex.join(["python3", "bench/runtime_bench.py", *argv])


def version_of(path: str) -> str:
    code, out = capture([path, "--version"], HELPER_TIMEOUT)
    first = out.splitlines()[0] if out else ""
    return first if code == 0 and first else f"unknown (`--version` exited {code})"


def print_table(title: str, md: str) -> None:
    print()
    print(title)
    for line in md.splitlines():
        if line.startswith("|"):
            print(line)


def main(argv: List[str]) -> int:
    a = parse_args(argv)
    if os.geteuid() != 0:
        print("runtime_bench: must run as root (runtimes create namespaces and cgroups)",
              file=sys.stderr)
        return 2
    wanted = [n.strip() for n in a.runtimes.split(",") if n.strip()]
    paths = {"berth": (rep.BERTH, a.berth), "crun": (rep.CRUN, a.crun), "runc": (rep.RUNC, a.runc)}
    bad = [n for n in wanted if n not in paths]
    if bad or not wanted:
        print(f"runtime_bench: unknown runtime(s) {bad}; use berth, crun, runc", file=sys.stderr)
        return 2
    benches = [b.strip() for b in a.bench.split(",") if b.strip()]
    if any(b not in ("run", "phases") for b in benches):
        print(f"runtime_bench: --bench takes run, phases (got {a.bench})", file=sys.stderr)
        return 2

    global TIME_TOOL
    TIME_TOOL = a.time_tool
    if not os.access(TIME_TOOL, os.X_OK):
        print(f"runtime_bench: {TIME_TOOL} not found (apt-get install time)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    meta_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_info()
    results: Dict[str, rep.RuntimeResult] = {}
    runners: List[Runner] = []
    notes: List[str] = []
    tmp = tempfile.mkdtemp(prefix="berth-bench-")
    try:
        for key in wanted:
            name, path = paths[key]
            res = rep.RuntimeResult(name)
            results[name] = res
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                shown = os.path.relpath(path, REPO) if path.startswith(REPO + "/") else path
                res.status = ("not built yet" if key == "berth" else "missing") + f": {shown}"
                print(f"runtime_bench: skipping {name}: {path} is not an executable file"
                      + (" (build it: cmake --preset release && cmake --build --preset release "
                         "--target berth-runtime)" if key == "berth" else ""), file=sys.stderr)
                continue
            res.version = version_of(path)
            root = os.path.join(tmp, f"root-{key}")
            os.makedirs(root)
            runners.append(Runner(name, path, root, a.timeout))
        if not runners:
            print("runtime_bench: no runtime to benchmark", file=sys.stderr)
            return 2

        in_private_ns = False
        mode, _ = cgroup_mode()
        need = False
        if mode == "hybrid":
            with open(HYBRID_CONTROLLERS) as f:
                need = bool(f.read().strip())
        has_crun = any(r.name == rep.CRUN for r in runners)
        if a.hybrid_workaround == "on" or (a.hybrid_workaround == "auto" and need and has_crun):
            apply_hybrid_workaround(tmp)
            in_private_ns = True
            notes.append("cgroup hybrid workaround applied to all runtimes: the harness runs in a "
                         "private mount namespace with an empty file bind-mounted over "
                         f"{HYBRID_CONTROLLERS} (crun 1.8 refuses hybrid hosts whose v2 "
                         "hierarchy has controllers)")
        berth_runner = next((r for r in runners if r.name == rep.BERTH), None)
        if berth_runner and a.berth_install == "readonly":
            if not in_private_ns:
                enter_private_mount_ns()
            berth_runner.path = install_readonly(tmp, berth_runner.path)
            notes.append("berth-runtime ran from its protected install: the binary on a read-only "
                         "bind mount, so it skips the per-invocation self re-exec against "
                         "CVE-2019-5736 (crun re-executes itself on every call). "
                         "`--berth-install plain` measures the re-exec path")
        elif berth_runner:
            notes.append("berth-runtime ran from a plain (writable) path: it re-executes itself "
                         "from a read-only clone of its binary on every call (CVE-2019-5736)")
        set_child_subreaper()

        spec_paths = {}
        for t in a.spec_from.split(","):
            p = paths.get(t.strip(), (None, None))[1]
            if p and os.access(p, os.X_OK):
                spec_paths[t.strip()] = p
        bundle = os.path.join(tmp, "bundle")
        os.makedirs(bundle)
        notes.append(make_bundle(bundle, a.busybox, spec_paths))
        notes.append(f"Runs: {a.runs} measured per runtime after {a.warmup} warm-up, interleaved "
                     "round-robin (order rotates each iteration)")
        notes.append("Wall: perf_counter around spawning `time -q -f %M RUNTIME ...` until it is "
                     "reaped (the host /bin/true row is that floor). Peak RSS: GNU time's %M, the "
                     "wait4 ru_maxrss of the runtime process = the largest single-process peak "
                     "among it and the descendants it reaped, container process included (not a "
                     "sum over concurrent processes)")
        load0 = os.getloadavg()

        sections: Dict[str, str] = {}
        if "run" in benches:
            bench_run(runners, results, bundle, a.runs, a.warmup, a.timeout)
        # A `run` failure does not skip the phases benchmark; a missing binary does.
        phase_results = {n: rep.RuntimeResult(n, version=r.version,
                                              status="ok" if r.status.startswith("failed")
                                              else r.status)
                         for n, r in results.items() if n != rep.HOST}
        if "phases" in benches:
            bench_phases(runners, phase_results, bundle, a.runs, a.warmup, a.timeout)
        load1 = os.getloadavg()
        machine["Load average (1 min) before/after"] = f"{load0[0]:.2f} / {load1[0]:.2f}"
        if max(load0[0], load1[0]) > (os.cpu_count() or 1):
            notes.append("**Warning: the machine was loaded (load average above nproc) while "
                         "measuring**: wall times include waiting for a CPU; the interleaved "
                         "ratios are more trustworthy than the absolute milliseconds")
        meta = rep.Meta(date=meta_date, command=repro_command(argv), machine=machine, notes=notes)
        if "run" in benches:
            sections["run"] = rep.render_run_section(meta, results)
            print_table("run of /bin/true:", sections["run"])
            for g in rep.evaluate_goals(results):
                print(f"goal: {g.text}: {g.status} {g.detail}")
        if "phases" in benches:
            sections["phases"] = rep.render_phases_section(meta, phase_results)
            print_table("create / start / delete:", sections["phases"])
        if a.hyperfine:
            hf = bench_hyperfine(runners, bundle, a.runs, a.warmup, a.out, a.timeout)
            versions = {r.name: results[r.name].version for r in runners}
            sections["hyperfine"] = rep.render_hyperfine_section(meta, hf, versions)
            print_table("hyperfine cross-check:", sections["hyperfine"])

        os.makedirs(a.out, exist_ok=True)
        raw = {"meta": meta.__dict__, "run": {n: r.__dict__ for n, r in results.items()},
               "phases": {n: r.__dict__ for n, r in phase_results.items()}}
        rep.write_atomic(os.path.join(a.out, "samples.json"), json.dumps(raw, indent=1) + "\n")
        if not a.no_write:
            existing = None
            if os.path.exists(a.results):
                with open(a.results, encoding="utf-8") as f:
                    existing = f.read()
            rep.write_atomic(a.results, rep.merge_sections(existing, sections))
            print(f"\nwrote {a.results}; raw samples in {a.out}/samples.json")
        failed = [r for r in list(results.values()) + list(phase_results.values())
                  if r.status.startswith("failed")]
        return 1 if failed else 0
    except BenchError as e:
        print(f"runtime_bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("runtime_bench: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let cleanup finish
        for rt in runners:
            rt.cleanup()
        reap_strays()
        remove_tree(tmp)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
