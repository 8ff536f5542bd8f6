"""Networking that must hold beyond the happy path (berthd only):

- kill -9 of berthd with a published port and a user network in use: the kernel's DNAT keeps
  the port answering while berthd is down; after the restart the port, `ps`, `port`, the
  host-port reservation and name resolution are back, and new containers never get an address
  already in use;
- the daemon's default bind address (`--ip 127.0.0.1`) and an explicit `-p 127.0.0.1:...`:
  nothing answers on the host's own address;
- the host's firewall applies to published ports: a drop rule in a separate table's forward
  hook blocks traffic from an "external host" (a test-made namespace on a veth pair);
- the embedded DNS forwards names it does not know to the daemon's `--dns` upstream (a local
  dnsmasq) and still answers container names itself.

Traffic goes only to 127.0.0.1, the host's own address, containers, and the test's namespace.
Every test removes what it made (containers, networks, the namespace, veth, nft table,
dnsmasq by pid) even on failure."""

import json
import os
import re
import resource
import shutil
import socket
import subprocess

import pytest

import netutil
from conftest import Cli, berth_cli_path, berthd_only
from ctrutil import clean  # noqa: F401 - fixture
from e2eutil import free_port, stop_pid, wait_until
from net_cli_cases import (APP_PORT, PAGE, assert_no_leftovers, get_page, host_address, memos,  # noqa: F401
                           memos_img)


@pytest.fixture(autouse=True)
def _berthd():
    berthd_only("berthd's kill -9 recovery, its --ip/--dns options and nftables rules")


@pytest.fixture
def cli(daemon, home):
    return Cli(berth_cli_path(), daemon, home)


def own_daemon(make_daemon, home, memos, extra_args=()):
    """A fresh berthd with extra_args, its CLI, and the memos image pulled into it."""
    d = make_daemon(extra_args=list(extra_args))
    d.start()
    c = Cli(berth_cli_path(), d, home)
    c.ok("pull", memos.ref)
    return d, c


def no_answer(host, port, timeout=2.0):
    """True when host:port refuses or does not answer within timeout; else the bytes it sent."""
    try:
        s = socket.create_connection((host, port), timeout)
    except OSError:
        return True
    try:
        s.settimeout(timeout)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            data = s.recv(65536)
        except OSError:
            data = b"<connected, no data>"
        return data or b"<connected, closed>"
    finally:
        s.close()


def port_reserved(port):
    """True when binding 0.0.0.0:port fails with EADDRINUSE (berthd holds a socket for it)."""
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", port))
        return False
    except OSError as e:
        return e.errno == 98
    finally:
        s.close()


def ip_on(cli, name, net):
    ins = json.loads(cli.ok("inspect", name).stdout)[0]
    return ins["NetworkSettings"]["Networks"][net]["IPAddress"]


def fetch_in(cli, name, target, tries=25):
    """wget http://target:5230/ from inside running container `name` (retried ~5 s). Debian's
    static busybox 1.35 segfaults on `wget -T`, hence `timeout 5 wget`."""
    return cli.run("exec", name, "sh", "-c",
                   f"for i in $(seq {tries}); do timeout 5 wget -qO- http://{target}:{APP_PORT}/ && exit 0; "
                   "sleep 0.2; done; exit 1", timeout=120)


# --- kill -9 ----------------------------------------------------------------------------

