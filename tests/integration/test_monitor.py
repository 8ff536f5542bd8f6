"""berth-monitor (src/monitor/protocol.h) end to end: spawn, start, json-file
logs with rotation, attach (TTY and multiplexed), stdin, detach keys, exec,
resize, kill, exit.json (137, OOM), survival of the spawner, and nothing
left behind (mounts, cgroups, processes, socket). Attach, exec and health
checks: test_monitor_io.py.

The monitor binary: $BERTH_MONITOR, else beside $BERTH_RUNTIME's build dir
(<build>/cmd/berth-monitor/berth-monitor). The rootfs is the busybox template
of conftest.py.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from leaks import cgroup_dirs_named, mountinfo_points
from monitor_client import MonitorError, pid_alive, read_frames, read_until, read_until_eof
from monitor_fixtures import exec_process, monitor_bin, monitors, run_to_exit, sh, wait_event  # noqa: F401


# ---- start, logs, exit ---------------------------------------------------------------


def test_start_logs_and_exit(monitors):
    m = monitors(sh("echo out; echo err >&2; printf partial; exit 3"))
    r = m.spawn()
    assert r.stderr == ""
    assert pid_alive(m.pid)
    # Daemonised: not our child, its own session.
    with open(f"/proc/{m.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    assert int(fields[1]) != os.getpid()
    assert int(fields[3]) == m.pid, "the monitor should lead its own session"
    st = m.call({"op": "state"})
    assert st["status"] == "created" and st["pid"] == 0
    ev = run_to_exit(m)
    assert ev["exit"]["exit_code"] == 3
    rec = m.exit_record()
    assert rec["exit_code"] == 3 and not rec["oom_killed"]
    assert 0 < rec["started_ns"] <= rec["finished_ns"]
    entries = m.log_entries()
    got = [(e["stream"], e["log"]) for e in entries]
    assert ("stdout", "out\n") in got
    assert ("stderr", "err\n") in got
    assert ("stdout", "partial") in got, got
    for e in entries:
        assert e["time"].endswith("Z")
    assert not os.path.exists(m.socket_path)
    assert not os.path.exists(m.pid_file)


def test_state_running_and_start_twice(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn()
    reply = m.call({"op": "start"})
    assert reply["pid"] > 0 and reply["started_ns"] > 0
    st = m.call({"op": "state"})
    assert st["status"] == "running" and st["pid"] == reply["pid"]
    with pytest.raises(MonitorError) as e:
        m.call({"op": "start"})
    assert e.value.code == "failed precondition"
    with pytest.raises(MonitorError) as e:
        m.call({"op": "shutdown"})
    assert e.value.code == "failed precondition"
    with pytest.raises(MonitorError) as e:
        m.call({"op": "nope"})
    assert e.value.code == "invalid argument"


def test_kill_records_137(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn()
    sub = m.subscribe()
    m.call({"op": "start"})
    wait_event(sub, "start")
    m.call({"op": "kill", "signal": signal.SIGKILL, "all": False})
    ev = wait_event(sub, "exit")
    assert ev["exit"]["exit_code"] == 137
    assert m.wait_gone()
    assert m.exit_record()["exit_code"] == 137
    # A subscriber is told at once when it comes after the exit: covered by
    # the monitor exiting; its socket is gone now.
    assert not os.path.exists(m.socket_path)


def test_pause_resume(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn()
    m.call({"op": "start"})
    m.call({"op": "pause"})
    assert m.call({"op": "state"})["status"] == "paused"
    m.call({"op": "resume"})
    assert m.call({"op": "state"})["status"] == "running"
    m.call({"op": "update", "resources": {"pids": {"limit": 50}}})


def test_shutdown_never_started(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn()
    m.call({"op": "shutdown"})
    assert m.wait_gone()
    assert not os.path.exists(m.exit_file), "shutdown writes no exit.json"


def overlay_rootfs(workdir, rootfs_template, tag):
    """An overlay rootfs_mounts entry over a copy of the template; (bundle_edit, mounts, upper)."""
    lower = os.path.join(workdir, f"lower-{tag}")
    shutil.copytree(rootfs_template, lower, symlinks=True)
    upper, work = os.path.join(workdir, f"upper-{tag}"), os.path.join(workdir, f"work-{tag}")
    os.makedirs(upper)
    os.makedirs(work)

    def edit(b):
        shutil.rmtree(b.rootfs)
        os.makedirs(b.rootfs)
        b.config["root"]["readonly"] = False

    mounts = [{"type": "overlay", "source": "overlay",
               "options": [f"lowerdir={lower}", f"upperdir={upper}", f"workdir={work}"]}]
    return edit, mounts, upper


def test_rootfs_overlay_mounted_and_unmounted(monitors, workdir, rootfs_template):
    edit, mounts, upper = overlay_rootfs(workdir, rootfs_template, "o1")
    m = monitors(sh("echo from-overlay > /marker; cat /marker"), bundle_edit=edit,
                 rootfs_mounts=mounts)
    m.spawn()
    rootfs = os.path.join(m.bundle.path, "rootfs")
    assert rootfs in mountinfo_points()
    ev = run_to_exit(m)
    assert ev["exit"]["exit_code"] == 0
    assert rootfs not in mountinfo_points()
    assert os.path.exists(os.path.join(upper, "marker"))
    assert ("stdout", "from-overlay\n") in [(e["stream"], e["log"]) for e in m.log_entries()]


def test_released_event_follows_exit_once_rootfs_is_unmounted(monitors, workdir, rootfs_template):
    """The engine removes an exited container's rootfs at "released", before the monitor ends:
    by then the runtime state is gone and the rootfs unmounted."""
    edit, mounts, upper = overlay_rootfs(workdir, rootfs_template, "rel")
    m = monitors(sh("true"), bundle_edit=edit, rootfs_mounts=mounts)
    m.spawn()
    rootfs = os.path.join(m.bundle.path, "rootfs")
    sub = m.subscribe()
    m.call({"op": "start"})
    kinds = []
    while True:
        ev = sub.next_event(timeout=15)
        assert ev is not None, f"no released event; saw {kinds}"
        kinds.append(ev["event"])
        if ev["event"] == "released":
            break
    assert kinds.index("exit") < kinds.index("released"), kinds
    assert rootfs not in mountinfo_points()
    assert not os.path.exists(os.path.join(m.state_root, m.id))
    assert m.wait_gone()


def rootfs_mount_options(point):
    """The super options of the mount at `point` ("" when not mounted)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == point:
                return fields[-1]
    return ""


