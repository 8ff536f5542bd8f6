"""In-process HTTP servers for tests: a static registry that serves exactly the bytes we give
it (hostile manifests and blobs), and a counting proxy in front of docker-registry that counts
blob GETs and bytes per digest."""

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOB_RE = re.compile(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$")
MANIFEST_RE = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")


class _Server:
    def _serve(self, handler):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if getattr(self, "_server", None):
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class StaticRegistry(_Server):
    """manifests: {(repo, ref): (media_type, bytes)}; blobs: {digest: bytes} served as-is
    (whatever their real digest), optionally with a lying Content-Length cut."""

    def __init__(self):
        self.manifests = {}
        self.blobs = {}
        self.requests = []

    def add_manifest(self, repo, ref, media_type, raw):
        self.manifests[(repo, ref)] = (media_type, raw)

    def start(self):
        reg = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, code, body=b"", ctype="application/json", extra=None, head=False):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _route(self, head):
                reg.requests.append((self.command, self.path))
                path = self.path.split("?")[0]
                if path in ("/v2/", "/v2"):
                    return self._send(200, b"{}", head=head)
                m = MANIFEST_RE.match(path)
                if m and (m.group(1), m.group(2)) in reg.manifests:
                    mt, raw = reg.manifests[(m.group(1), m.group(2))]
                    import hashlib
                    return self._send(200, raw, mt, {"Docker-Content-Digest": "sha256:" + hashlib.sha256(raw).hexdigest()}, head)
                m = BLOB_RE.match(path)
                if m and m.group(2) in reg.blobs:
                    return self._send(200, reg.blobs[m.group(2)], "application/octet-stream", head=head)
                body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}'
                return self._send(404, body, head=head)

            def do_GET(self):
                self._route(False)

            def do_HEAD(self):
                self._route(True)

        return self._serve(H)


class CountingProxy(_Server):
    """Forwards every request to upstream host:port; counts GET blob requests and the bytes
    sent per digest. slow_bytes_per_s > 0 throttles blob bodies (to give kill points time)."""

    def __init__(self, upstream_host, upstream_port, slow_bytes_per_s=0):
        self.up_host, self.up_port = upstream_host, upstream_port
        self.lock = threading.Lock()
        self.blob_gets = {}
        self.blob_bytes = {}
        self.slow = slow_bytes_per_s

    def reset(self):
        with self.lock:
            self.blob_gets.clear()
            self.blob_bytes.clear()

    def total_blob_bytes(self):
        with self.lock:
            return sum(self.blob_bytes.values())

    def start(self):
        px = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                conn = http.client.HTTPConnection(px.up_host, px.up_port, timeout=300)
                try:
                    # Header by header: repeated ones (Accept) must all reach the registry.
                    conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    conn.putheader("Host", f"{px.up_host}:{px.up_port}")
                    for k, v in self.headers.items():
                        if k.lower() not in ("host", "connection", "content-length"):
                            conn.putheader(k, v)
                    if body is not None:
                        conn.putheader("Content-Length", str(len(body)))
                    conn.endheaders(body)
                    r = conn.getresponse()
                    m = BLOB_RE.match(self.path.split("?")[0])
                    counting = self.command == "GET" and m is not None
                    digest = m.group(2) if m else None
                    if counting:
                        with px.lock:
                            px.blob_gets[digest] = px.blob_gets.get(digest, 0) + 1
                    self.send_response(r.status)
                    for k, v in r.getheaders():
                        if k.lower() in ("connection", "transfer-encoding"):
                            continue
                        if k.lower() == "location" and v.startswith(f"http://{px.up_host}:{px.up_port}"):
                            v = v.replace(f"{px.up_host}:{px.up_port}", f"127.0.0.1:{px.port}", 1)
                        self.send_header(k, v)
                    chunked = r.getheader("Content-Length") is None and self.command != "HEAD" and r.status not in (204, 304)
                    if chunked:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    if self.command == "HEAD":
                        return
                    import time
                    while True:
                        chunk = r.read(64 << 10)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        if counting:
                            with px.lock:
                                px.blob_bytes[digest] = px.blob_bytes.get(digest, 0) + len(chunk)
                            if px.slow:
                                time.sleep(len(chunk) / px.slow)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                finally:
                    conn.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        return self._serve(H)
