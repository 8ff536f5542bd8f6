"""A Python client for berth-monitor's socket (src/monitor/protocol.h), and
helpers to run a monitor for a test bundle.

SOCK_SEQPACKET: one JSON object per packet; attach/exec hand over a
connection with SCM_RIGHTS. Test connections are socketpairs: the monitor
gets one end, the test reads/writes the other.
"""

import json
import os
import select
import socket
import struct
import subprocess
import time


class MonitorError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Conn:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(30)
        self.sock.connect(path)

    def close(self):
        self.sock.close()

    def call(self, req, fd=None):
        data = json.dumps(req).encode()
        if fd is None:
            self.sock.send(data)
        else:
            socket.send_fds(self.sock, [data], [fd])
        reply = json.loads(self.sock.recv(65536))
        if not reply.get("ok"):
            raise MonitorError(reply.get("code"), reply.get("message"))
        return reply

    def next_event(self, timeout=10):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("monitor closed the event stream")
        return json.loads(data)


def read_frames(data):
    """Splits docker's multiplexed stream into [(stream, bytes)], merged per stream."""
    out = {1: b"", 2: b""}
    i = 0
    while i + 8 <= len(data):
        stream, size = data[i], struct.unpack(">I", data[i + 4:i + 8])[0]
        assert data[i + 1:i + 4] == b"\0\0\0", f"bad frame header {data[i:i + 8]!r}"
        out[stream] = out.get(stream, b"") + data[i + 8:i + 8 + size]
        i += 8 + size
    assert i == len(data), f"trailing partial frame: {data[i:]!r}"
    return out


def read_until_eof(sock, timeout=15):
    sock.settimeout(timeout)
    buf = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            return buf
        buf += chunk
    raise AssertionError(f"no EOF within {timeout}s; got {buf!r}")


def read_until(sock, needle, timeout=10):
    sock.settimeout(timeout)
    buf = b""
    deadline = time.time() + timeout
    while needle not in buf and time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    assert needle in buf, f"{needle!r} not in {buf!r}"
    return buf


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Monitor:
    """One monitor for one bundle; files under `base`."""

    def __init__(self, binary, bundle_path, base, cid, **cfg):
        self.binary = binary
        self.base = base
        self.id = cid
        os.makedirs(base, exist_ok=True)
        self.config_path = os.path.join(base, "monitor.json")
        self.socket_path = os.path.join(base, "monitor.sock")
        self.exit_file = os.path.join(base, "exit.json")
        self.health_file = os.path.join(base, "health.json")
        self.log_path = os.path.join(base, f"{cid}-json.log")
        self.pid_file = os.path.join(base, "monitor.pid")
        self.state_root = cfg.pop("state_root", os.path.join(base, "runtime"))
        self.config = {
            "id": cid,
            "bundle": bundle_path,
            "state_root": self.state_root,
            "socket_path": self.socket_path,
            "pid_file": self.pid_file,
            "exit_file": self.exit_file,
            "health_file": self.health_file,
            "log_path": self.log_path,
        }
        self.config.update(cfg)
        self.pid = None

    def spawn(self, check=True, via_shell=False):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f)
        argv = [self.binary, self.config_path]
        if via_shell:
            # The spawner is a shell that exits right after the monitor returns.
            argv = ["/bin/sh", "-c", f"'{self.binary}' '{self.config_path}'; exit $?"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, f"berth-monitor failed ({r.returncode}): {r.stderr}"
            with open(self.pid_file) as f:
                self.pid = int(f.read())
        return r

    def conn(self):
        return Conn(self.socket_path)

    def call(self, req, fd=None):
        c = self.conn()
        try:
            return c.call(req, fd)
        finally:
            c.close()

    def subscribe(self):
        c = self.conn()
        c.call({"op": "subscribe"})
        return c

    def attach(self, stdin=False, stdout=True, stderr=True, detach_keys=None):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        req = {"op": "attach", "stdin": stdin, "stdout": stdout, "stderr": stderr}
        if detach_keys is not None:
            req["detach_keys"] = detach_keys
        try:
            self.call(req, theirs.fileno())
        finally:
            theirs.close()
        return ours

    def exec(self, exec_id, process, stdin=False, detach=False, detach_keys=None):
        req = {"op": "exec", "exec_id": exec_id, "process": process, "stdin": stdin,
               "detach": detach}
        if detach_keys is not None:
            req["detach_keys"] = detach_keys
        if detach:
            return None, self.call(req)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            reply = self.call(req, theirs.fileno())
        finally:
            theirs.close()
        return ours, reply

    def wait_gone(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not pid_alive(self.pid):
                return True
            time.sleep(0.05)
        return False

    def exit_record(self):
        with open(self.exit_file) as f:
            return json.load(f)

    def log_entries(self, path=None):
        with open(path or self.log_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        """Kills the container (or shuts a never-started monitor down) and waits."""
        if self.pid is None or not pid_alive(self.pid):
            return
        try:
            st = self.call({"op": "state"})
            if st["status"] == "created":
                self.call({"op": "shutdown"})
            elif st["status"] in ("running", "paused"):
                if st["status"] == "paused":
                    self.call({"op": "resume"})
                self.call({"op": "kill", "signal": 9, "all": True})
        except (OSError, MonitorError):
            pass
        if not self.wait_gone():
            os.kill(self.pid, 9)
            raise AssertionError(f"monitor {self.pid} did not exit")
