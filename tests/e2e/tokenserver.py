"""A small token server of our own for docker-registry's token auth (the distribution token
spec): GET /token?service=&scope=repository:NAME:ACTIONS[&scope=...] with optional Basic
credentials; answers {"token", "access_token", "expires_in", "issued_at"} with a JWT signed
RS256 or ES256 whose header carries x5c = the self-signed certificate given to the registry
as auth.token.rootcertbundle. Anonymous requests get a token with no access; wrong
credentials get 401."""

import base64
import datetime
import json
import os
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from registry import ISSUER, SERVICE


def _b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class TokenServer:
    def __init__(self, workdir, users, alg="RS256"):
        self.users = dict(users)  # name -> password
        self.alg = alg
        self.requests = []  # (account or None, scopes) per token request, for assertions
        if alg == "RS256":
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            self.key = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(alg)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "berth-e2e-token-signer")])
        now = datetime.datetime.utcnow()
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=2))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False,
                                                  key_agreement=False, key_cert_sign=True, crl_sign=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.cert_path = os.path.join(workdir, f"token-{alg}.pem")
        with open(self.cert_path, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        self._server = None
        self._thread = None
        self.url = None

    def sign(self, claims):
        header = {"typ": "JWT", "alg": self.alg,
                  "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]}
        signing_input = (_b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         _b64url(json.dumps(claims, separators=(",", ":")).encode())).encode()
        if self.alg == "RS256":
            sig = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input.decode() + "." + _b64url(sig)

    def issue(self, account, scopes, service):
        access = []
        if account is not None:
            for scope in scopes:
                parts = scope.split(":")
                if len(parts) < 3:
                    continue
                typ, actions = parts[0], parts[-1]
                name = ":".join(parts[1:-1])
                allowed = [a for a in actions.split(",") if a in ("pull", "push", "delete", "*")]
                if typ == "registry" and name == "catalog":
                    allowed = ["*"]
                access.append({"type": typ, "name": name, "actions": allowed})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": account or "", "aud": service, "exp": now + 600,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(12), "access": access}
        return self.sign(claims)

    def start(self):
        ts = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _reply(self, code, obj, extra=None):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _account(self):
                h = self.headers.get("Authorization", "")
                if not h:
                    return None, True
                if not h.startswith("Basic "):
                    return None, False
                try:
                    user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
                except ValueError:
                    return None, False
                return user, ts.users.get(user) == pw

            def _handle(self, q):
                url = urllib.parse.urlparse(self.path)
                if url.path != "/token":
                    return self._reply(404, {"errors": [{"code": "NOT_FOUND"}]})
                service = (q.get("service") or [SERVICE])[0]
                scopes = []
                for s in q.get("scope", []):
                    scopes += s.split(" ")
                account, ok = self._account()
                if not ok:
                    ts.requests.append(("<denied>", scopes))
                    return self._reply(401, {"details": "incorrect username or password"},
                                       {"WWW-Authenticate": 'Basic realm="berth-e2e-token"'})
                ts.requests.append((account, scopes))
                tok = ts.issue(account, scopes, service)
                self._reply(200, {"token": tok, "access_token": tok, "expires_in": 600,
                                  "issued_at": datetime.datetime.utcnow().isoformat() + "Z"})

            def do_GET(self):
                self._handle(urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query))

            def do_POST(self):
                # OAuth2 password grant (docker login may use it when it has a refresh token).
                n = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                if "username" in form and "Authorization" not in self.headers:
                    cred = f"{form['username'][0]}:{form.get('password', [''])[0]}"
                    self.headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
                self._handle(form)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