def test_rootfs_volatile_overlay(monitors, workdir, rootfs_template):
    """--rm containers: the overlay is mounted "volatile" (no syncs); a restart in the
    same boot clears overlay's marker, one left by an earlier boot is refused."""
    lower = os.path.join(workdir, "lower")
    shutil.copytree(rootfs_template, lower, symlinks=True)
    upper, work = os.path.join(workdir, "upper"), os.path.join(workdir, "work")
    os.makedirs(upper)
    os.makedirs(work)
    marker = os.path.join(work, "work", "incompat", "volatile")
    stamp = os.path.join(workdir, "volatile.boot")
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()

    def edit(b):
        shutil.rmtree(b.rootfs)
        os.makedirs(b.rootfs)
        b.config["root"]["readonly"] = False

    def make(script):
        return monitors(sh(script), bundle_edit=edit, volatile_rootfs=True,
                        rootfs_mounts=[{"type": "overlay", "source": "overlay",
                                        "options": [f"lowerdir={lower}", f"upperdir={upper}",
                                                    f"workdir={work}"]}])

    m = make("echo one > /marker")
    m.spawn()
    rootfs = os.path.join(m.bundle.path, "rootfs")
    # Shown as "volatile", or "fsync=volatile" by kernels with overlay's fsync= option.
    opts = rootfs_mount_options(rootfs).split(",")
    assert "volatile" in opts or "fsync=volatile" in opts, opts
    assert run_to_exit(m)["exit"]["exit_code"] == 0
    assert rootfs not in mountinfo_points()
    assert os.path.isdir(marker), "overlay keeps its marker after a volatile mount"
    with open(stamp) as f:
        assert f.read().strip() == boot

    # A restart in this boot: the marker goes, the layer is still there.
    m2 = make("cat /marker")
    m2.spawn()
    assert run_to_exit(m2)["exit"]["exit_code"] == 0
    assert ("stdout", "one\n") in [(e["stream"], e["log"]) for e in m2.log_entries()]

    # A marker from another boot (a crash while it ran): not cleared, the mount fails.
    with open(stamp, "w") as f:
        f.write("00000000-0000-0000-0000-000000000000\n")
    m3 = make("true")
    r = m3.spawn(check=False)
    assert r.returncode != 0
    assert "mount the rootfs overlay" in r.stderr
    assert os.path.isdir(marker)
    assert os.path.join(m3.bundle.path, "rootfs") not in mountinfo_points()


