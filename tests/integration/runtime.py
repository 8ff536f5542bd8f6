"""Drives an OCI runtime CLI (berth-runtime, runc, crun) for the tests.

Every Runtime uses its own --root state directory, hands out unique container
ids, and its cleanup() force-deletes each container it created, kills leftover
processes by pid and removes its temp dirs, even when the test failed.

Stdio: the runtime's stdout/stderr go to files, never pipes. A detached container
inherits the runtime's stdio; with pipes, waiting for EOF would block until the
container exits. The container's output of `create`/`run -d` is read later from
those files with output(id).
"""

import json
import os
import shlex
import signal
import subprocess
import time
import uuid

TIMEOUT = 20


class Result:
    """Outcome of one CLI invocation."""

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return (f"Result(argv={self.argv!r}, rc={self.returncode}, stdout={self.stdout[-2000:]!r},"
                f" stderr={self.stderr[-2000:]!r})")


class Runtime:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.name = os.path.basename(binary)
        self.workdir = workdir
        self.root = os.path.join(workdir, "state")
        os.makedirs(workdir, exist_ok=True)
        os.makedirs(self.root, exist_ok=True)
        self.ids = []
        self.pids = set()
        self.outputs = {}
        self._calls = 0
        # Extra global flags for the runtime under test, e.g. crun's
        # "--cgroup-manager=disabled" on hosts where crun rejects hybrid cgroups.
        self.extra_args = shlex.split(os.environ.get("BERTH_RUNTIME_ARGS", ""))

    # ---- raw invocation -------------------------------------------------
    def cmd(self, *args, timeout=TIMEOUT, input=None, pass_fds=(), global_args=(), cwd=None,
            stdout_path=None, env=None):
        """Runs `binary --root ROOT [global_args] args...`; returns a Result.

        stdout/stderr are captured through files; stdout_path keeps the stdout file
        at a chosen place (used for detached containers whose output comes later).
        """
        self._calls += 1
        out_path = stdout_path or os.path.join(self.workdir, f"call{self._calls}.out")
        err_path = os.path.join(self.workdir, f"call{self._calls}.err")
        argv = [self.binary, "--root", self.root, *self.extra_args, *global_args, *[str(a) for a in args]]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
            proc = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err,
                                    pass_fds=pass_fds, cwd=cwd, env=env,
                                    start_new_session=True)
            try:
                proc.communicate(input=input.encode() if isinstance(input, str) else input,
                                 timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
                raise
        with open(out_path, "rb") as f:
            stdout = f.read().decode(errors="replace")
        with open(err_path, "rb") as f:
            stderr = f.read().decode(errors="replace")
        return Result(argv, proc.returncode, stdout, stderr)

    def ok(self, *args, **kw):
        """Like cmd() but asserts exit status 0."""
        r = self.cmd(*args, **kw)
        assert r.returncode == 0, r
        return r

    # ---- ids -----------------------------------------------------------------
    def new_id(self, prefix="t"):
        cid = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.ids.append(cid)
        return cid

    # ---- lifecycle helpers ----------------------------------------------------
    def create(self, bundle, cid=None, pid_file=None, console_socket=None, no_pivot=False,
               check=True, **kw):
        cid = cid or self.new_id()
        if cid not in self.ids:
            self.ids.append(cid)
        bundle.sync()
        args = ["create", "--bundle", bundle.path]
        if pid_file:
            args += ["--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        if no_pivot:
            args += ["--no-pivot"]
        out = os.path.join(self.workdir, f"{cid}.stdout")
        self.outputs[cid] = out
        r = self.cmd(*args, cid, stdout_path=out, **kw)
        if check:
            assert r.returncode == 0, r
            self.remember_pid(cid)
        return cid, r

    def start(self, cid, check=True):
        r = self.cmd("start", cid)
        if check:
            assert r.returncode == 0, r
        return r

    def run(self, bundle, cid=None, detach=False, check=False, **kw):
        """`run` in the foreground (returns its Result; rc is the container's code)
        or detached (-d)."""
        cid = cid or self.new_id()
        if cid not in self.ids:
            self.ids.append(cid)
        bundle.sync()
        args = ["run", "--bundle", bundle.path]
        if detach:
            args.append("-d")
        out = os.path.join(self.workdir, f"{cid}.stdout")
        self.outputs[cid] = out
        r = self.cmd(*args, cid, stdout_path=out, **kw)
        if check:
            assert r.returncode == 0, r
        if detach and r.returncode == 0:
            self.remember_pid(cid)
        return cid, r

    def state(self, cid):
        r = self.ok("state", cid)
        return r.json()

    def state_or_none(self, cid):
        r = self.cmd("state", cid)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def remember_pid(self, cid):
        st = self.state_or_none(cid)
        if st and st.get("pid"):
            self._track(int(st["pid"]))
        return st

    def _track(self, pid):
        start = proc_start_time(pid)
        if start is not None:
            self.pids.add((pid, start))

    def kill(self, cid, sig="KILL", all=False, check=True):
        args = ["kill"] + (["--all"] if all else []) + [cid, sig]
        r = self.cmd(*args)
        if check:
            assert r.returncode == 0, r
        return r

    def delete(self, cid, force=False, check=True):
        r = self.cmd("delete", *(["-f"] if force else []), cid)
        if check:
            assert r.returncode == 0, r
        return r

    def list(self):
        r = self.ok("list", "-f", "json")
        text = r.stdout.strip()
        return json.loads(text) if text and text != "null" else []

    def wait_status(self, cid, status, timeout=TIMEOUT):
        """Polls `state` until the container has `status`; returns the state."""
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.state_or_none(cid)
            if st and st.get("status") == status:
                return st
            time.sleep(0.05)
        raise AssertionError(f"{cid} did not reach {status!r} in {timeout}s; last state {st}")

    def output(self, cid):
        """What the container wrote to stdout/stderr so far (created/run -d)."""
        with open(self.outputs[cid], "rb") as f:
            return f.read().decode(errors="replace")

    def wait_output(self, cid, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.output(cid)
            if predicate(text):
                return text
            time.sleep(0.05)
        raise AssertionError(f"output of {cid} never matched; got {text!r}")

    def run_detached_json(self, bundle, cid=None):
        """create + start a container whose process prints one JSON line and exits;
        waits for it to stop and returns the parsed JSON."""
        cid, _ = self.create(bundle, cid)
        self.start(cid)
        self.wait_status(cid, "stopped")
        text = self.output(cid)
        self.delete(cid)
        return json.loads(text)

    # ---- cleanup -------------------------------------------------------------
    def cleanup(self):
        """Force-deletes every container created here and kills leftover pids.
        Returns a list of problems (non-fatal) for the fixture to report."""
        problems = []
        for cid in self.ids:
            st = self.state_or_none(cid)
            if st and st.get("pid"):
                self._track(int(st["pid"]))
            if st is not None:
                try:
                    r = self.cmd("delete", "-f", cid, timeout=10)
                    if r.returncode != 0:
                        problems.append(f"delete -f {cid}: {r.stderr.strip()}")
                except subprocess.TimeoutExpired:
                    problems.append(f"delete -f {cid} timed out")
        deadline = time.monotonic() + 5  # SIGKILL delivery and exit are asynchronous
        while time.monotonic() < deadline and any(
                proc_start_time(pid) == start for pid, start in self.pids):
            time.sleep(0.05)
        for pid, start in self.pids:
            # Only a process that is still the one we saw (same start time), so a
            # recycled pid of an unrelated process is never signalled.
            if proc_start_time(pid) != start:
                continue
            problems.append(f"pid {pid} survived delete -f; killing it")
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return problems


def proc_start_time(pid):
    """Field 22 of /proc/PID/stat (start time in ticks), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if fields[0] in ("Z", "X"):  # exited, only waiting to be reaped by its parent
        return None
    return int(fields[19])


def run_probe_json(rt, bundle, cid=None):
    """Foreground `run` of a bundle whose process prints JSON; asserts exit 0."""
    cid, r = rt.run(bundle, cid)
    assert r.returncode == 0, r
    return json.loads(r.stdout)
