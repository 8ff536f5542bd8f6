"""Container lifecycle through the CLI: create/start/state/kill/delete, run, list,
pid files, annotations, ps, pause/resume."""

import json
import os
import time


def test_create_start_kill_delete(rt, bundle):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.create(bundle)
    st = rt.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert os.path.exists(f"/proc/{st['pid']}")
    rt.start(cid)
    st = rt.state(cid)
    assert st["status"] == "running"
    rt.kill(cid, "KILL")
    rt.wait_status(cid, "stopped")
    rt.delete(cid)
    assert rt.state_or_none(cid) is None
    assert cid not in [c["id"] for c in rt.list()]


def test_state_json_fields(rt, bundle):
    bundle.config["annotations"] = {"org.berth.test": "value-1", "x": "y z"}
    bundle.probe("sleep", "60").write()
    cid, _ = rt.create(bundle)
    st = rt.state(cid)
    for key in ("ociVersion", "id", "status", "pid", "bundle"):
        assert key in st, st
    assert st["ociVersion"].split(".")[0] == "1"
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)
    assert st["annotations"] == {"org.berth.test": "value-1", "x": "y z"}


def test_run_foreground_returns_exit_code(rt, bundle):
    bundle.probe("exit", "7").write()
    cid, r = rt.run(bundle)
    assert r.returncode == 7, r
    rt.delete(cid, force=True, check=False)


def test_run_foreground_output_and_zero(rt, bundle):
    bundle.args("/bin/echo", "hello from the container").write()
    cid, r = rt.run(bundle)
    assert r.returncode == 0, r
    assert r.stdout == "hello from the container\n"
    # A foreground run removes the container when it exits.
    assert rt.state_or_none(cid) is None


def test_run_detached(rt, bundle):
    bundle.probe("sleep", "60").write()
    cid, r = rt.run(bundle, detach=True)
    assert r.returncode == 0, r
    st = rt.state(cid)
    assert st["status"] == "running"
    rt.kill(cid, "KILL")
    rt.wait_status(cid, "stopped")
    rt.delete(cid)


def test_start_runs_process_once(rt, bundle):
    bundle.probe("all").write()
    cid, _ = rt.create(bundle)
    # Until start, the user process has not run.
    time.sleep(0.3)
    assert rt.output(cid) == ""
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    data = json.loads(rt.output(cid))
    assert data["pid"] == 1
    # A stopped container cannot be started again.
    r = rt.cmd("start", cid)
    assert r.returncode != 0


def test_list(rt, make_bundle):
    ids = []
    for _ in range(2):
        b = make_bundle().probe("sleep", "60").write()
        cid, _ = rt.create(b)
        ids.append(cid)
    rt.start(ids[1])
    listed = {c["id"]: c for c in rt.list()}
    assert set(ids) <= set(listed)
    assert listed[ids[0]]["status"] == "created"
    assert listed[ids[1]]["status"] == "running"
    assert listed[ids[1]]["pid"] == rt.state(ids[1])["pid"]
    table = rt.ok("list").stdout
    assert "ID" in table.splitlines()[0]
    for cid in ids:
        assert cid in table


def test_list_empty_root(rt):
    assert rt.list() == []


def test_pid_file(rt, bundle, workdir):
    bundle.probe("sleep", "60").write()
    pid_file = os.path.join(workdir, "container.pid")
    cid, _ = rt.create(bundle, pid_file=pid_file)
    with open(pid_file) as f:
        text = f.read()
    assert text.strip().isdigit(), repr(text)
    assert int(text) == rt.state(cid)["pid"]


def test_ps_lists_pid(rt, bundle):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    pid = rt.state(cid)["pid"]
    r = rt.ok("ps", "-f", "json", cid)
    assert pid in json.loads(r.stdout)
    table = rt.ok("ps", cid).stdout
    assert str(pid) in table