# ---- spawn errors -----------------------------------------------------------------------


# ---- standby (MonitorConfig.standby: set up first, create on request) -----------------


def test_standby_creates_on_request(monitors, workdir, rootfs_template):
    edit, mounts, upper = overlay_rootfs(workdir, rootfs_template, "s1")
    m = monitors(sh("echo from-standby > /marker; cat /marker"), bundle_edit=edit,
                 rootfs_mounts=mounts, standby=True)
    m.spawn()
    rootfs = os.path.join(m.bundle.path, "rootfs")
    # Ready: listening, the rootfs mounted, but no container yet (no runtime
    # state, no cgroup, no process) and it says "created".
    assert rootfs in mountinfo_points()
    assert m.call({"op": "state"})["status"] == "created"
    assert not (os.listdir(m.state_root) if os.path.isdir(m.state_root) else [])
    assert not cgroup_dirs_named(m.id)
    for op in ({"op": "start"}, {"op": "kill", "signal": 9}):
        with pytest.raises(MonitorError) as e:
            m.call(op)
        assert e.value.code == "failed precondition" and "not created yet" in e.value.message
    m.call({"op": "create"})
    assert os.listdir(m.state_root), "the create made the runtime state"
    with pytest.raises(MonitorError) as e:
        m.call({"op": "create"})
    assert e.value.code == "failed precondition" and "already created" in e.value.message
    out = m.attach()
    ev = run_to_exit(m)
    assert ev["exit"]["exit_code"] == 0
    assert read_frames(read_until_eof(out))[1] == b"from-standby\n"
    assert rootfs not in mountinfo_points()
    assert os.path.exists(os.path.join(upper, "marker"))


def test_standby_prepares_ahead_and_rereads_a_changed_bundle(monitors, workdir, rootfs_template):
    """A subscribed standby reads and checks config.json while it waits; its
    create uses that only while config.json is the same file, unchanged:
    replaced (rename) or rewritten in place, the new one is what runs."""
    for tag, change in (("p1", None), ("p2", "rename"), ("p3", "in-place")):
        edit, mounts, _ = overlay_rootfs(workdir, rootfs_template, tag)
        m = monitors(sh("echo first"), bundle_edit=edit, rootfs_mounts=mounts, standby=True)
        m.spawn()
        sub = m.subscribe()
        time.sleep(0.3)  # idle and subscribed: it prepares now
        cfg = os.path.join(m.bundle.path, "config.json")
        if change == "rename":
            m.bundle.args(*sh("echo second"))
            with open(cfg + ".new", "w") as f:
                json.dump(m.bundle.config, f)
            os.rename(cfg + ".new", cfg)
        elif change == "in-place":
            m.bundle.args(*sh("echo second"))
            m.bundle.write()
        m.call({"op": "create"})
        out = m.attach()
        ev = run_to_exit(m)
        sub.close()
        assert ev["exit"]["exit_code"] == 0, (tag, ev)
        want = b"first\n" if change is None else b"second\n"
        assert read_frames(read_until_eof(out))[1] == want, tag


