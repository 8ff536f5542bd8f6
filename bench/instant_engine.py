#!/usr/bin/env python3
"""An Engine API stand-in that answers at once, for measuring the docker CLI's own time.

`docker run --rm IMG true` makes five requests (`HEAD /_ping`, `POST /containers/create`,
a hijacked `attach`, `wait?condition=removed`, `start`). Served by InstantEngine, no
container exists and every answer goes out as soon as the request is read: the attach
stream and the wait answer end when `start` arrives, as for a container whose process
exits at once with status 0. What such a run costs is what the CLI spends by itself
(process start, flag parsing, its HTTP client, exit) plus this server's handling, so it
is an upper bound of the CLI's floor: no engine can make `docker run --rm` faster.

Contract: InstantEngine(path).start() listens on the unix socket `path` (serving each
connection on its own thread); .host is the DOCKER_HOST value; .requests counts the
requests served; .stop() closes the socket, ends waiting streams and removes the file.
Requests it does not model get a 404 with a JSON message, like an engine would.
Only the standard library (http.server) parses HTTP here.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import socketserver
import threading
import uuid
from typing import Dict

API_VERSION = "1.47"
_VERSIONED = re.compile(r"^/v[0-9.]+(/.*)$")
_CONTAINER_OP = re.compile(r"^/containers/([0-9a-f]{64})/(attach|wait|start)$")
# How long a waiting attach or wait stream is held before it is given up (a CLI that died).
_HOLD_SECS = 30.0


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, engine: "InstantEngine"):
        self.engine = engine
        super().__init__(path, _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def address_string(self):  # unix sockets have no peer address
        return "unix"

    def _path(self) -> str:
        p = self.path.split("?", 1)[0]
        m = _VERSIONED.match(p)
        return m.group(1) if m else p

    def _headers(self, status: int, ctype: str = "", length: int = -1, extra=()):
        self.send_response(status)
        self.send_header("Api-Version", API_VERSION)
        self.send_header("Ostype", "linux")
        self.send_header("Docker-Experimental", "false")
        if ctype:
            self.send_header("Content-Type", ctype)
        if length >= 0:
            self.send_header("Content-Length", str(length))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def _json(self, status: int, obj) -> None:
        body = json.dumps(obj).encode()
        self._headers(status, "application/json", len(body))
        self.wfile.write(body)

    def _drain_body(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n > 0:
            self.rfile.read(n)

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        self.server.engine._count()
        if self._path() == "/_ping":
            self._headers(200, "text/plain; charset=utf-8", 2)
        else:
            self._headers(404, "application/json", 0)

    def do_GET(self):  # noqa: N802
        self.server.engine._count()
        p = self._path()
        if p == "/_ping":
            self._headers(200, "text/plain; charset=utf-8", 2)
            self.wfile.write(b"OK")
        elif p == "/version":
            self._json(200, {"Version": "0.0.0-instant", "ApiVersion": API_VERSION, "MinAPIVersion": "1.24",
                             "Os": "linux", "Arch": "amd64", "KernelVersion": os.uname().release,
                             "Components": [{"Name": "Engine", "Version": "0.0.0-instant"}]})
        else:
            self._json(404, {"message": f"instant engine: no route for GET {p}"})

    def do_POST(self):  # noqa: N802
        eng = self.server.engine
        eng._count()
        self._drain_body()
        p = self._path()
        if p == "/containers/create":
            self._json(201, {"Id": eng._create(), "Warnings": []})
            return
        m = _CONTAINER_OP.match(p)
        exited = eng._exited(m.group(1)) if m else None
        if exited is None:
            self._json(404, {"message": f"instant engine: no route for POST {p}"})
            return
        op = m.group(2)
        if op == "start":
            self._headers(204)
            exited.set()
        elif op == "attach":
            self._headers(101, "application/vnd.docker.multiplexed-stream",
                          extra=(("Connection", "Upgrade"), ("Upgrade", "tcp")))
            self.wfile.flush()
            exited.wait(_HOLD_SECS)
            self.close_connection = True  # EOF on the stream: the process is done
        else:  # wait
            self._headers(200, "application/json", extra=(("Transfer-Encoding", "chunked"),))
            self.wfile.flush()
            exited.wait(_HOLD_SECS)
            body = b'{"Error":null,"StatusCode":0}\n'
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    def do_DELETE(self):  # noqa: N802
        self.server.engine._count()
        self._headers(204)


class InstantEngine:
    def __init__(self, path: str):
        self.path = path
        self.host = "unix://" + path
        self.requests = 0
        self._mu = threading.Lock()
        self._containers: Dict[str, threading.Event] = {}
        self._server = None
        self._thread = None

    def start(self) -> "InstantEngine":
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._server = _Server(self.path, self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            with self._mu:
                for ev in self._containers.values():
                    ev.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _count(self) -> None:
        with self._mu:
            self.requests += 1

    def _create(self) -> str:
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        with self._mu:
            self._containers[cid] = threading.Event()
        return cid

    def _exited(self, cid: str):
        with self._mu:
            return self._containers.get(cid)