def test_pause_resume(rt, bundle):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    rt.ok("pause", cid)
    assert rt.state(cid)["status"] == "paused"
    pid = rt.state(cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        assert any(line.startswith("State:") and ("S" in line or "D" in line) for line in f)
    rt.ok("resume", cid)
    assert rt.state(cid)["status"] == "running"


def test_kill_delivers_named_signal(rt, bundle):
    bundle.probe("signal-wait").write()
    cid, _ = rt.create(bundle)
    rt.start(cid)
    rt.wait_output(cid, lambda t: "ready" in t)
    rt.kill(cid, "USR1")
    rt.wait_status(cid, "stopped")
    assert rt.output(cid).split() == ["ready", "SIGUSR1"]


def test_kill_numeric_and_sig_prefixed(rt, make_bundle):
    for sig, name in (("15", "SIGTERM"), ("SIGHUP", "SIGHUP")):
        b = make_bundle().probe("signal-wait").write()
        cid, _ = rt.create(b)
        rt.start(cid)
        rt.wait_output(cid, lambda t: "ready" in t)
        rt.kill(cid, sig)
        rt.wait_status(cid, "stopped")
        assert rt.output(cid).split() == ["ready", name]


def test_delete_force_running(rt, bundle):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    pid = rt.state(cid)["pid"]
    rt.delete(cid, force=True)
    assert rt.state_or_none(cid) is None
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(")")[1].split()[0] == "Z":
                break
        time.sleep(0.05)
    alive = os.path.exists(f"/proc/{pid}")
    if alive:
        with open(f"/proc/{pid}/stat") as f:
            alive = f.read().split(")")[1].split()[0] != "Z"
    assert not alive


def test_delete_created_container_kills_init(rt, bundle):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.create(bundle)
    pid = rt.state(cid)["pid"]
    rt.delete(cid, force=True)
    assert rt.state_or_none(cid) is None
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}/exe") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}/exe")


def test_exec_into_running(rt, bundle):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    r = rt.ok("exec", cid, "/probe", "all")
    data = json.loads(r.stdout)
    assert data["pid"] != 1
    assert data["namespaces"]["pid"] == _ns_of(rt.state(cid)["pid"], "pid")
    r = rt.cmd("exec", cid, "/probe", "exit", "3")
    assert r.returncode == 3


def test_exec_process_file_cwd_env(rt, bundle, workdir):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    proc = {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/probe", "all"],
            "env": ["PATH=/bin", "FROM_FILE=1"], "cwd": "/tmp"}
    path = os.path.join(workdir, "process.json")
    with open(path, "w") as f:
        json.dump(proc, f)
    data = json.loads(rt.ok("exec", "--process", path, cid).stdout)
    assert "FROM_FILE=1" in data["env"]
    assert data["cwd"] == "/tmp"
    data = json.loads(rt.ok("exec", "--cwd", "/home", "--env", "A=b", "--user", "1000:1000", cid,
                            "/probe", "all").stdout)
    assert data["cwd"] == "/home"
    assert "A=b" in data["env"]
    assert (data["uid"], data["gid"]) == (1000, 1000)


def test_exec_detached_pid_file(rt, bundle, workdir):
    bundle.probe("sleep", "60").write()
    cid, _ = rt.run(bundle, detach=True, check=True)
    pid_file = os.path.join(workdir, "exec.pid")
    rt.ok("exec", "-d", "--pid-file", pid_file, cid, "/probe", "sleep", "60")
    with open(pid_file) as f:
        pid = int(f.read())
    assert _ns_of(pid, "pid") == _ns_of(rt.state(cid)["pid"], "pid")
    assert pid != rt.state(cid)["pid"]


def test_features_and_version(rt):
    r = rt.ok("--version")
    assert "version" in r.stdout.lower()
    r = rt.cmd("features")
    if r.returncode == 0:  # runc >= 1.1 and berth-runtime; crun 1.8 lacks it
        data = json.loads(r.stdout)
        assert "ociVersionMin" in data and "ociVersionMax" in data
    else:
        assert "crun" in rt.name, r


def _ns_of(pid, ns):
    return os.readlink(f"/proc/{pid}/ns/{ns}")
