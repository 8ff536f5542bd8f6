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


def daemon_leftovers(daemon):
    """Container-scoped leftovers: veths on its bridges, netns files, DNAT rules."""
    veths = []
    for b in bridges_of(daemon):
        veths += veths_on(b)
    text = nft_table_text(daemon.nft_table)
    dnat = [l.strip() for l in text.splitlines() if " dnat to " in l]
    return {"veths": veths, "netns": netns_files(daemon), "dnat": dnat}


def remove_daemon_network(daemon):
    """After the daemon stopped: its namespaces, bridges and nftables table."""
    d = os.path.join(daemon.exec_root, "netns")
    for n in netns_files(daemon):
        p = os.path.join(d, n)
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
