"""Host-side view of a test berthd's networking, for leftover checks and cleanup.

A test daemon (daemons.Daemon) has its own default bridge and nftables table
(BERTH_NFT_TABLE); the bridges of the user networks it made are named in its
metadata database. Everything here only touches those names: never another
table, bridge or namespace.
"""
import json
import os
import sqlite3
import subprocess


def _run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def bridges_of(daemon):
    """Bridge devices of the daemon's networks (from its metadata) plus its default bridge."""
    names = {daemon.bridge}
    db = os.path.join(daemon.data_root, "metadata.db")
    if os.path.exists(db):
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                for (cfg,) in con.execute("SELECT config FROM networks"):
                    b = json.loads(cfg).get("bridge")
                    if b:
                        names.add(b)
            finally:
                con.close()
        except sqlite3.Error:
            pass
    return sorted(names)


def link_exists(name):
    return os.path.exists(f"/sys/class/net/{name}")


def veths_on(bridge):
    d = f"/sys/class/net/{bridge}/brif"
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def nft_table_exists(table):
    return _run(["nft", "list", "table", "ip", table]).returncode == 0


def nft_table_text(table):
    r = _run(["nft", "list", "table", "ip", table])
    return r.stdout if r.returncode == 0 else ""


def netns_files(daemon):
    d = os.path.join(daemon.exec_root, "netns")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def pool_spares(daemon):
    """The daemon's ready-made namespaces, each named after its veth's host end."""
    d = os.path.join(daemon.exec_root, "netns-pool")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def endpoint_rows(daemon):
    """Addresses the daemon has handed out (its endpoints table), as "network:container:ip"."""
    db = os.path.join(daemon.data_root, "metadata.db")
    if not os.path.exists(db):
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return [f"{n[:12]}:{c[:12]}:{ip}" for n, c, ip in
                    con.execute("SELECT network_id, container_id, COALESCE(ip4, '') FROM endpoints")]
        finally:
            con.close()
    except sqlite3.Error:
        return []


def daemon_leftovers(daemon):
    """Container-scoped leftovers: veths on its bridges, netns files, DNAT rules, address
    leases (endpoint rows)."""
    veths = []
    for b in bridges_of(daemon):
        veths += veths_on(b)
    # Listed after the veths: a spare made in between is then not mistaken
    # for a leftover (its file exists before its veth).
    spares = set(pool_spares(daemon))
    veths = [v for v in veths if v not in spares]
    text = nft_table_text(daemon.nft_table)
    dnat = [l.strip() for l in text.splitlines() if " dnat to " in l]
    return {"veths": veths, "netns": netns_files(daemon), "dnat": dnat,
            "leases": endpoint_rows(daemon)}


def remove_daemon_network(daemon):
    """After the daemon stopped: its namespaces (spares too), bridges and nftables table."""
    d = os.path.join(daemon.exec_root, "netns")
    pool = os.path.join(daemon.exec_root, "netns-pool")
    for p in [os.path.join(d, n) for n in netns_files(daemon)] + \
             [os.path.join(pool, n) for n in pool_spares(daemon)]:
        subprocess.run(["umount", "-l", p], capture_output=True, timeout=30)
        try:
            os.unlink(p)
        except OSError:
            pass
    for b in bridges_of(daemon):
        if link_exists(b):
            _run(["ip", "link", "del", b])
    for fam in ("ip", "ip6"):
        _run(["nft", "delete", "table", fam, daemon.nft_table])


# --- an "external host": a test-made namespace on a veth pair (test_network_reliability) ---

_NS_FETCH = r"""
import socket, sys
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
try:
    s = socket.create_connection((host, port), timeout)
    s.settimeout(timeout)
    s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
except OSError as e:
    print("ERR", type(e).__name__, e)
    sys.exit(3)
sys.stdout.buffer.write(data)
"""


def ns_http_get(ns, host, port, timeout=2.0):
    """From inside netns `ns`: GET http://host:port/ (HTTP/1.0, raw socket). Returns the
    raw response bytes, or None when the connection fails or times out."""
    r = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", _NS_FETCH, host, str(port), str(timeout)],
                       capture_output=True, timeout=timeout * 3 + 10)
    return r.stdout if r.returncode == 0 else None


class ExternalHost:
    """Netns `e2eext<tag>` joined to the host by veth `ve<tag>` (host 10.253.N.1/30, ns
    10.253.N.2/30, default route via .1). Only these names are ever touched; remove() is
    idempotent and best effort (call it in finally)."""

    def __init__(self):
        tag = os.urandom(3).hex()
        self.ns, self.host_if, self.ns_if = "e2eext" + tag, "ve" + tag, "vn" + tag
        used = _run(["ip", "-4", "-o", "addr", "show"]).stdout + _run(["ip", "-4", "route", "show"]).stdout
        free = [n for n in range(1, 255) if f"10.253.{n}." not in used]
        n = free[int.from_bytes(os.urandom(2), "big") % len(free)]
        self.host_ip, self.ns_ip = f"10.253.{n}.1", f"10.253.{n}.2"

    def create(self):
        steps = [
            ["ip", "netns", "add", self.ns],
            ["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if],
            ["ip", "link", "set", self.ns_if, "netns", self.ns],
            ["ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if],
            ["ip", "link", "set", self.host_if, "up"],
            ["ip", "netns", "exec", self.ns, "ip", "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if],
            ["ip", "netns", "exec", self.ns, "ip", "link", "set", self.ns_if, "up"],
            ["ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"],
            ["ip", "netns", "exec", self.ns, "ip", "route", "add", "default", "via", self.host_ip],
        ]
        for argv in steps:
            r = _run(argv)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} -> {r.returncode}: {r.stderr}")
        return self

    def remove(self):
        if link_exists(self.host_if):
            _run(["ip", "link", "del", self.host_if])
        _run(["ip", "netns", "del", self.ns])

    def exists(self):
        return link_exists(self.host_if) or os.path.exists(f"/run/netns/{self.ns}")


def nft_apply(text):
    """nft -f - with the given ruleset text; raises on failure."""
    r = subprocess.run(["nft", "-f", "-"], input=text, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"nft -f: {r.stderr}\n{text}")


def nft_delete_table(family, table):
    """Deletes exactly this table (no error when it is absent)."""
    if _run(["nft", "list", "table", family, table]).returncode == 0:
        _run(["nft", "delete", "table", family, table])
