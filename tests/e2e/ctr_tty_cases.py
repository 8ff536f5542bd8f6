"""Terminals through a docker-compatible CLI: `run -it` and `exec -it` under a pty, the detach
keys and `attach`, `start -a` with signal proxying. Shared by test_containers_cli.py (the berth
CLI) and test_containers_docker_cli.py (the real docker CLI), like ctr_cli_cases.py."""

import os
import select
import signal
import subprocess
import time

from ctr_cli_cases import insp, ps_names, run_d, state, wait_state
from ctrutil import clean, img  # noqa: F401 - fixtures
from e2eutil import wait_until


# --- terminals -------------------------------------------------------------------------------

class Pty:
    """A CLI process on a pseudo-terminal, read with bounded waits."""

    def __init__(self, cli, *args):
        import pty
        self.master, slave = pty.openpty()
        import fcntl, struct, termios  # noqa: E401
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.proc = subprocess.Popen([cli.binary, *args], env=cli.env(), stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, pass_fds=())
        os.close(slave)
        self.buf = b""

    def read_until(self, token, timeout=20):
        token = token.encode() if isinstance(token, str) else token
        deadline = time.monotonic() + timeout
        while token not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {token!r} in {self.buf[-500:]!r}")
            r, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    if token not in self.buf:
                        raise EOFError(f"EOF before {token!r}: {self.buf[-500:]!r}")
                self.buf += chunk
        return self.buf

    def write(self, data):
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def wait(self, timeout=20):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.buf += os.read(self.master, 4096)
                except OSError:
                    pass
        return self.proc.poll()

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        os.close(self.master)


def test_run_it_under_pty(cli, img, clean):
    t = Pty(cli, "run", "-it", "--rm", "--name", "cli-tty", img, "sh")
    try:
        t.read_until("# ")
        t.write("tty; stty size; echo $((6*7))\r")
        t.read_until("42")
        assert b"/dev/pts/0" in t.buf and b"30 100" in t.buf, t.buf
        t.write("exit 3\r")
        assert t.wait() == 3, t.buf
    finally:
        t.close()
    wait_until(lambda: "cli-tty" not in ps_names(cli, "-a"), 10, what="--rm after -it")


def test_detach_keys_and_attach(cli, img, clean):
    t = Pty(cli, "run", "-it", "--name", "cli-detach", img, "sh")
    try:
        t.read_until("# ")
        t.write("echo before\r")
        t.read_until("before")
        t.write(b"\x10\x11")  # Ctrl-P Ctrl-Q
        assert t.wait() == 0, t.buf
    finally:
        t.close()
    assert state(cli, "cli-detach") == "running"
    t = Pty(cli, "attach", "cli-detach")
    try:
        time.sleep(0.5)
        t.write("echo again-$((1+1))\r")
        t.read_until("again-2")
        t.write("exit 4\r")
        assert t.wait() == 4, t.buf
    finally:
        t.close()
    wait_state(cli, "cli-detach", "exited")
    assert insp(cli, "cli-detach", "{{.State.ExitCode}}") == "4"


def test_exec_it_under_pty(cli, img, clean):
    run_d(cli, img, "cli-exec-it", "sleep", "300")
    t = Pty(cli, "exec", "-it", "cli-exec-it", "sh")
    try:
        t.read_until("# ")
        t.write("tty; echo $((5*5))\r")
        t.read_until("25")
        assert b"/dev/pts/" in t.buf
        t.write("exit 6\r")
        assert t.wait() == 6, t.buf
    finally:
        t.close()


def test_start_attach_sig_proxy(cli, img, clean):
    cli.ok("create", "--name", "cli-start-a", img, "sh", "-c", "echo attached-out; exit 8")
    p = cli.run("start", "-a", "cli-start-a", timeout=60)
    assert p.stdout == "attached-out\n" and p.returncode == 8, (p.stdout, p.stderr, p.returncode)
    cli.ok("create", "-i", "--name", "cli-start-ai", img, "sh", "-c", "read x; echo got-$x")
    p = cli.run("start", "-a", "-i", "cli-start-ai", input="val\n", timeout=60)
    assert p.stdout == "got-val\n", (p.stdout, p.stderr)
    # Signals to a foreground `run` are proxied to the container.
    proc = subprocess.Popen([cli.binary, "run", "--name", "cli-sig", img, "sh", "-c",
                             'trap "echo got-usr1; exit 11" USR1; echo ready; while true; do sleep 0.1; done'],
                            env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line == "ready\n", line
        proc.send_signal(signal.SIGUSR1)
        out, _ = proc.communicate(timeout=30)
        assert "got-usr1" in out and proc.returncode == 11, (out, proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
