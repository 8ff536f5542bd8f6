"""A console-socket server: receives the pty master from the runtime.

With process.terminal=true the runtime creates a pty and sends its master fd over
the unix socket given by --console-socket (SCM_RIGHTS). This server accepts one
connection in a thread, keeps the fd and reads everything the container writes.
"""

import array
import os
import socket
import threading
import time


class ConsoleSocket:
    def __init__(self, path):
        self.path = path
        self.master = None
        self.data = b""
        self.error = None
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(path)
        self._sock.listen(1)
        self._sock.settimeout(20)
        self._received = threading.Event()
        self._eof = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        try:
            conn, _ = self._sock.accept()
            with conn:
                fds = array.array("i")
                _, ancdata, _, _ = conn.recvmsg(1024, socket.CMSG_SPACE(4 * fds.itemsize))
                for level, ctype, cdata in ancdata:
                    if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
                        usable = len(cdata) - len(cdata) % fds.itemsize
                        fds.frombytes(cdata[:usable])
                if not fds:
                    raise RuntimeError("no fd received over the console socket")
                self.master = fds[0]
                for extra in fds[1:]:
                    os.close(extra)
            self._received.set()
            while True:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO once the last slave fd is closed
                    break
                if not chunk:
                    break
                self.data += chunk
        except Exception as e:  # reported to the test through .error
            self.error = e
        finally:
            self._received.set()
            self._eof.set()

    def wait_master(self, timeout=20):
        assert self._received.wait(timeout), "runtime never sent the pty master"
        assert self.error is None, self.error
        return self.master

    def wait_output(self, needle, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.data:
                return self.data
            if self._eof.is_set():
                break
            time.sleep(0.05)
        return self.data

    def close(self):
        self._sock.close()
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None
        self._thread.join(timeout=5)
