"""OCI hooks: all six kinds in order with the state on stdin, env and args,
timeouts, and failing hooks that must abort create and leave nothing behind."""

import json
import os
import time
import uuid

import pytest

from leaks import Snapshot

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]


@pytest.fixture
def hooklog(workdir, bundle):
    """A host dir bind-mounted at the same path inside the container, so hooks
    run in either namespace append to the same log."""
    d = os.path.join(workdir, "hooklog")
    os.makedirs(d)
    os.makedirs(bundle.rootfs + d)
    bundle.add_mount(d, d, "bind", ["bind", "rw"])
    return os.path.join(d, "log")


def logging_hook(bundle, kind, log, extra=""):
    # /bin/sh is the host's for runtime-namespace hooks and busybox for
    # startContainer (which resolves in the container); both run this script.
    script = f'state=$(cat); echo "{kind} $BERTH_HOOK $1 $state" >> {log}{extra}'
    bundle.add_hook(kind, "/bin/sh", args=["sh", "-c", script, "sh", f"arg-{kind}"],
                    env=[f"BERTH_HOOK=env-{kind}"])


def read_log(log):
    if not os.path.exists(log):
        return []
    entries = []
    with open(log) as f:
        for line in f:
            kind, env, arg, state = line.rstrip("\n").split(" ", 3)
            entries.append((kind, env, arg, json.loads(state)))
    return entries


def test_all_hooks_in_order_with_state(rt, bundle, hooklog):
    for kind in KINDS:
        logging_hook(bundle, kind, hooklog)
    bundle.probe("sleep", "60")
    cid, _ = rt.create(bundle)
    after_create = [e[0] for e in read_log(hooklog)]
    assert sorted(after_create[:2]) == ["createRuntime", "prestart"], after_create
    assert after_create[2:] == ["createContainer"], after_create

    rt.start(cid)
    kinds = [e[0] for e in read_log(hooklog)]
    assert kinds[3:] == ["startContainer", "poststart"], kinds

    rt.kill(cid, "KILL")
    rt.wait_status(cid, "stopped")
    rt.delete(cid)
    entries = read_log(hooklog)
    assert [e[0] for e in entries][5:] == ["poststop"]
    for kind, env, arg, state in entries:
        assert env == f"env-{kind}", (kind, env)
        assert arg == f"arg-{kind}", (kind, arg)
        assert state["id"] == cid, (kind, state)
        assert state["ociVersion"].startswith("1."), (kind, state)
        assert os.path.realpath(state["bundle"]) == os.path.realpath(bundle.path), (kind, state)
        if state["status"] in ("created", "running"):  # pid is required then
            assert state["pid"] > 0, (kind, state)
    assert entries[-1][3]["status"] == "stopped"
    assert entries[4][3]["status"] == "running"  # poststart


def test_poststop_on_run(rt, bundle, hooklog):
    logging_hook(bundle, "poststop", hooklog)
    bundle.probe("exit", "0")
    cid, r = rt.run(bundle)
    assert r.returncode == 0, r
    assert [e[0] for e in read_log(hooklog)] == ["poststop"]


def test_hook_timeout_fails_create(rt, bundle, workdir, hooklog):
    # `exec` so the hook is one process: the test is about the timeout, not about
    # grandchildren holding the hook's pipes open.
    bundle.add_hook("createRuntime", "/bin/sh",
                    args=["sh", "-c", "cat >/dev/null; exec sleep 30"], timeout=1)
    snap = Snapshot(workdir)
    start = time.monotonic()
    cid, r = rt.create(bundle, check=False)
    elapsed = time.monotonic() - start
    assert r.returncode != 0, r
    assert elapsed < 15, f"create took {elapsed:.1f}s despite a 1s hook timeout"
    assert rt.state_or_none(cid) is None
    snap.assert_clean(rt)


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_leaves_nothing(rt, bundle, workdir, hooklog, kind):
    name = f"berth-it-{uuid.uuid4().hex[:10]}"
    bundle.linux["cgroupsPath"] = f"/{name}"
    bundle.add_hook(kind, "/bin/sh", args=["sh", "-c", "cat >/dev/null; echo hook-said-no >&2;"
                                           " exit 3"])
    bundle.probe("sleep", "60")
    snap = Snapshot(workdir, cgroup_name=name)
    cid, r = rt.create(bundle, check=False)
    assert r.returncode != 0, r
    assert rt.state_or_none(cid) is None
    assert cid not in [c["id"] for c in rt.list()]
    snap.assert_clean(rt)


def test_failing_poststop_does_not_block_delete(rt, bundle, hooklog):
    bundle.add_hook("poststop", "/bin/sh", args=["sh", "-c", "cat >/dev/null; exit 1"])
    logging_hook(bundle, "poststop", hooklog)
    bundle.probe("sleep", "60")
    cid, _ = rt.create(bundle)
    r = rt.delete(cid, force=True, check=False)
    assert r.returncode == 0, r
    assert rt.state_or_none(cid) is None
    # The remaining poststop hooks still ran.
    assert [e[0] for e in read_log(hooklog)] == ["poststop"]


def test_missing_hook_binary_fails_create(rt, bundle, workdir):
    bundle.add_hook("createRuntime", "/nonexistent/hook")
    snap = Snapshot(workdir)
    cid, r = rt.create(bundle, check=False)
    assert r.returncode != 0, r
    assert rt.state_or_none(cid) is None
    snap.assert_clean(rt)
