"""berth-monitor's I/O and checks end to end (src/monitor/protocol.h): attach
(TTY and multiplexed, stdin, stdin-once, detach keys), exec (exit codes, stdin,
TTY resize, into a stopped container) and health checks (transitions, timeout,
output, on-failure actions, start period). Fixtures: monitor_fixtures.py."""

import json
import socket
import time

import pytest

from monitor_client import MonitorError, read_frames, read_until, read_until_eof
from monitor_fixtures import exec_process, monitor_bin, monitors, sh, wait_event  # noqa: F401


# ---- attach --------------------------------------------------------------------------------


def test_attach_before_start_multiplexed(monitors):
    m = monitors(sh("echo hello; echo oops >&2; exit 0"))
    m.spawn()
    conn = m.attach()
    m.call({"op": "start"})
    data = read_until_eof(conn)
    frames = read_frames(data)
    assert frames[1] == b"hello\n"
    assert frames[2] == b"oops\n"
    assert m.wait_gone()


def test_attach_stdout_only(monitors):
    m = monitors(sh("echo a; echo b >&2"))
    m.spawn()
    conn = m.attach(stdout=True, stderr=False)
    m.call({"op": "start"})
    frames = read_frames(read_until_eof(conn))
    assert frames[1] == b"a\n" and frames[2] == b""


def test_attach_tty_raw(monitors):
    m = monitors(sh("echo tty-out; [ -t 0 ] && echo is-a-tty"), tty=True)
    m.spawn()
    conn = m.attach()
    m.call({"op": "start"})
    data = read_until_eof(conn)
    # Raw bytes (the pty turns \n into \r\n), no frame headers.
    assert b"tty-out\r\n" in data and b"is-a-tty" in data
    assert not data.startswith(b"\x01\x00\x00\x00")
    entries = m.log_entries()
    assert all(e["stream"] == "stdout" for e in entries)
    assert "".join(e["log"] for e in entries).count("tty-out") == 1


def test_stdin_once(monitors):
    m = monitors(["cat"], open_stdin=True, stdin_once=True)
    m.spawn()
    conn = m.attach(stdin=True)
    m.call({"op": "start"})
    conn.sendall(b"hello stdin\n")
    read_until(conn, b"hello stdin\n")
    conn.shutdown(socket.SHUT_WR)  # EOF: closes the container's stdin
    rest = read_until_eof(conn)
    assert m.wait_gone()
    assert m.exit_record()["exit_code"] == 0
    assert rest == b"" or read_frames(rest)
    assert ("stdout", "hello stdin\n") in [(e["stream"], e["log"]) for e in m.log_entries()]


def test_stdin_ignored_without_open_stdin(monitors):
    m = monitors(["sh", "-c", "read x; echo got=$x"], open_stdin=False)
    m.spawn()
    conn = m.attach(stdin=True)
    m.call({"op": "start"})
    conn.sendall(b"zzz\n")
    frames = read_frames(read_until_eof(conn))
    # stdin is /dev/null: read fails at once, nothing from the client arrives.
    assert frames[1] == b"got=\n"


def test_detach_keys(monitors):
    m = monitors(["sh"], tty=True, open_stdin=True)
    m.spawn()
    conn = m.attach(stdin=True, detach_keys="ctrl-a,x")
    m.call({"op": "start"})
    conn.sendall(b"echo mark-$((40+2))\n")
    read_until(conn, b"mark-42")
    conn.sendall(b"\x01x")
    read_until_eof(conn, timeout=5)
    assert m.call({"op": "state"})["status"] == "running"
    # The default sequence on a second attachment.
    conn2 = m.attach(stdin=True)
    conn2.sendall(b"echo again-$((1+1))\n")
    read_until(conn2, b"again-2")
    conn2.sendall(b"\x10\x11")
    read_until_eof(conn2, timeout=5)
    assert m.call({"op": "state"})["status"] == "running"
    with pytest.raises(MonitorError) as e:
        m.attach(stdin=True, detach_keys="ctrl-1")
    assert "Unknown character" in e.value.message


# ---- exec -------------------------------------------------------------------------------