def test_kill9_published_port_and_user_network_survive(make_daemon, memos, home):
    d, cli = own_daemon(make_daemon, home, memos)
    img, net, port = memos.ref, "e2e-relnet", free_port()
    names = ["rel-pub", "rel-a", "rel-b", "rel-c1", "rel-c2", "rel-c3", "rel-d"]
    try:
        cli.ok("network", "create", net)
        cli.ok("run", "-d", "--name", "rel-pub", "-p", f"{port}:{APP_PORT}", img)
        cli.ok("run", "-d", "--name", "rel-a", "--network", net, img)
        cli.ok("run", "-d", "--name", "rel-b", "--network", net, img)
        assert get_page("127.0.0.1", port) == (200, PAGE)
        assert get_page("[::1]", port) == (200, PAGE)
        assert port_reserved(port), f"berthd does not hold 0.0.0.0:{port} before the kill"
        p = fetch_in(cli, "rel-b", "rel-a")
        assert p.returncode == 0 and p.stdout == PAGE.decode(), (p.stdout, p.stderr)
        pub_ip = ip_on(cli, "rel-pub", "bridge")
        before = {n: ip_on(cli, n, net) for n in ("rel-a", "rel-b")}

        d.kill9()
        # Down: no berthd process, yet the kernel's DNAT still forwards to the container.
        assert d.proc is None or d.proc.poll() is not None
        assert get_page("127.0.0.1", port, timeout=5) == (200, PAGE)
        assert get_page(host_address(), port, timeout=5) == (200, PAGE)
        # IPv6 is the container's monitor's proxy, which outlives berthd as the container does.
        assert get_page("[::1]", port, timeout=5) == (200, PAGE)

        d.start()
        assert get_page("127.0.0.1", port) == (200, PAGE)
        assert get_page(host_address(), port) == (200, PAGE)
        assert wait_until(lambda: port_reserved(port), 10, interval=0.2,
                          what=f"berthd holding 0.0.0.0:{port} again after the restart")
        assert get_page("[::1]", port) == (200, PAGE)
        assert cli.ok("port", "rel-pub").stdout.splitlines() == [
            f"{APP_PORT}/tcp -> 0.0.0.0:{port}", f"{APP_PORT}/tcp -> [::]:{port}"]
        ps = cli.ok("ps", "--filter", "name=rel-pub", "--format", "{{.Ports}}").stdout
        assert f"0.0.0.0:{port}->{APP_PORT}/tcp, [::]:{port}->{APP_PORT}/tcp" in ps, ps
        running = set(cli.ok("ps", "--format", "{{.Names}}").stdout.split())
        assert {"rel-pub", "rel-a", "rel-b"} <= running, running
        assert {n: ip_on(cli, n, net) for n in ("rel-a", "rel-b")} == before

        # Name resolution on the user network: from the old container and from a new one.
        p = fetch_in(cli, "rel-b", "rel-a")
        assert p.returncode == 0 and p.stdout == PAGE.decode(), (p.stdout, p.stderr)
        p = cli.run("run", "--rm", "--network", net, img, "sh", "-c",
                    f"for i in $(seq 25); do timeout 5 wget -qO- http://rel-b:{APP_PORT}/ && exit 0; sleep 0.2; done; exit 1",
                    timeout=120)
        assert p.returncode == 0 and p.stdout == PAGE.decode(), (p.stdout, p.stderr)

        # No address handed out twice after the restart.
        for n in ("rel-c1", "rel-c2", "rel-c3"):
            cli.ok("run", "-d", "--name", n, "--network", net, img)
        ips = {n: ip_on(cli, n, net) for n in ("rel-a", "rel-b", "rel-c1", "rel-c2", "rel-c3")}
        assert all(ips.values()) and len(set(ips.values())) == len(ips), ips
        cli.ok("run", "-d", "--name", "rel-d", img)
        assert ip_on(cli, "rel-d", "bridge") not in ("", pub_ip), (pub_ip, ip_on(cli, "rel-d", "bridge"))
        # The new ones are reachable by name too.
        p = fetch_in(cli, "rel-c3", "rel-c1")
        assert p.returncode == 0 and p.stdout == PAGE.decode(), (p.stdout, p.stderr)

        cli.ok("rm", "-f", *names)
        cli.ok("network", "rm", net)
        assert_no_leftovers(d)
        assert no_answer("127.0.0.1", port) is True
        assert no_answer("::1", port) is True
        assert not port_reserved(port), f"0.0.0.0:{port} still held after the container is gone"
        assert net not in cli.ok("network", "ls", "--format", "{{.Name}}").stdout.split()
    finally:
        cli.run("rm", "-f", *names)
        cli.run("network", "rm", net)


