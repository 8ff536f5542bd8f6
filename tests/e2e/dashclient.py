"""A small client for berthd's dashboard listener (docs/design/dashboard.md): plain HTTP on
127.0.0.1 with any Host/Origin/headers the test wants, and a minimal websocket (RFC 6455)
client for the exec terminal."""

import base64
import http.client
import os
import socket
import struct


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


def request(port, method, path, headers=None, body=None, host=None, dashboard=False, timeout=60):
    """One request on its own connection. host=None: 127.0.0.1:port; dashboard=True adds the
    X-Berth-Dashboard header."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    c.putheader("Host", host or f"127.0.0.1:{port}")
    hdrs = dict(headers or {})
    if dashboard:
        hdrs["X-Berth-Dashboard"] = "1"
    data = body.encode() if isinstance(body, str) else body
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
        hdrs["Content-Length"] = str(len(data))
    for k, v in hdrs.items():
        c.putheader(k, v)
    c.endheaders(data)
    r = c.getresponse()
    out = Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    c.close()
    return out


class WebSocket:
    """Client side: masked frames out, unmasked in; binary payloads."""

    def __init__(self, port, path, origin, host=None, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        host = host or f"127.0.0.1:{port}"
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n")
        if origin:
            req += f"Origin: {origin}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.head, _, self.buf = head.partition(b"\r\n\r\n")
        self.status = int(self.head.split(b" ")[1]) if self.head else 0

    def send(self, data):
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x82])
        if n < 126:
            hdr += bytes([0x80 | n])
        else:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("websocket closed")
            self.buf += chunk

    def recv(self):
        """(opcode, payload) of the next frame."""
        self._need(2)
        op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        off = 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return op, payload

    def read_until(self, needle, limit=1 << 20):
        got = b""
        while needle not in got and len(got) < limit:
            op, payload = self.recv()
            if op == 0x8:
                break
            got += payload
        return got

    def close(self):
        self.sock.close()