def test_standby_shutdown_leaves_nothing(monitors, workdir, rootfs_template):
    edit, mounts, _ = overlay_rootfs(workdir, rootfs_template, "s2")
    m = monitors(["true"], bundle_edit=edit, rootfs_mounts=mounts, standby=True)
    m.spawn()
    rootfs = os.path.join(m.bundle.path, "rootfs")
    assert rootfs in mountinfo_points()
    m.call({"op": "shutdown"})
    assert m.wait_gone()
    assert rootfs not in mountinfo_points()
    assert not os.path.exists(m.exit_file), "shutdown writes no exit.json"
    assert not os.path.exists(m.socket_path)


def test_standby_create_failure_is_reported_and_cleaned_up(monitors):
    m = monitors(["nope-not-here"], standby=True)
    m.spawn()
    with pytest.raises(MonitorError) as e:
        m.call({"op": "create"})
    assert "executable file not found" in e.value.message
    assert m.wait_gone(), "a standby monitor whose create failed exits"
    assert m.exit_record()["exit_code"] == 127
    assert not os.path.exists(m.socket_path)


def test_spawn_bad_config_one_line(monitors):
    m = monitors(["true"])
    m.config["tty"] = "yes"
    r = m.spawn(check=False)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("berth-monitor: ") and "tty: expected a boolean" in r.stderr


