"""Fixtures and helpers of the berth-monitor tests (test_monitor.py, test_monitor_io.py): the
monitor binary, a factory of monitors on fresh bundles that checks nothing is left behind, and
small helpers for events, exec processes and shell commands."""

import os
import time
import uuid

import pytest

from leaks import cgroup_dirs_named, mountinfo_points, processes_rooted_under
from monitor_client import Monitor


@pytest.fixture(scope="session")
def monitor_bin(runtime_bin):
    path = os.environ.get("BERTH_MONITOR")
    if not path:
        build = os.path.dirname(os.path.dirname(os.path.dirname(runtime_bin)))
        path = os.path.join(build, "cmd", "berth-monitor", "berth-monitor")
    if not os.access(path, os.X_OK):
        pytest.fail(f"berth-monitor not found at {path} (set BERTH_MONITOR)")
    return path


@pytest.fixture
def monitors(monitor_bin, make_bundle, workdir):
    """Factory: monitors(args=[...], **config) -> Monitor for a fresh bundle.
    After the test: every monitor is stopped, and no mount, cgroup, process
    or socket of theirs remains."""
    made = []

    def factory(args=None, bundle_edit=None, tty=False, **cfg):
        b = make_bundle()
        if args:
            b.args(*args)
        if tty:
            b.terminal(True)
        if bundle_edit:
            bundle_edit(b)
        b.write()
        cid = "mon" + uuid.uuid4().hex[:12]
        m = Monitor(monitor_bin, b.path, os.path.join(workdir, f"m{len(made)}"), cid, tty=tty,
                    **cfg)
        m.bundle = b
        made.append(m)
        return m

    yield factory
    errors = []
    for m in made:
        try:
            m.stop()
        except AssertionError as e:
            errors.append(str(e))
    for m in made:
        if os.path.exists(m.socket_path):
            errors.append(f"socket left: {m.socket_path}")
        if cgroup_dirs_named(m.id):
            errors.append(f"cgroups left: {cgroup_dirs_named(m.id)}")
        rt_state = os.listdir(m.state_root) if os.path.isdir(m.state_root) else []
        if rt_state:
            errors.append(f"runtime state left: {rt_state}")
    deadline = time.time() + 5
    while processes_rooted_under(workdir) and time.time() < deadline:
        time.sleep(0.05)
    if processes_rooted_under(workdir):
        errors.append(f"processes left: {processes_rooted_under(workdir)}")
    # Only this test's own paths: other tests on the host mount things too.
    left = [p for p in mountinfo_points() if p.startswith(workdir + "/")]
    if left:
        errors.append(f"mounts left: {left}")
    assert not errors, errors


def wait_event(conn, kind, timeout=15):
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        ev = conn.next_event(timeout=max(0.1, deadline - time.time()))
        if ev is None:
            break
        seen.append(ev)
        if ev["event"] == kind:
            return ev
    raise AssertionError(f"no {kind} event within {timeout}s; saw {seen}")


def run_to_exit(m):
    sub = m.subscribe()
    m.call({"op": "start"})
    ev = wait_event(sub, "exit")
    assert m.wait_gone(), "monitor still running after the container exited"
    return ev


def sh(*script):
    return ["/bin/sh", "-c", " ".join(script)]


def exec_process(m, args, tty=False):
    p = dict(m.bundle.config["process"])
    p["args"] = args
    p["terminal"] = tty
    p.pop("consoleSize", None)
    return p