def test_exec_exit_codes(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn()
    m.call({"op": "start"})
    sub = m.subscribe()
    conn, reply = m.exec("e1", exec_process(m, sh("echo exec-out; echo exec-err >&2; exit 5")))
    assert reply["pid"] > 0
    frames = read_frames(read_until_eof(conn))
    assert frames[1] == b"exec-out\n" and frames[2] == b"exec-err\n"
    ev = wait_event(sub, "exec_exit")
    assert ev["exec_id"] == "e1" and ev["exit_code"] == 5
    st = m.call({"op": "exec_state", "exec_id": "e1"})
    assert st["running"] is False and st["exit_code"] == 5
    # Missing binary: docker's 127, told on the stream and in exec_state.
    conn, reply = m.exec("e2", exec_process(m, ["no-such-binary"]))
    data = read_until_eof(conn)
    assert b"executable file not found" in read_frames(data)[2]
    assert m.call({"op": "exec_state", "exec_id": "e2"})["exit_code"] == 127
    with pytest.raises(MonitorError) as e:
        m.exec("e1", exec_process(m, ["true"]))
    assert e.value.code == "already exists"
    with pytest.raises(MonitorError) as e:
        m.call({"op": "exec_state", "exec_id": "zz"})
    assert e.value.code == "not found"
    # Detached: runs without a connection, exit code recorded.
    _, reply = m.exec("e3", exec_process(m, sh("exit 7")), detach=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        st = m.call({"op": "exec_state", "exec_id": "e3"})
        if not st["running"]:
            break
        time.sleep(0.05)
    assert st["exit_code"] == 7


def test_exec_stdin_and_tty_resize(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn()
    m.call({"op": "start"})
    conn, _ = m.exec("in", exec_process(m, ["cat"]), stdin=True)
    conn.sendall(b"via-exec-stdin\n")
    conn.shutdown(socket.SHUT_WR)
    frames = read_frames(read_until_eof(conn))
    assert frames[1] == b"via-exec-stdin\n"
    assert m.call({"op": "exec_state", "exec_id": "in"})["exit_code"] == 0

    conn, _ = m.exec("t", exec_process(m, sh("read x; /bin/busybox stty size"), tty=True),
                     stdin=True)
    m.call({"op": "resize", "exec_id": "t", "height": 33, "width": 77})
    conn.sendall(b"go\r")
    data = read_until_eof(conn)
    assert b"33 77" in data
    with pytest.raises(MonitorError) as e:
        m.call({"op": "resize", "exec_id": "", "height": 1, "width": 1})
    assert e.value.code == "failed precondition"


def test_container_tty_resize(monitors):
    m = monitors(["sh"], tty=True, open_stdin=True)
    m.spawn()
    m.call({"op": "start"})
    m.call({"op": "resize", "exec_id": "", "height": 40, "width": 100})
    conn = m.attach(stdin=True)
    conn.sendall(b"/bin/busybox stty size\n")
    read_until(conn, b"40 100")


def test_exec_in_stopped_container(monitors):
    m = monitors(["sleep", "1000"])
    m.spawn()
    with pytest.raises(MonitorError) as e:
        m.exec("x", exec_process(m, ["true"]))
    assert e.value.code == "failed precondition" and "not running" in e.value.message


# ---- health checks ------------------------------------------------------------------------


def health(test, **kw):
    h = {"test": test, "interval_ns": 200_000_000, "timeout_ns": 1_000_000_000,
         "retries": 2, "start_period_ns": 0, "start_interval_ns": 100_000_000}
    h.update(kw)
    return h


def writable(b):
    b.config["root"]["readonly"] = False


def test_health_transitions(monitors):
    m = monitors(sh("touch /tmp/ok; sleep 1; rm /tmp/ok; sleep 1000"),
                 bundle_edit=writable, health=health(["/bin/sh", "-c", "test -e /tmp/ok"]))
    m.spawn()
    sub = m.subscribe()
    m.call({"op": "start"})
    ev = wait_event(sub, "health_status")
    assert ev["health_status"] == "healthy"
    ev = wait_event(sub, "health_status")
    assert ev["health_status"] == "unhealthy"
    with open(m.health_file) as f:
        h = json.load(f)
    assert h["status"] == "unhealthy" and h["failing_streak"] >= 2
    assert 1 <= len(h["log"]) <= 5
    assert m.call({"op": "state"})["health"]["status"] == "unhealthy"
    assert m.call({"op": "state"})["status"] == "running"  # on_failure none


def first_health_status(m):
    """Starts the container; its first health_status event's status and the last probe
    recorded in the health file."""
    m.spawn()
    sub = m.subscribe()
    m.call({"op": "start"})
    status = wait_event(sub, "health_status")["health_status"]
    with open(m.health_file) as f:
        return status, json.load(f)["log"][-1]


def test_health_timeout_output(monitors):
    m = monitors(["sleep", "1000"],
                 health=health(["/bin/sh", "-c", "echo probing; sleep 5"],
                               timeout_ns=300_000_000, retries=1))
    status, last = first_health_status(m)
    assert status == "unhealthy"
    assert last["exit_code"] == -1
    assert "Health check exceeded timeout" in last["output"]


def test_health_output_kept(monitors):
    m = monitors(["sleep", "1000"], health=health(["/bin/sh", "-c", "echo fine; echo e >&2"]))
    status, last = first_health_status(m)
    assert status == "healthy"
    assert last["exit_code"] == 0 and "fine" in last["output"]


@pytest.mark.parametrize("action", ["kill", "restart"])
def test_health_on_failure(monitors, action):
    m = monitors(["sleep", "1000"], health=health(["/bin/false"], retries=2, on_failure=action))
    m.spawn()
    sub = m.subscribe()
    m.call({"op": "start"})
    assert wait_event(sub, "health_status")["health_status"] == "unhealthy"
    ev = wait_event(sub, "exit")
    assert ev["exit"]["exit_code"] == 137
    assert ev["exit"]["health_restart"] is (action == "restart")
    assert m.wait_gone()


def test_health_start_period(monitors):
    # Failures inside the start period do not count.
    m = monitors(["sleep", "1000"],
                 health=health(["/bin/false"], retries=1, start_period_ns=1_500_000_000))
    m.spawn()
    sub = m.subscribe()
    m.call({"op": "start"})
    t0 = time.time()
    assert wait_event(sub, "health_status")["health_status"] == "unhealthy"
    assert time.time() - t0 >= 1.3