def spawn_foreground(m):
    """berth-monitor --foreground: returns (Popen, first stderr line)."""
    with open(m.config_path, "w") as f:
        json.dump(m.config, f)
    p = subprocess.Popen([m.binary, "--foreground", m.config_path], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return p, p.stderr.readline()


def start_until_reaped(m, p, out):
    """A foreground monitor Popen p that reported ok: its pid file names it; it starts the
    container, which prints `out` and exits 0, and then exits on its own, to be reaped by us."""
    with open(m.pid_file) as f:
        assert int(f.read()) == p.pid
    sub = m.subscribe()
    m.call({"op": "start"})
    assert wait_event(sub, "exit")["exit"]["exit_code"] == 0
    assert p.wait(timeout=15) == 0
    assert ("stdout", out) in [(e["stream"], e["log"]) for e in m.log_entries()]


def test_foreground_reports_a_line_and_stays_the_spawners_child(monitors):
    m = monitors(sh("echo fg"))
    p, line = spawn_foreground(m)
    try:
        assert line == "ok\n"
        assert p.poll() is None, "the monitor exited after reporting"
        start_until_reaped(m, p, "fg\n")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    bad = monitors(["true"])
    bad.config["tty"] = "yes"
    p, line = spawn_foreground(bad)
    assert p.wait(timeout=15) == 1
    assert line.startswith("berth-monitor: ") and "tty: expected a boolean" in line
    assert p.stderr.read() == ""


def spawn_pooled(m, length):
    """berth-monitor --foreground --pooled=....: the way monitor::MonitorPool starts it."""
    arg = ("--pooled=" + "." * length)[:length]
    return subprocess.Popen([m.binary, "--foreground", arg], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0")


def test_pooled_monitor_takes_its_config_path_from_stdin(monitors):
    m = monitors(sh("echo pooled"))
    with open(m.config_path, "w") as f:
        json.dump(m.config, f)
    p = spawn_pooled(m, len(m.config_path))
    try:
        # Idle: its own session, no config named anywhere on its command line.
        deadline = time.monotonic() + 10
        while os.getsid(p.pid) != p.pid and time.monotonic() < deadline:
            time.sleep(0.01)
        assert os.getsid(p.pid) == p.pid, "an idle pooled monitor leaves the spawner's session"
        assert m.config_path.encode() not in cmdline(p.pid)
        assert p.stderr.readline() == "idle\n", "the pool hands out a monitor only after this"
        p.stdin.write(m.config_path + "\n")
        p.stdin.flush()
        assert p.stderr.readline() == "ok\n"
        # Bound: the command line is the one spawn() gives a monitor of this config (the engine
        # finds a container's monitor by it).
        assert cmdline(p.pid)[:3] == [m.binary.encode(), b"--foreground", m.config_path.encode()]
        start_until_reaped(m, p, "pooled\n")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_pooled_monitor_exits_quietly_at_eof_and_refuses_a_path_of_another_length(monitors):
    m = monitors(["true"])
    p = spawn_pooled(m, len(m.config_path))
    p.stdin.close()
    assert p.wait(timeout=15) == 0
    assert p.stderr.read() == "idle\n"
    assert not os.path.exists(m.socket_path)
    p = spawn_pooled(m, len(m.config_path) + 3)
    p.stdin.write(m.config_path + "\n")
    p.stdin.close()
    assert p.wait(timeout=15) == 1
    idle, line = p.stderr.read().split("\n", 1)
    assert idle == "idle"
    assert line.startswith("berth-monitor: pooled: config path of ") and line.count("\n") == 1, line
    assert not os.path.exists(m.socket_path)


def test_spawn_missing_entrypoint(monitors):
    m = monitors(["/nope"])
    r = m.spawn(check=False)
    assert r.returncode == 1, r
    assert r.stderr.startswith("berth-monitor: ") and "nope" in r.stderr
    assert r.stderr.count("\n") == 1
    assert m.exit_record()["exit_code"] == 127
    assert not os.path.exists(m.socket_path)
    m2 = monitors(["nope-not-here"])
    r = m2.spawn(check=False)
    assert "executable file not found" in r.stderr
    assert m2.exit_record()["exit_code"] == 127


def test_monitor_survives_its_spawner(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn(via_shell=True)
    # The shell that spawned it is gone; the monitor serves on.
    with open(f"/proc/{m.pid}/stat") as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    assert ppid != os.getpid()
    m.call({"op": "start"})
    assert m.call({"op": "state"})["status"] == "running"


# ---- logs ---------------------------------------------------------------------------------


def test_log_rotation(monitors):
    m = monitors(sh("i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"),
                 log_opts={"max-size": "2k", "max-file": "3"})
    m.spawn()
    run_to_exit(m)
    live, one, two = m.log_path, m.log_path + ".1", m.log_path + ".2"
    assert os.path.exists(one) and os.path.exists(two)
    assert not os.path.exists(m.log_path + ".3")
    for p in (live, one, two):
        assert os.path.getsize(p) <= 2048
    lines = [e["log"] for p in (two, one, live) for e in m.log_entries(p)]
    # The newest lines survive, in order, ending with the last one.
    assert lines[-1] == "line-299\n"
    nums = [int(x.strip().split("-")[1]) for x in lines]
    assert nums == list(range(nums[0], 300))


def test_log_driver_none(monitors):
    m = monitors(sh("echo quiet"), log_driver="none")
    m.spawn()
    run_to_exit(m)
    assert not os.path.exists(m.log_path)


def test_bad_log_opt(monitors):
    m = monitors(["true"], log_opts={"max-bogus": "1"})
    r = m.spawn(check=False)
    assert r.returncode == 1
    assert "max-bogus" in r.stderr


# ---- OOM ------------------------------------------------------------------------------------


def test_oom_killed(monitors):
    def edit(b):
        b.linux.setdefault("resources", {})["memory"] = {"limit": 8 * 1024 * 1024,
                                                         "swap": 8 * 1024 * 1024}

    m = monitors(sh("x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"), bundle_edit=edit)
    m.spawn()
    sub = m.subscribe()
    m.call({"op": "start"})
    ev = wait_event(sub, "exit", timeout=30)
    assert ev["exit"]["oom_killed"] is True, ev
    assert ev["exit"]["exit_code"] == 137
    assert m.exit_record()["oom_killed"] is True


# ---- memory -----------------------------------------------------------------------------


def pss_kb(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise AssertionError("no Pss line")


def test_pss_per_monitor(monitors):
    # The condition: 50 containers running (shared text pages are
    # divided among the monitors mapping them; private pages are not).
    ms = []
    for _ in range(int(os.environ.get("BERTH_MONITOR_PSS_N", "50"))):
        m = monitors(["sleep", "1000"], log_opts={"max-size": "10m", "max-file": "3"})
        m.spawn()
        m.call({"op": "start"})
        ms.append(m)
    # Each monitor serves some output and a request before measuring.
    for m in ms:
        _, _ = m.exec("x", exec_process(m, sh("echo hi")), detach=True)
        m.call({"op": "state"})
    time.sleep(0.3)
    values = [pss_kb(m.pid) for m in ms]
    avg = sum(values) / len(values)
    print(f"monitor PSS per container: avg {avg:.0f} kB, max {max(values)} kB over {len(values)}")
    limit = int(os.environ.get("BERTH_MONITOR_PSS_KB", "150"))
    assert avg <= limit, f"PSS {avg:.0f} kB > {limit} kB: {values}"


# ---- external runtime ----------------------------------------------------------------------


@pytest.fixture
def runc_bin():
    path = shutil.which("runc")
    if not path:
        pytest.skip("runc is not installed")
    return path


def test_external_runtime_runc(monitors, runc_bin):
    m = monitors(sh("echo via-runc; echo err >&2; exit 4"), runtime=runc_bin)
    m.spawn()
    conn = m.attach()
    ev = run_to_exit(m)
    assert ev["exit"]["exit_code"] == 4
    frames = read_frames(read_until_eof(conn))
    assert frames[1] == b"via-runc\n" and frames[2] == b"err\n"
    got = [(e["stream"], e["log"]) for e in m.log_entries()]
    assert ("stdout", "via-runc\n") in got and ("stderr", "err\n") in got


def test_tty_survives_detach_and_client_eof(monitors):
    """docker run -it + Ctrl-P Ctrl-Q, or a client that went away: with a TTY
    the shell keeps running (no EOF is typed into the terminal)."""
    m = monitors(["sh"], tty=True, open_stdin=True, stdin_once=True)
    m.spawn()
    conn = m.attach(stdin=True)
    m.call({"op": "start"})
    conn.sendall(b"echo one-$((1+1))\r")
    read_until(conn, b"one-2")
    conn.sendall(b"\x10\x11")  # the default detach keys
    read_until_eof(conn, timeout=5)
    conn2 = m.attach(stdin=True)
    conn2.sendall(b"echo two-$((1+2))\r")
    read_until(conn2, b"two-3")
    conn2.shutdown(socket.SHUT_WR)  # a client's EOF without detach keys
    time.sleep(0.5)
    conn2.close()
    time.sleep(0.3)
    assert m.call({"op": "state"})["status"] == "running"
    conn3 = m.attach(stdin=True)
    conn3.sendall(b"exit 5\r")
    read_until_eof(conn3, timeout=10)
    assert m.wait_gone()
    assert m.exit_record()["exit_code"] == 5


def test_external_runtime_runc_exec_tty_kill(monitors, runc_bin):
    m = monitors(["sh"], tty=True, open_stdin=True, runtime=runc_bin)
    m.spawn()
    sub = m.subscribe()
    m.call({"op": "start"})
    conn = m.attach(stdin=True)
    conn.sendall(b"echo runc-$((2+3))\n")
    read_until(conn, b"runc-5")
    econn, reply = m.exec("e", exec_process(m, sh("exit 9")))
    read_until_eof(econn)
    deadline = time.time() + 10
    while m.call({"op": "exec_state", "exec_id": "e"})["running"] and time.time() < deadline:
        time.sleep(0.05)
    assert m.call({"op": "exec_state", "exec_id": "e"})["exit_code"] == 9
    m.call({"op": "kill", "signal": 9, "all": False})
    assert wait_event(sub, "exit")["exit"]["exit_code"] == 137
    assert m.wait_gone()


def test_no_fds_leak_into_the_container(monitors):
    m = monitors(["sleep", "1000"], open_stdin=True)
    m.spawn()
    conn = m.attach(stdin=True)  # a client fd the monitor holds at start time
    m.call({"op": "start"})
    econn, _ = m.exec("fds", exec_process(m, sh("ls /proc/1/fd; echo --; ls /proc/self/fd")))
    out = read_frames(read_until_eof(econn))[1].decode().split("--\n")
    assert out[0].split() == ["0", "1", "2"], out
    # ls itself holds the directory it lists (3) and nothing else.
    assert out[1].split() == ["0", "1", "2", "3"], out
    conn.close()
