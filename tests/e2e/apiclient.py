"""Raw Engine API requests over a unix socket (http.client, no docker-py), for exact
status codes and bodies."""

import http.client
import json
import socket
import urllib.parse


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def json_stream(self):
        """The objects of a progress stream (concatenated / newline-separated JSON)."""
        dec = json.JSONDecoder()
        text = self.body.decode("utf-8", "replace")
        i, out = 0, []
        while i < len(text):
            while i < len(text) and text[i] in " \r\n\t":
                i += 1
            if i >= len(text):
                break
            obj, i = dec.raw_decode(text, i)
            out.append(obj)
        return out

    def stream_error(self):
        """The first error message in a progress stream, or None."""
        for obj in self.json_stream():
            if isinstance(obj, dict) and (obj.get("error") or obj.get("errorDetail")):
                return obj.get("error") or obj["errorDetail"].get("message")
        return None

    def message(self):
        try:
            return self.json().get("message", "")
        except (ValueError, AttributeError):
            return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Api:
    def __init__(self, sock_path, timeout=300):
        self.sock_path = sock_path
        self.timeout = timeout

    def request(self, method, path, query=None, body=None, headers=None, timeout=None, raw_query=None):
        if query:
            path = path + "?" + urllib.parse.urlencode(query, doseq=True)
        elif raw_query is not None:
            path = path + "?" + raw_query
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn = _UnixConnection(self.sock_path, timeout or self.timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, dict(r.getheaders()), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ping(self):
        return self.get("/_ping", timeout=5)

    # Conveniences used by many tests.
    def images(self, **query):
        r = self.get("/images/json", query=query or None)
        assert r.status == 200, r
        return r.json()

    def image_ids(self):
        return sorted(i["Id"] for i in self.images(all="1"))

    def pull(self, ref, auth_header=None, timeout=None):
        """POST /images/create; returns (Response, error-in-stream-or-None)."""
        name, tag = split_ref(ref)
        q = {"fromImage": name}
        if tag:
            q["tag"] = tag
        headers = {"X-Registry-Auth": auth_header} if auth_header else None
        r = self.post("/images/create", query=q, headers=headers, timeout=timeout)
        err = r.stream_error() if r.status == 200 else r.message()
        return r, err

    def inspect(self, name):
        return self.get(f"/images/{name}/json")

    def remove(self, name, force=False):
        return self.delete(f"/images/{name}", query={"force": "1"} if force else None)


def split_ref(ref):
    """'host:port/repo:tag' -> ('host:port/repo', 'tag'); digests stay in the name."""
    if "@" in ref:
        return ref, None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, "latest"
