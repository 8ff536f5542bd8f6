"""Bad input: malformed or ill-typed config.json, unsupported versions, missing
rootfs, invalid ids, duplicate ids, bad signals, wrong states. Each must fail
with a non-zero exit, a message naming the problem, and no state left behind.

Messages differ between runtimes; EXPECT maps runtime name -> keywords that
must all appear (case-insensitive) in stderr. berth-runtime ("default") must
name the field or the file, the way runc does where runc does.
"""

import json
import os

import pytest

from leaks import Snapshot


def expect_keywords(runtime_name, table):
    key = "runc" if runtime_name == "runc" else "crun" if "crun" in runtime_name else "default"
    return table.get(key, table["default"])


def assert_failed_cleanly(rt, r, snap, keywords, cid=None):
    assert r.returncode != 0, r
    err = r.stderr.lower()
    assert err.strip(), "no error message"
    for k in keywords:
        assert k.lower() in err, f"{k!r} not in stderr: {r.stderr!r}"
    if cid is not None and cid not in ("", ".."):
        assert rt.state_or_none(cid) is None
    assert rt.list() == []
    snap.assert_clean(rt)


CONFIG_CASES = {
    "malformed_json": (
        lambda b: b.write_raw('{"ociVersion": "1.0.2", "process": {'),
        {"default": ["config.json"], "runc": ["unexpected eof"], "crun": ["config.json"]}),
    "args_wrong_type": (
        lambda b: b.process.__setitem__("args", "sh"),
        {"default": ["process.args"], "runc": ["process.args"], "crun": ["executable"]}),
    "uid_wrong_type": (
        lambda b: b.process.__setitem__("user", {"uid": "0", "gid": 0}),
        {"default": ["process.user.uid"], "runc": ["process.user.uid"], "crun": ["uid"]}),
    "args_missing": (
        lambda b: b.process.pop("args"),
        {"default": ["process.args"], "runc": ["args"], "crun": ["executable"]}),
    "oci_version_major_unknown": (
        lambda b: b.config.__setitem__("ociVersion", "2.0.0"),
        {"default": ["ociVersion"], "runc": ["version"], "crun": ["version"]}),
    "rootfs_missing": (
        lambda b: b.config["root"].__setitem__("path", "does-not-exist"),
        {"default": ["does-not-exist"], "runc": ["no such file"], "crun": ["no such file"]}),
    "namespace_type_unknown": (
        lambda b: b.namespaces().append({"type": "bogus"}),
        {"default": ["bogus"], "runc": ["bogus"], "crun": ["bogus"]}),
    "bind_source_missing": (
        lambda b: b.add_mount("/data", "/nonexistent/berth-src", "bind", ["bind"]),
        {"default": ["/nonexistent/berth-src"], "runc": ["no such file"],
         "crun": ["no such file"]}),
    "executable_missing": (
        lambda b: b.args("/no/such/binary"),
        {"default": ["/no/such/binary"], "runc": ["/no/such/binary"],
         "crun": ["/no/such/binary"]}),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config(rt, bundle, workdir, runtime_name, case):
    mutate, table = CONFIG_CASES[case]
    mutate(bundle)
    bundle.sync()
    snap = Snapshot(workdir)
    cid = rt.new_id()
    r = rt.cmd("create", "--bundle", bundle.path, cid)
    assert_failed_cleanly(rt, r, snap, expect_keywords(runtime_name, table), cid)


def test_config_missing(rt, bundle, workdir):
    os.unlink(os.path.join(bundle.path, "config.json"))
    snap = Snapshot(workdir)
    cid = rt.new_id()
    r = rt.cmd("create", "--bundle", bundle.path, cid)
    assert_failed_cleanly(rt, r, snap, ["config.json"], cid)


@pytest.mark.parametrize("bad_id", ["", "a" * 1100, "a/b", "..", "../escape", "a b"],
                         ids=["empty", "too_long", "slash", "dotdot", "dotdot_slash", "space"])
def test_invalid_container_id(rt, bundle, workdir, runtime_name, bad_id):
    if bad_id == "a b" and "crun" in runtime_name:
        pytest.skip("crun accepts spaces in ids; the spec leaves id syntax to the runtime")
    snap = Snapshot(workdir)
    before = sorted(os.listdir(os.path.dirname(rt.root)))
    # Not registered with rt.ids: cleanup must never run `delete -f ..`.
    r = rt.cmd("create", "--bundle", bundle.path, bad_id)
    if r.returncode == 0 and "." not in bad_id and bad_id:
        rt.ids.append(bad_id)  # accepted after all: let cleanup remove it
    assert r.returncode != 0, r
    assert r.stderr.strip(), r
    assert rt.list() == []
    snap.assert_clean(rt)
    # ".." and "../escape" must not have touched anything beside the state dir.
    assert set(before) <= set(os.listdir(os.path.dirname(rt.root)))
    assert os.path.isdir(bundle.rootfs)


def test_duplicate_id(rt, make_bundle):
    first = make_bundle().probe("sleep", "60")
    cid, _ = rt.create(first)
    second = make_bundle().probe("sleep", "60")
    second.sync()
    r = rt.cmd("create", "--bundle", second.path, cid)
    assert r.returncode != 0, r
    assert "exist" in r.stderr.lower(), r
    # The original container is untouched.
    assert rt.state(cid)["status"] == "created"
    assert len(rt.list()) == 1


def test_unknown_signal(rt, bundle):
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    r = rt.cmd("kill", cid, "SIGBERTH")
    assert r.returncode != 0, r
    assert "signal" in r.stderr.lower() or "sigberth" in r.stderr.lower(), r
    assert rt.state(cid)["status"] == "running"


def test_exec_into_stopped_container(rt, bundle):
    bundle.probe("exit", "0")
    cid, _ = rt.create(bundle)
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    r = rt.cmd("exec", cid, "/probe", "all")
    assert r.returncode != 0, r
    assert "stopped" in r.stderr.lower() or "not running" in r.stderr.lower(), r


def test_delete_running_without_force(rt, bundle):
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    r = rt.cmd("delete", cid)
    assert r.returncode != 0, r
    assert "running" in r.stderr.lower() or "state" in r.stderr.lower(), r
    assert rt.state(cid)["status"] == "running"


def test_operations_on_unknown_container(rt):
    for args in (["state"], ["start"], ["kill"], ["delete"], ["exec"], ["pause"], ["ps"]):
        extra = ["/probe"] if args == ["exec"] else []
        r = rt.cmd(*args, "berth-no-such-container", *extra)
        assert r.returncode != 0, (args, r)
        err = r.stderr.lower()
        assert "not exist" in err or "no such" in err or "not found" in err, (args, r)


def test_start_twice(rt, bundle):
    bundle.probe("sleep", "60")
    cid, _ = rt.create(bundle)
    rt.start(cid)
    r = rt.cmd("start", cid)
    assert r.returncode != 0, r
    assert rt.state(cid)["status"] == "running"


def test_unknown_command_and_flag(rt):
    r = rt.cmd("berth-no-such-command")
    assert r.returncode != 0
    r = rt.cmd("list", "--berth-no-such-flag")
    assert r.returncode != 0


def test_state_is_valid_json_only(rt, bundle):
    bundle.probe("sleep", "60")
    cid, _ = rt.create(bundle)
    r = rt.ok("state", cid)
    json.loads(r.stdout)  # nothing but the JSON document on stdout


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_errors_reach_the_log_file(rt, workdir, fmt):
    # containerd runs `runc --log FILE --log-format json` and reads the error
    # from the last JSON line; text is logrus-style key=value.
    log = os.path.join(workdir, f"runtime-{fmt}.log")
    r = rt.cmd("state", "no-such-container", global_args=["--log", log, "--log-format", fmt])
    assert r.returncode != 0
    with open(log) as f:
        last = f.read().strip().splitlines()[-1]
    # runc's message does not name the id; berth-runtime's does.
    names_id = "berth-runtime" in os.path.basename(rt.binary)
    if fmt == "json":
        entry = json.loads(last)
        assert entry["level"] == "error" and "does not exist" in entry["msg"], entry
        assert "time" in entry
        assert not names_id or "no-such-container" in entry["msg"], entry
    else:
        assert "level=error" in last and "does not exist" in last, last
        assert not names_id or "no-such-container" in last, last


def test_create_takes_over_leftovers_of_a_killed_create(rt, bundle):
    # A create killed before saving its state leaves <root>/<id> without
    # state.json and with nobody holding its lock: the id must not stay blocked.
    if "berth-runtime" not in os.path.basename(rt.binary):
        pytest.skip("berth-runtime's state layout")
    import fcntl
    bundle.probe("exit", "0").write()
    cid = "leftover-1"
    os.makedirs(os.path.join(rt.root, cid))
    os.mkfifo(os.path.join(rt.root, cid, "exec.fifo"))
    _, r = rt.run(bundle, cid)
    assert r.returncode == 0, r
    # ... but a create in progress (its lock held) still owns the id.
    busy = os.path.join(rt.root, "busy-1")
    os.makedirs(busy)
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _, r = rt.create(bundle, "busy-1", check=False)
        assert r.returncode != 0 and "exists" in r.stderr, r
    finally:
        os.close(fd)