def nofile(pid):
    """(soft, hard) of 'Max open files' in /proc/PID/limits."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError(f"no open-files limit for {pid}")


def test_open_files_limit_raised_for_daemon_and_monitors(make_daemon, memos, home):
    """Started with a soft limit of 1024 (a shell's usual), berthd raises it to the hard one, as
    dockerd's Go runtime does; its monitors (whose relays take two fds per connection) inherit
    it; the container keeps docker's default (soft 1024) from its spec."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard <= 1024:
        pytest.skip(f"the hard open-files limit is {hard}: nothing to raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        d, cli = own_daemon(make_daemon, home, memos)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    port = free_port()
    try:
        cli.ok("run", "-d", "--name", "fdlim", "-p", f"{port}:{APP_PORT}", memos.ref)
        assert nofile(d.pid) == (hard, hard)
        pid = int(cli.ok("inspect", "-f", "{{.State.Pid}}", "fdlim").stdout)
        with open(f"/proc/{pid}/status") as f:
            monitor = int(next(l for l in f if l.startswith("PPid:")).split()[1])
        with open(f"/proc/{monitor}/cmdline", "rb") as f:
            assert b"berth-monitor" in f.read()
        assert nofile(monitor) == (hard, hard)
        assert nofile(pid)[0] == 1024
        assert get_page("[::1]", port) == (200, PAGE)
    finally:
        cli.run("rm", "-f", "fdlim")


# --- bind addresses -----------------------------------------------------------------------

def test_default_bind_address_option(make_daemon, memos, home):
    d, cli = own_daemon(make_daemon, home, memos, ["--ip", "127.0.0.1"])
    port = free_port()
    try:
        cli.ok("run", "-d", "--name", "ip-lo", "-p", f"{port}:{APP_PORT}", memos.ref)
        assert get_page("127.0.0.1", port) == (200, PAGE)
        got = no_answer(host_address(), port)
        assert got is True, f"{host_address()}:{port} answered with --ip 127.0.0.1: {got!r}"
        got = no_answer("::1", port)
        assert got is True, f"[::1]:{port} answered with --ip 127.0.0.1: {got!r}"
        assert cli.ok("port", "ip-lo").stdout.strip() == f"{APP_PORT}/tcp -> 127.0.0.1:{port}"
        ins = json.loads(cli.ok("inspect", "ip-lo").stdout)[0]
        assert ins["NetworkSettings"]["Ports"][f"{APP_PORT}/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
        cli.ok("rm", "-f", "ip-lo")
        assert_no_leftovers(d)
    finally:
        cli.run("rm", "-f", "ip-lo")


def test_explicit_loopback_publish(cli, daemon, memos_img, clean):
    port = free_port()
    try:
        cli.ok("run", "-d", "--name", "ip-lo2", "-p", f"127.0.0.1:{port}:{APP_PORT}", memos_img)
        assert get_page("127.0.0.1", port) == (200, PAGE)
        got = no_answer(host_address(), port)
        assert got is True, f"{host_address()}:{port} answered for -p 127.0.0.1:{port}: {got!r}"
        got = no_answer("::1", port)
        assert got is True, f"[::1]:{port} answered for -p 127.0.0.1:{port}: {got!r}"
        assert cli.ok("port", "ip-lo2").stdout.strip() == f"{APP_PORT}/tcp -> 127.0.0.1:{port}"
    finally:
        cli.run("rm", "-f", "ip-lo2")
    assert_no_leftovers(daemon)


# --- the host's firewall ------------------------------------------------------------------

def test_host_firewall_applies_to_published_ports(cli, daemon, memos_img, clean):
    port = free_port()
    ext = netutil.ExternalHost()
    fw = "e2efw" + os.urandom(3).hex()
    try:
        ext.create()
        cli.ok("run", "-d", "--name", "fw-web", "-p", f"{port}:{APP_PORT}", memos_img)
        assert get_page("127.0.0.1", port) == (200, PAGE)

        def fetch():
            return netutil.ns_http_get(ext.ns, ext.host_ip, port, timeout=2)

        got = wait_until(fetch, 15, interval=0.2, what=f"http://{ext.host_ip}:{port}/ from {ext.ns}")
        assert got.startswith(b"HTTP/1.") and got.endswith(PAGE), got

        netutil.nft_apply(f"table inet {fw} {{\n"
                          "  chain forward {\n"
                          "    type filter hook forward priority 0; policy accept;\n"
                          f"    tcp dport {APP_PORT} drop\n"
                          "  }\n}\n")
        assert fetch() is None, "a published port bypassed the host's forward drop rule"
        assert fetch() is None
        # Loopback on the host itself does not go through forward: still served.
        assert get_page("127.0.0.1", port) == (200, PAGE)

        netutil.nft_delete_table("inet", fw)
        got = wait_until(fetch, 10, interval=0.2, what="the page again once the drop table is gone")
        assert got.endswith(PAGE), got
    finally:
        netutil.nft_delete_table("inet", fw)
        ext.remove()
        cli.run("rm", "-f", "fw-web")
    assert not ext.exists()
    assert not netutil._run(["nft", "list", "table", "inet", fw]).returncode == 0
    assert_no_leftovers(daemon)


# --- embedded DNS upstream ----------------------------------------------------------------

def free_udp_port():
    while True:
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def test_embedded_dns_forwards_to_upstream(make_daemon, memos, home, tmp_path):
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.access(dnsmasq, os.X_OK):
        pytest.fail("dnsmasq (dnsmasq-base) is not installed")
    port = free_udp_port()
    log = open(tmp_path / "dnsmasq.log", "wb")
    up = subprocess.Popen([dnsmasq, "--no-daemon", "--keep-in-foreground", f"--port={port}",
                           "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                           "--log-queries", "--address=/upstream.e2e.test/10.9.8.7"],
                          stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    net, cli = "e2e-dnsnet", None
    try:
        def dnsmasq_up():
            assert up.poll() is None, (tmp_path / "dnsmasq.log").read_text()
            return f"127.0.0.1:{port}" in subprocess.run(["ss", "-Hlun"], capture_output=True, text=True).stdout
        wait_until(dnsmasq_up, 10, interval=0.1, what="dnsmasq listening")

        d, cli = own_daemon(make_daemon, home, memos, ["--dns", f"127.0.0.1:{port}"])
        cli.ok("network", "create", net)
        cli.ok("run", "-d", "--name", "dns-a", "--network", net, memos.ref)
        a_ip = ip_on(cli, "dns-a", net)
        p = cli.run("run", "--rm", "--network", net, memos.ref, "sh", "-c",
                    "cat /etc/resolv.conf; echo ---; nslookup upstream.e2e.test 127.0.0.11; echo ---; "
                    "nslookup dns-a 127.0.0.11; echo ---; nslookup nosuch.e2e.test 127.0.0.11; echo rc=$?",
                    timeout=120)
        assert p.returncode == 0, (p.stdout, p.stderr)
        resolv, up_part, a_part, nx_part = p.stdout.split("---\n")
        assert "nameserver 127.0.0.11" in resolv, resolv
        assert re.search(r"Address:\s*10\.9\.8\.7\b", up_part), up_part
        addrs = re.findall(r"Address:\s*(\d+\.\d+\.\d+\.\d+)", a_part)
        assert a_ip in addrs, (a_ip, a_part)
        # The container's name is answered by berthd itself, not forwarded.
        assert "10.9.8.7" not in a_part
        assert "10.9.8.7" not in nx_part and "rc=0" not in nx_part, nx_part
        qlog = (tmp_path / "dnsmasq.log").read_text()
        assert "upstream.e2e.test" in qlog, qlog
        assert not re.search(r"query\[A\] dns-a from", qlog), qlog
        cli.ok("rm", "-f", "dns-a")
        cli.ok("network", "rm", net)
        assert_no_leftovers(d)
    finally:
        if cli:
            cli.run("rm", "-f", "dns-a")
            cli.run("network", "rm", net)
        stop_pid(up.pid, term_timeout=5, proc=up)
        log.close()
