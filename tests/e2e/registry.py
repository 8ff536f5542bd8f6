"""Debian's docker-registry on 127.0.0.1 (no auth, htpasswd basic auth, or token auth with
our own token server), plus a registry HTTP API client (urllib) used to push offline-built
images and to read back what a daemon pushed."""

import base64
import json
import os
import re
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from e2eutil import free_port, remove_tree, stop_pid, wait_until

REGISTRY_BIN = "/usr/bin/docker-registry"
SERVICE = "berth-e2e-registry"
ISSUER = "berth-e2e-token-issuer"

MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join([MT_MANIFEST, MT_LIST, MT_OCI_MANIFEST, MT_OCI_INDEX])


class Registry:
    """One docker-registry process. auth: None | "htpasswd" | "token"."""

    def __init__(self, auth=None, user="e2euser", password="e2e-secret", token_server=None):
        self.auth = auth
        self.user = user
        self.password = password
        self.token_server = token_server
        self.dir = tempfile.mkdtemp(prefix=f"e2e-registry-{auth or 'open'}-", dir="/var/tmp")
        self.storage = os.path.join(self.dir, "storage")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.log_path = os.path.join(self.dir, "registry.log")
        self.proc = None
        self._log = None

    def _config(self):
        lines = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
            "  secret: berth-e2e-not-a-secret",
        ]
        if self.auth == "htpasswd":
            htpasswd = os.path.join(self.dir, "htpasswd")
            out = subprocess.run(["htpasswd", "-Bbn", self.user, self.password], check=True,
                                 capture_output=True, text=True).stdout
            with open(htpasswd, "w") as f:
                f.write(out.strip() + "\n")
            lines += ["auth:", "  htpasswd:", "    realm: berth-e2e", f"    path: {htpasswd}"]
        elif self.auth == "token":
            ts = self.token_server
            lines += ["auth:", "  token:", f"    realm: {ts.url}/token", f"    service: {SERVICE}",
                      f"    issuer: {ISSUER}", f"    rootcertbundle: {ts.cert_path}"]
        return "\n".join(lines) + "\n"

    def start(self, timeout=30):
        os.makedirs(self.storage, exist_ok=True)
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write(self._config())
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {open(self.log_path).read()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/v2/", timeout=2)
                return True
            except urllib.error.HTTPError as e:
                return e.code == 401
        wait_until(ready, timeout, what="docker-registry /v2/")
        return self

    def stop(self):
        if self.proc:
            stop_pid(self.proc.pid, term_timeout=10, proc=self.proc)
            self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def cleanup(self):
        self.stop()
        remove_tree(self.dir)

    def blob_path(self, digest):
        hexd = digest.split(":", 1)[1]
        return os.path.join(self.storage, "docker/registry/v2/blobs/sha256", hexd[:2], hexd, "data")

    def client(self, user=None, password=None):
        if self.auth and user is None:
            user, password = self.user, self.password
        return RegistryClient(self.url, user, password)


class RegistryClient:
    """Just enough of the distribution API to push and read images; handles basic and bearer
    auth challenges."""

    def __init__(self, base_url, user=None, password=None):
        self.base = base_url.rstrip("/")
        self.user = user
        self.password = password
        self._tokens = {}

    def _basic(self):
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    def _token_for(self, challenge):
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm")
        key = (realm, params.get("scope"))
        if key in self._tokens:
            return self._tokens[key]
        req = urllib.request.Request(realm + "?" + urllib.parse.urlencode(params))
        if self.user:
            req.add_header("Authorization", self._basic())
        with urllib.request.urlopen(req, timeout=30) as r:
            tok = json.loads(r.read())
        tok = tok.get("token") or tok.get("access_token")
        self._tokens[key] = tok
        return tok

    def request(self, method, path, data=None, headers=None, timeout=120):
        url = path if path.startswith("http") else self.base + path
        hdrs = dict(headers or {})
        for attempt in range(2):
            req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
            try:
                r = urllib.request.urlopen(req, timeout=timeout)
                return r.status, dict(r.headers), r.read()
            except urllib.error.HTTPError as e:
                body = e.read()
                if e.code == 401 and attempt == 0:
                    ch = e.headers.get("WWW-Authenticate", "")
                    if ch.startswith("Basic"):
                        hdrs["Authorization"] = self._basic()
                        continue
                    if ch.startswith("Bearer"):
                        hdrs["Authorization"] = "Bearer " + self._token_for(ch)
                        continue
                return e.code, dict(e.headers), body
        raise AssertionError("unreachable")

    def blob_exists(self, repo, digest):
        st, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}")
        return st == 200

    def push_blob(self, repo, digest, data):
        if self.blob_exists(repo, digest):
            return
        st, h, body = self.request("POST", f"/v2/{repo}/blobs/uploads/", data=b"")
        assert st == 202, (st, body)
        loc = h["Location"]
        if loc.startswith("/"):
            loc = self.base + loc
        sep = "&" if "?" in loc else "?"
        st, _, body = self.request("PUT", f"{loc}{sep}digest={urllib.parse.quote(digest)}", data=data,
                                   headers={"Content-Type": "application/octet-stream"})
        assert st == 201, (st, body)

    def put_manifest(self, repo, ref, raw, media_type):
        st, h, body = self.request("PUT", f"/v2/{repo}/manifests/{ref}", data=raw,
                                   headers={"Content-Type": media_type})
        assert st == 201, (st, body)
        return h.get("Docker-Content-Digest")

    def get_manifest(self, repo, ref, accept=ACCEPT):
        st, h, body = self.request("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": accept})
        return st, h, body

    def get_blob(self, repo, digest):
        st, _, body = self.request("GET", f"/v2/{repo}/blobs/{digest}")
        assert st == 200, (st, body[:200])
        return body

    def tags(self, repo):
        st, _, body = self.request("GET", f"/v2/{repo}/tags/list")
        assert st == 200, (st, body)
        return json.loads(body).get("tags") or []

    def catalog(self):
        st, _, body = self.request("GET", "/v2/_catalog")
        assert st == 200, (st, body)
        return json.loads(body).get("repositories") or []

    def push_image(self, repo, tag, image):
        """image: imagebuild.Image or imagebuild.Index; returns the manifest digest."""
        for digest, data in image.blobs():
            self.push_blob(repo, digest, data)
        for sub in getattr(image, "manifests", []):
            self.put_manifest(repo, sub.manifest_digest, sub.manifest_bytes, sub.media_type)
        return self.put_manifest(repo, tag, image.manifest_bytes, image.media_type)
