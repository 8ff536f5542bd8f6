#!/usr/bin/python3
"""A small misbehaving registry + token server for registry_unit_test.

It serves one repository "test/repo" with one manifest and one blob and can be
told (flags) to demand bearer tokens, lie about digests, ignore Range, fail the
first N requests with 500, cut a blob transfer in the middle, or redirect blob
downloads to another host name. /_stats reports what it saw, so tests can
check what the client sent. Listens on 127.0.0.1 only.
"""
import argparse
import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BLOB = bytes((i * 7 + i // 256) % 256 for i in range(1 << 20))
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": BLOB_DIGEST, "size": len(BLOB)},
    "layers": [],
}).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
WRONG_DIGEST = "sha256:" + hashlib.sha256(b"not the manifest").hexdigest()

ARGS = None
LOCK = threading.Lock()
STATS = {"token_requests": 0, "token_auth": [], "token_scopes": [], "requests": 0,
         "blob_ranges": [], "redirected_auth": [], "fails_left": 0, "cuts_left": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # keep test output quiet
        pass

    def send(self, code, body=b"", headers=None, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, err, msg, headers=None):
        body = json.dumps({"errors": [{"code": err, "message": msg}]}).encode()
        self.send(code, body, headers)

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/_stats":
            with LOCK:
                return self.send(200, json.dumps(STATS).encode())
        if u.path == "/token":
            return self.token(q)
        if u.path == "/data/blob":
            with LOCK:
                STATS["redirected_auth"].append(self.headers.get("Authorization", ""))
            return self.send(200, BLOB, ctype="application/octet-stream")
        if u.path == "/v1/search":
            term = q.get("q", [""])[0]
            res = [{"name": term + "/app", "description": "an app", "star_count": 7,
                    "is_official": False, "is_automated": True},
                   {"name": term, "description": "official", "star_count": 99,
                    "is_official": True, "is_automated": False}]
            return self.send(200, json.dumps({"num_results": 2, "query": term,
                                              "results": res}).encode())
        if not u.path.startswith("/v2/"):
            return self.send(404, b"{}")
        with LOCK:
            STATS["requests"] += 1
            if STATS["fails_left"] > 0:
                STATS["fails_left"] -= 1
                return self.error(500, "UNKNOWN", "injected failure")
        if ARGS.bearer and self.headers.get("Authorization") != "Bearer " + ARGS.bearer:
            realm = "http://127.0.0.1:%d/token" % ARGS.port
            chal = 'Bearer realm="%s",service="fake registry",scope="repository:test/repo:pull"' % realm
            return self.error(401, "UNAUTHORIZED", "authentication required",
                              {"WWW-Authenticate": chal})
        if u.path == "/v2/":
            return self.send(200, b"{}")
        if u.path == "/v2/test/repo/tags/list":
            if "last" not in q:
                return self.send(200, json.dumps({"name": "test/repo", "tags": ["a", "b"]}).encode(),
                                 {"Link": '</v2/test/repo/tags/list?last=b&n=2>; rel="next"'})
            return self.send(200, json.dumps({"name": "test/repo", "tags": ["c"]}).encode())
        if u.path.startswith("/v2/test/repo/manifests/"):
            ref = u.path.rsplit("/", 1)[1]
            if ref not in ("latest", MANIFEST_DIGEST) and not ARGS.lie:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            dig = WRONG_DIGEST if ARGS.lie else MANIFEST_DIGEST
            return self.send(200, MANIFEST, {"Docker-Content-Digest": dig},
                             ctype="application/vnd.oci.image.manifest.v1+json")
        if u.path == "/v2/test/repo/blobs/" + BLOB_DIGEST:
            return self.blob()
        return self.error(404, "NAME_UNKNOWN", "repository name not known to registry")

    def do_POST(self):
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(n).decode())
        if u.path != "/token":
            return self.send(404, b"{}")
        with LOCK:
            STATS["token_requests"] += 1
            STATS["token_auth"].append("refresh:" + form.get("refresh_token", [""])[0])
            STATS["token_scopes"].append(form.get("scope", []))
        if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != ["rt-1"]:
            return self.send(401, json.dumps({"error": "invalid_grant"}).encode())
        return self.send(200, json.dumps({"access_token": ARGS.bearer, "expires_in": 300}).encode())

    def token(self, q):
        auth = self.headers.get("Authorization", "")
        with LOCK:
            STATS["token_requests"] += 1
            STATS["token_auth"].append(auth)
            STATS["token_scopes"].append(q.get("scope", []))
        if ARGS.user and auth:
            want = "Basic " + base64.b64encode(ARGS.user.encode()).decode()
            if auth != want:
                return self.send(401, json.dumps({"details": "incorrect username or password"}).encode())
        key = "access_token" if ARGS.access_token else "token"
        reply = {key: ARGS.bearer, "expires_in": 300}
        if q.get("offline_token") == ["true"] and auth:
            reply["refresh_token"] = "rt-1"
        return self.send(200, json.dumps(reply).encode())

    def blob(self):
        if ARGS.redirect:
            loc = "http://localhost:%d/data/blob" % ARGS.port
            return self.send(307, b"", {"Location": loc})
        rng = self.headers.get("Range", "")
        with LOCK:
            STATS["blob_ranges"].append(rng)
            cut = STATS["cuts_left"] > 0
            if cut:
                STATS["cuts_left"] -= 1
        start = 0
        if rng.startswith("bytes=") and not ARGS.ignore_range:
            start = int(rng[6:].split("-")[0])
        body = BLOB[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(BLOB) - 1, len(BLOB)))
        self.end_headers()
        if cut:
            # Half the promised bytes, then the connection drops.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bearer", default="")
    p.add_argument("--user", default="")
    p.add_argument("--access-token", action="store_true")
    p.add_argument("--lie", action="store_true")
    p.add_argument("--ignore-range", action="store_true")
    p.add_argument("--redirect", action="store_true")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--cut-first", type=int, default=0)
    ARGS = p.parse_args()
    STATS["fails_left"] = ARGS.fail_first
    STATS["cuts_left"] = ARGS.cut_first
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
