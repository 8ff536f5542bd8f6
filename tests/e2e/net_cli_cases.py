"""Networks, published ports and volumes through a docker-compatible CLI: the tutorial's
`run -d --name memos -p 5555:5230 -v DIR:/var/opt/memos -e CODE=x IMAGE`, then the page on
localhost:5555 and on the host's own address, the data in DIR surviving rm and rmi, the same
with a named volume, containers finding each other by name on a user network, and the bad
input of ports and networks. Shared by test_network_cli.py (berth CLI) and
test_network_docker_cli.py (the real docker CLI); the importing module defines `cli`.

Traffic goes only to 127.0.0.1, the host's own address, and containers in namespaces the
daemon under test made."""

import hashlib
import json
import re
import os
import socket
import subprocess
import time
import urllib.request

import pytest

import imagebuild as ib
import netutil
from conftest import Pushed, berthd_only, is_berthd
from ctrutil import clean  # noqa: F401 - fixture
from e2eutil import free_port, wait_until

from memos_app import APP_CMD, APP_PORT, PAGE, memos_image  # noqa: F401

TUTORIAL_PORT = 5555


@pytest.fixture(scope="session")
def memos(registry):
    im = memos_image()
    digest = registry.client().push_image("e2e/memos", "latest", im)
    return Pushed(registry, "e2e/memos", "latest", im, digest)


@pytest.fixture
def memos_img(daemon, memos):
    r, err = daemon.api.pull(memos.ref, timeout=300)
    assert r.status == 200 and not err, (r, err)
    return memos.ref


def host_address():
    """The host's own non-loopback IPv4 address (what another machine would connect to)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        addr = parts[parts.index("inet") + 1].split("/")[0]
        dev = parts[1]
        if not dev.startswith(("bt", "br-", "berth", "docker", "veth")):
            return addr
    pytest.fail(f"no global IPv4 address on this host:\n{out}")


def http_get(host, port, path="/", timeout=5):
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout) as r:
        return r.status, r.read()


def get_page(host, port, timeout=15):
    """The page, retrying while the app starts (httpd needs a moment after `run -d`)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            return http_get(host, port)
        except OSError as e:
            last = e
            time.sleep(0.1)
    raise AssertionError(f"http://{host}:{port}/ did not answer within {timeout}s: {last}")


def leftovers(daemon):
    return netutil.daemon_leftovers(daemon)


def assert_no_leftovers(daemon):
    try:
        wait_until(lambda: not any(leftovers(daemon).values()), 10, interval=0.2,
                   what="no veth, netns or DNAT rule left")
    except TimeoutError:
        pytest.fail(f"network leftovers: {leftovers(daemon)}")


def rm_f(cli, *names):
    cli.run("rm", "-f", *names)


# --- the tutorial --------------------------------------------------------------------------

def test_tutorial_bind_mount(cli, daemon, memos, memos_img, tmp_path, clean):
    data = tmp_path / "memos"  # missing on purpose: -v creates it, as docker does
    try:
        p = cli.ok("run", "-d", "--name", "memos", "-p", f"{TUTORIAL_PORT}:{APP_PORT}",
                   "-v", f"{data}:/var/opt/memos", "-e", "CODE=x", memos_img)
        cid = p.stdout.strip().splitlines()[-1]
        assert get_page("localhost", TUTORIAL_PORT) == (200, PAGE)
        assert get_page("127.0.0.1", TUTORIAL_PORT) == (200, PAGE)
        assert get_page(host_address(), TUTORIAL_PORT) == (200, PAGE)
        # docker's default binding is every IPv6 address too (berth: the monitor's proxy).
        assert get_page("[::1]", TUTORIAL_PORT) == (200, PAGE)
        # Those requests crossed the container's eth0: stats counts them (docker's NET I/O;
        # the API's "networks" names the interface and leaves lo out).
        net = cli.ok("stats", "--no-stream", "--format", "{{.NetIO}}", "memos", timeout=60).stdout.strip()
        rx, tx = [x.strip() for x in net.split("/")]
        assert re.fullmatch(r"[\d.]+[kMG]?B", rx) and rx != "0B" and tx != "0B", net
        st = daemon.api.get(f"/containers/{cid}/stats?stream=false").json()
        assert list(st.get("networks", {})) == ["eth0"], st.get("networks")
        assert st["networks"]["eth0"]["rx_packets"] > 0 and st["networks"]["eth0"]["tx_bytes"] > 0, st
        log = wait_until(lambda: (data / "memos.log").exists() and (data / "memos.log").read_text(),
                         10, what="the app's file in the bind-mounted dir")
        assert log == "start code=x\n"
        assert cli.ok("port", "memos").stdout.splitlines() == [
            f"{APP_PORT}/tcp -> 0.0.0.0:{TUTORIAL_PORT}", f"{APP_PORT}/tcp -> [::]:{TUTORIAL_PORT}"]
        p = cli.run("port", "memos", "81")
        assert p.returncode == 1 and p.stderr.strip() == "Error: No public port '81' published for memos", p.stderr
        p = cli.run("port", "memos", "http")
        assert p.returncode == 1 and p.stderr.strip() == (
            'Error: invalid port (http): strconv.ParseUint: parsing "http": invalid syntax'), p.stderr
        ps = cli.ok("ps", "--filter", "name=memos", "--format", "{{.Ports}}").stdout
        assert f"0.0.0.0:{TUTORIAL_PORT}->{APP_PORT}/tcp, [::]:{TUTORIAL_PORT}->{APP_PORT}/tcp" in ps, ps
        ins = json.loads(cli.ok("inspect", cid).stdout)[0]
        binding = ins["NetworkSettings"]["Ports"][f"{APP_PORT}/tcp"]
        assert binding == [{"HostIp": "0.0.0.0", "HostPort": str(TUTORIAL_PORT)},
                           {"HostIp": "::", "HostPort": str(TUTORIAL_PORT)}], binding
        assert ins["NetworkSettings"]["Networks"]["bridge"]["IPAddress"], ins["NetworkSettings"]
        mounts = [m for m in ins["Mounts"] if m["Destination"] == "/var/opt/memos"]
        assert mounts and mounts[0]["Type"] == "bind" and mounts[0]["Source"] == str(data), ins["Mounts"]

        # The data survives the container and the image.
        cli.ok("rm", "-f", "memos")
        assert_no_leftovers(daemon)
        cli.ok("rmi", memos_img)
        assert (data / "memos.log").read_text() == "start code=x\n"
        cli.ok("pull", memos_img)
        cli.ok("run", "-d", "--name", "memos", "-p", f"{TUTORIAL_PORT}:{APP_PORT}",
               "-v", f"{data}:/var/opt/memos", "-e", "CODE=y", memos_img)
        assert get_page("localhost", TUTORIAL_PORT) == (200, PAGE)
        wait_until(lambda: (data / "memos.log").read_text() == "start code=x\nstart code=y\n", 10,
                   what="the second start appended to the same file")
    finally:
        rm_f(cli, "memos")


def test_tutorial_named_volume(cli, daemon, memos_img, clean):
    vol = "memos-e2e-data"
    try:
        cli.ok("run", "-d", "--name", "memos-v", "-p", f"{TUTORIAL_PORT}:{APP_PORT}",
               "-v", f"{vol}:/var/opt/memos", "-e", "CODE=v1", memos_img)
        assert get_page("127.0.0.1", TUTORIAL_PORT) == (200, PAGE)
        cli.ok("rm", "-f", "memos-v")
        cli.ok("run", "-d", "--name", "memos-v", "-p", f"{TUTORIAL_PORT}:{APP_PORT}",
               "-v", f"{vol}:/var/opt/memos", "-e", "CODE=v2", memos_img)
        assert get_page("127.0.0.1", TUTORIAL_PORT) == (200, PAGE)

        def both():
            p = cli.run("run", "--rm", "-v", f"{vol}:/d", memos_img, "cat", "/d/memos.log")
            return p.returncode == 0 and p.stdout == "start code=v1\nstart code=v2\n" and p.stdout
        wait_until(both, 10, what="both starts in the named volume")
        # The image's content was copied into the new volume (docker semantics).
        assert cli.ok("run", "--rm", "-v", f"{vol}:/d", memos_img, "cat", "/d/README").stdout == "memos data\n"
    finally:
        rm_f(cli, "memos-v")
        cli.run("volume", "rm", "-f", vol)


# --- user networks -------------------------------------------------------------------------

def test_user_network_names_and_aliases(cli, daemon, memos_img, clean):
    net = "e2e-appnet"
    try:
        cli.ok("network", "create", net)
        cli.ok("run", "-d", "--name", "e2e-web", "--network", net, "--network-alias", "www", memos_img)
        out = cli.ok("run", "--rm", "--network", net, memos_img, "sh", "-c",
                     "cat /etc/resolv.conf; for n in e2e-web www; do "
                     "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://$n:5230/ && break; sleep 0.2; done; done")
        assert "nameserver 127.0.0.11" in out.stdout, out.stdout
        assert out.stdout.count(PAGE.decode()) == 2, out.stdout
        # With --dns the names still resolve: the servers become the embedded DNS's upstreams
        # for this container (docker's rule), 127.0.0.11 stays the nameserver.
        out = cli.ok("run", "--rm", "--network", net, "--dns", "192.0.2.53", "--dns-search", "e2e.test",
                     memos_img, "sh", "-c",
                     "cat /etc/resolv.conf; for i in 1 2 3 4 5 6 7 8 9 10; do "
                     "wget -qO- http://e2e-web:5230/ && break; sleep 0.2; done")
        assert "nameserver 127.0.0.11" in out.stdout and "192.0.2.53" not in out.stdout, out.stdout
        assert "search e2e.test" in out.stdout and PAGE.decode() in out.stdout, out.stdout
        # Aliases are what the create asked for; the short id is a DNS name, and clients of API
        # < 1.45 see it among the aliases too, as docker shows them.
        short = cli.ok("inspect", "-f", "{{.Id}}", "e2e-web").stdout.strip()[:12]
        versions = ("1.41", "1.45") if is_berthd() else ("1.41",)  # dockerd 20.10 stops at 1.41
        eps = {v: daemon.api.get(f"/v{v}/containers/e2e-web/json").json()["NetworkSettings"]["Networks"][net]
               for v in versions}
        assert sorted(eps["1.41"]["Aliases"]) == sorted(["www", short]), eps["1.41"]
        if "1.45" in eps:
            assert eps["1.45"]["Aliases"] == ["www"], eps["1.45"]
            assert {"e2e-web", "www", short} <= set(eps["1.45"]["DNSNames"]), eps["1.45"]
        # A rename changes the running container's DNS name at once, as with docker.
        cli.ok("rename", "e2e-web", "e2e-web2")
        out = cli.ok("run", "--rm", "--network", net, memos_img, "sh", "-c",
                     "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://e2e-web2:5230/ && break; sleep 0.2; done;"
                     " nslookup e2e-web 127.0.0.11 >/dev/null 2>&1 && echo old-resolves || echo old-gone")
        assert PAGE.decode() in out.stdout and "old-gone" in out.stdout, out.stdout
        cli.ok("rename", "e2e-web2", "e2e-web")
        ins = json.loads(cli.ok("network", "inspect", net).stdout)[0]
        assert ins["Name"] == net and ins["Driver"] == "bridge", ins
        assert len(ins["Containers"]) == 1, ins["Containers"]
        assert [c["Name"] for c in ins["Containers"].values()] == ["e2e-web"], ins["Containers"]
        assert net in cli.ok("network", "ls", "--format", "{{.Name}}").stdout.split()
        # In use: refused, nothing removed.
        p = cli.run("network", "rm", net)
        assert p.returncode != 0 and "active endpoints" in p.stderr, p.stderr
        assert net in cli.ok("network", "ls", "--format", "{{.Name}}").stdout.split()
        # The default bridge has no name resolution (as docker's).
        p = cli.run("run", "--rm", memos_img, "sh", "-c", "timeout 2 wget -qO- http://e2e-web:5230/; echo rc=$?")
        assert "rc=" in p.stdout and "rc=0" not in p.stdout and PAGE.decode() not in p.stdout, p.stdout
    finally:
        rm_f(cli, "e2e-web")
        cli.run("network", "rm", net)
    assert_no_leftovers(daemon)


def test_links(cli, daemon, memos_img, clean):
    # docker's legacy --link: on the default bridge an /etc/hosts line and the ALIAS_* env of
    # the linked container's current run; on a user network an alias only the linking
    # container resolves.
    net = "e2e-linknet"
    try:
        cli.ok("run", "-d", "--name", "e2e-db", "--expose", "5432", "-e", "DB_MODE=test", memos_img)
        db_ip = cli.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "e2e-db").stdout.strip()
        db_host = cli.ok("inspect", "-f", "{{.Config.Hostname}}", "e2e-db").stdout.strip()
        out = cli.ok("run", "--rm", "--name", "e2e-app", "--link", "e2e-db:pg", memos_img, "sh", "-c",
                     "grep -w pg /etc/hosts; env | grep ^PG_ | sort; "
                     "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://pg:5230/ && break; sleep 0.2; done").stdout
        lines = out.splitlines()
        assert lines[0] == f"{db_ip}\tpg {db_host} e2e-db", out
        env = set(lines[1:])
        for want in (f"PG_PORT=tcp://{db_ip}:5230", f"PG_PORT_5432_TCP=tcp://{db_ip}:5432",
                     f"PG_PORT_5432_TCP_ADDR={db_ip}", "PG_PORT_5432_TCP_PORT=5432",
                     "PG_PORT_5432_TCP_PROTO=tcp", "PG_NAME=/e2e-app/pg", "PG_ENV_DB_MODE=test"):
            assert want in env, (want, out)
        assert PAGE.decode() in out, out
        cli.ok("create", "--name", "e2e-linker", "--link", "e2e-db:pg", memos_img)
        links = json.loads(cli.ok("inspect", "-f", "{{json .HostConfig.Links}}", "e2e-linker").stdout)
        assert links == ["/e2e-db:/e2e-linker/pg"], links
        for args, words in ((("--link", "e2e-nosuch:x"), "could not get container for e2e-nosuch"),
                            (("--network", "host", "--link", "e2e-db"), "host type networking"),
                            (("--link", "a:b:c"), "bad format for links: a:b:c")):
            p = cli.run("run", "--rm", *args, memos_img, "true")
            assert p.returncode == 125 and words in p.stderr, (args, p.stderr)
        # The linked container must be running when the linking one starts.
        cli.ok("stop", "-t", "1", "e2e-db")
        p = cli.run("start", "e2e-linker")
        assert p.returncode != 0 and "Cannot link to a non running container: /e2e-db AS /e2e-linker/pg" in p.stderr, p.stderr
        cli.ok("rm", "e2e-linker")
        cli.ok("start", "e2e-db")
        # User network: the alias is the linking container's only.
        cli.ok("network", "create", net)
        cli.ok("network", "connect", net, "e2e-db")
        script = "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://pg:5230/ && break; sleep 0.2; done; echo end"
        out = cli.ok("run", "--rm", "--network", net, "--link", "e2e-db:pg", memos_img, "sh", "-c", script).stdout
        assert PAGE.decode() in out, out
        p = cli.run("run", "--rm", "--network", net, memos_img, "sh", "-c", "timeout 2 wget -qO- http://pg:5230/; echo rc=$?")
        assert "rc=0" not in p.stdout and PAGE.decode() not in p.stdout, p.stdout
    finally:
        for n in ("e2e-app", "e2e-linker", "e2e-db"):
            rm_f(cli, n)
        cli.run("network", "rm", net)
    assert_no_leftovers(daemon)


def test_network_connect_link(cli, daemon, memos_img, clean):
    # `network connect --link NAME:ALIAS` (EndpointSettings.Links): ALIAS resolves to NAME on
    # that network, for the connected container only; inspect shows the link as given. The
    # container starts on a user network (net2), so it has the embedded DNS.
    net, net2 = "e2e-connlink", "e2e-connlink2"
    try:
        cli.ok("network", "create", net)
        cli.ok("network", "create", net2)
        cli.ok("run", "-d", "--name", "e2e-cdb", "--network", net, memos_img)
        cli.ok("run", "-d", "--name", "e2e-cweb", "--network", net2, memos_img, "sleep", "300")
        cli.ok("network", "connect", "--link", "e2e-cdb:store", net, "e2e-cweb")
        nets = json.loads(cli.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}", "e2e-cweb").stdout)
        assert nets[net]["Links"] == ["e2e-cdb:store"], nets[net]
        assert nets[net2]["Links"] is None, nets[net2]
        script = "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://store:5230/ && break; sleep 0.2; done; echo end"
        out = cli.ok("exec", "e2e-cweb", "sh", "-c", script).stdout
        assert PAGE.decode() in out, out
        p = cli.run("run", "--rm", "--network", net, memos_img, "sh", "-c",
                    "timeout 2 wget -qO- http://store:5230/; echo rc=$?")
        assert "rc=0" not in p.stdout and PAGE.decode() not in p.stdout, p.stdout
        if is_berthd():
            # The default bridge has no DNS for a link to live in (dockerd 20.10 takes the link
            # and does nothing with it).
            p = cli.run("network", "connect", "--link", "e2e-cdb:x", "bridge", "e2e-cweb")
            assert p.returncode != 0 and "links are only supported for user-defined networks" in p.stderr, p.stderr
        p = cli.run("network", "connect", "--link", "a:b:c", net2, "e2e-cdb")
        assert p.returncode != 0, p.stderr
    finally:
        for n in ("e2e-cweb", "e2e-cdb"):
            rm_f(cli, n)
        cli.run("network", "rm", net)
        cli.run("network", "rm", net2)
    assert_no_leftovers(daemon)


def test_network_connect_disconnect(cli, daemon, memos_img, clean):
    net = "e2e-connet"
    try:
        cli.ok("network", "create", "--subnet", "10.231.0.0/24", net)
        cli.ok("run", "-d", "--name", "e2e-conn", memos_img)
        cli.ok("network", "connect", "--alias", "later", net, "e2e-conn")
        ins = json.loads(cli.ok("inspect", "e2e-conn").stdout)[0]
        nets = ins["NetworkSettings"]["Networks"]
        assert set(nets) == {"bridge", net}, nets
        assert nets[net]["IPAddress"].startswith("10.231.0."), nets[net]
        out = cli.ok("run", "--rm", "--network", net, "--ip", "10.231.0.77", memos_img, "sh", "-c",
                     "ip -4 addr show eth0; for i in 1 2 3 4 5 6 7 8 9 10; do "
                     "wget -qO- http://later:5230/ && break; sleep 0.2; done").stdout
        assert "10.231.0.77/24" in out and PAGE.decode() in out, out
        cli.ok("network", "disconnect", net, "e2e-conn")
        nets = json.loads(cli.ok("inspect", "e2e-conn").stdout)[0]["NetworkSettings"]["Networks"]
        assert set(nets) == {"bridge"}, nets
    finally:
        rm_f(cli, "e2e-conn")
        cli.run("network", "rm", net)
    assert_no_leftovers(daemon)


def test_network_ip_range_and_aux_addresses(cli, daemon, memos_img, clean):
    """--ip-range gives containers their addresses, --aux-address holds addresses back (from
    both), --ipam-opt is kept; the CLI's and the daemon's checks refuse what does not fit."""
    net = "e2e-ranged"
    try:
        cli.ok("network", "create", "--subnet", "10.77.0.0/24", "--ip-range", "10.77.0.128/25",
               "--aux-address", "r=10.77.0.129", "--aux-address", "s=10.77.0.5", "--ipam-opt", "foo=bar", net)
        ipam = json.loads(cli.ok("network", "inspect", "-f", "{{json .IPAM}}", net).stdout)
        cfg = ipam["Config"][0]
        assert (cfg["Subnet"], cfg["IPRange"], cfg["AuxiliaryAddresses"]) == \
            ("10.77.0.0/24", "10.77.0.128/25", {"r": "10.77.0.129", "s": "10.77.0.5"}), ipam
        assert ipam["Options"] == {"foo": "bar"}, ipam
        cli.ok("run", "-d", "--name", "e2e-rng1", "--network", net, memos_img, "sleep", "300")
        ip = cli.ok("inspect", "-f", "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % net,
                    "e2e-rng1").stdout.strip()
        assert ip == "10.77.0.130", ip  # in the range, past the aux-held .129
        # A static address may be outside the range but not on an aux one.
        cli.ok("run", "-d", "--name", "e2e-rng2", "--network", net, "--ip", "10.77.0.9", memos_img, "sleep", "300")
        p = cli.run("run", "-d", "--name", "e2e-rng3", "--network", net, "--ip", "10.77.0.5", memos_img, "true")
        assert p.returncode == 125 and "Address already in use" in p.stderr, p
        for args, want in (
                (["--subnet", "10.78.0.0/24", "--ip-range", "10.79.0.0/25"], "no matching subnet for range 10.79.0.0/25"),
                (["--subnet", "10.78.0.0/24", "--ip-range", "bogus"], "invalid CIDR address: bogus"),
                (["--subnet", "10.78.0.0/24", "--aux-address", "a=10.9.9.5"], "no matching subnet for aux-address 10.9.9.5"),
                (["--subnet", "10.78.0.0/24", "--aux-address", "a=10.78.0.1"],
                 "failed to allocate secondary ip address (a:10.78.0.1): Address already in use"),
                (["--subnet", "10.78.0.0/24", "--subnet", "10.78.0.0/25"],
                 "multiple overlapping subnet configuration is not supported")):
            p = cli.run("network", "create", *args, "e2e-badrange")
            assert p.returncode == 1 and want in p.stderr, (args, p)
        assert cli.run("network", "inspect", "e2e-badrange").returncode != 0
        if is_berthd():
            # Not berth's: refused by name rather than made as a plain bridge network.
            for args, want in ((["--ipv4=false"], "berth's networks are IPv4 only"),
                               (["--config-only"], "configuration-only networks"),
                               (["--scope", "swarm"], "swarm is not active")):
                p = cli.run("network", "create", *args, "e2e-notours")
                assert p.returncode == 1 and want in p.stderr, (args, p)
            assert cli.run("network", "inspect", "e2e-notours").returncode != 0
    finally:
        rm_f(cli, "e2e-rng1", "e2e-rng2", "e2e-rng3")
        cli.run("network", "rm", net)


def test_network_inspect_member_order(cli, daemon, clean):
    """`network inspect` prints the daemon's JSON as sent: docker's struct order."""
    net = "e2e-ordnet"
    try:
        cli.ok("network", "create", "--subnet", "10.233.0.0/24", "--ip-range", "10.233.0.128/25",
               "--gateway", "10.233.0.1", "-o", "b=2", "-o", "a=1", net)
        out = cli.ok("network", "inspect", net).stdout
        ins = json.loads(out, object_pairs_hook=lambda pairs: pairs)[0]
        keys = [k for k, _ in ins]
        want = ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv6", "IPAM", "Internal",
                "Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Containers", "Options",
                "Labels"]
        assert [k for k in keys if k in want] == want, keys
        ipam = dict(ins)["IPAM"]
        assert [k for k, _ in ipam] == ["Driver", "Options", "Config"], ipam
        assert [k for k, _ in dict(ipam)["Config"][0]] == ["Subnet", "IPRange", "Gateway"], ipam
        assert [k for k, _ in dict(ins)["Options"]] == ["a", "b"], ins  # a map: sorted
    finally:
        cli.run("network", "rm", net)


def test_builtin_host_and_none_networks_list_their_containers(cli, daemon, memos_img, clean):
    """docker lists running containers on the host and none networks and sends their network
    connect/disconnect events (type host / null), though they hold no endpoint."""
    since = str(int(time.time()) - 1)
    try:
        ids = {mode: cli.ok("run", "-d", "--name", f"e2e-on-{mode}", "--network", mode, memos_img,
                            "sleep", "300").stdout.strip() for mode in ("none", "host")}
        for mode, cid in ids.items():
            net = json.loads(cli.ok("network", "inspect", mode).stdout)[0]
            assert cid in net["Containers"], net
            assert net["Containers"][cid]["Name"] == f"e2e-on-{mode}", net["Containers"]
            other = "host" if mode == "none" else "none"
            assert ids[other] not in net["Containers"], net
        cli.ok("stop", "-t", "0", *[f"e2e-on-{m}" for m in ids])
        net = json.loads(cli.ok("network", "inspect", "none").stdout)[0]
        assert ids["none"] not in net["Containers"], net  # running ones only
        until = str(int(time.time()) + 1)
        wait_until(lambda: time.time() >= int(until), timeout=5)
        out = cli.ok("events", "--since", since, "--until", until, "--filter", "type=network",
                     "--format", "{{json .}}").stdout
        seen = {}
        for e in map(json.loads, out.splitlines()):
            a = e["Actor"]["Attributes"]
            seen.setdefault((a.get("container"), a.get("name"), a.get("type")), []).append(e["Action"])
        assert seen.get((ids["none"], "none", "null")) == ["connect", "disconnect"], seen
        assert seen.get((ids["host"], "host", "host")) == ["connect", "disconnect"], seen
    finally:
        rm_f(cli, "e2e-on-none", "e2e-on-host")


def test_ipv6_and_link_local_addresses_refused(cli, daemon, memos_img, clean):
    """berth's networks are IPv4 only and its endpoints have no extra addresses: `--ip6` and
    `--link-local-ip` are refused by name at run and at connect, never dropped, and leave no
    container behind."""
    berthd_only("dockerd gives IPv6 subnets and link-local addresses")
    net = "e2e-v4only"
    try:
        cli.ok("network", "create", net)
        before = cli.ok("ps", "-aq").stdout.split()
        p = cli.run("run", "--rm", "--network", net, "--ip6", "fd00::5", memos_img, "true")
        assert p.returncode == 125, p
        assert f"user specified IPv6 address fd00::5 cannot be given on network {net}" in p.stderr, p.stderr
        p = cli.run("run", "--rm", "--network", net, "--link-local-ip", "169.254.1.1", memos_img, "true")
        assert p.returncode == 125 and "link-local IPs (--link-local-ip) are not supported" in p.stderr, p.stderr
        assert cli.ok("ps", "-aq").stdout.split() == before
        cli.ok("run", "-d", "--name", "e2e-v4", memos_img, "sleep", "300")
        p = cli.run("network", "connect", "--ip6", "fd00::6", net, "e2e-v4")
        assert p.returncode == 1 and "berth's networks are IPv4 only" in p.stderr, p.stderr
        nets = cli.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}", "e2e-v4").stdout
        assert net not in nets, nets
    finally:
        cli.run("rm", "-f", "e2e-v4")
        cli.run("network", "rm", net)


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("spec,words", [
    ("abc", "invalid containerPort: abc"),
    ("70000:80", "invalid hostPort: 70000"),
    ("1.2.3:80:80", "invalid IP address"),
    ("80/icmp", "invalid proto: icmp"),
])
def test_bad_port_specs(cli, daemon, memos_img, spec, words, clean):
    p = cli.run("run", "-d", "--name", "e2e-badport", "-p", spec, memos_img)
    assert p.returncode != 0 and words.lower() in p.stderr.lower(), p.stderr
    assert "e2e-badport" not in cli.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_host_port_in_use(cli, daemon, memos_img, clean):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        p = cli.run("run", "-d", "--name", "e2e-busy", "-p", f"{port}:{APP_PORT}", memos_img)
        assert p.returncode != 0, p.stdout
        assert str(port) in p.stderr and "already" in p.stderr, p.stderr
        st = cli.run("inspect", "--format", "{{.State.Status}}", "e2e-busy").stdout.strip()
        assert st in ("", "created"), st
        assert_no_leftovers(daemon)
    finally:
        s.close()
        rm_f(cli, "e2e-busy")


def test_network_ls_json(cli):
    """`network ls --format json`: docker 28's keys, CreatedAt as Go prints a time (both CLIs
    print the same rows)."""
    rows = [json.loads(l) for l in cli.ok("network", "ls", "--format", "json").stdout.splitlines()]
    assert {r["Name"] for r in rows} >= {"bridge", "host", "none"}, rows
    for r in rows:
        assert set(r) == {"CreatedAt", "Driver", "ID", "IPv4", "IPv6", "Internal", "Labels", "Name",
                          "Scope"}, r
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC", r["CreatedAt"]), r
    out = cli.ok("network", "ls", "--format", "table {{.Name}}\t{{.IPv4}}\t{{.IPv6}}").stdout.splitlines()
    assert out[0].split() == ["NAME", "IPV4", "IPV6"], out


def test_inspect_finds_networks_and_volumes(cli):
    """`inspect` without --type also finds networks and volumes, after containers and images."""
    cli.ok("volume", "create", "e2e-insp-vol")
    try:
        assert cli.ok("inspect", "-f", "{{.Name}}", "bridge", "e2e-insp-vol").stdout.split() == [
            "bridge", "e2e-insp-vol"]
        assert cli.ok("inspect", "--type", "network", "-f", "{{.Driver}}", "bridge").stdout.strip() == "bridge"
        p = cli.run("inspect", "--type", "volume", "bridge")
        assert p.returncode == 1 and "no such volume" in p.stderr, p.stderr
        p = cli.run("inspect", "--type", "bogus", "bridge")
        assert p.returncode != 0 and 'unknown type: "bogus": must be one of' in p.stderr, p.stderr
        p = cli.run("inspect", "e2e-insp-none")
        assert p.returncode == 1 and p.stderr.strip() == "Error: No such object: e2e-insp-none", p.stderr
    finally:
        cli.run("volume", "rm", "e2e-insp-vol")


def test_system_df_verbose(cli, daemon, memos_img, clean):
    """`system df -v` lists containers and volumes; `--format json` is docker 28's one object."""
    cli.ok("run", "-d", "--name", "df-c", "-v", "e2e-df-vol:/d", memos_img)
    try:
        out = cli.ok("system", "df", "-v").stdout
        sect = out.split("Containers space usage:")[1].split("Local Volumes space usage:")[0]
        rows = [line for line in sect.splitlines() if line.strip()]
        assert rows[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "LOCAL", "VOLUMES", "SIZE",
                                   "CREATED", "STATUS", "NAMES"], rows
        assert any(line.split()[-1] == "df-c" for line in rows[1:]), sect
        assert re.search(r"^e2e-df-vol\s+1\s+", out.split("Local Volumes space usage:")[1], re.M), out
        j = json.loads(cli.ok("system", "df", "-v", "--format", "json").stdout)
        assert list(j) == ["Images", "Containers", "Volumes", "BuildCache"], list(j)
        c = next(x for x in j["Containers"] if x["Names"] == "df-c")
        assert len(c["ID"]) == 64 and c["LocalVolumes"] == "1" and c["State"] == "running", c
        v = next(x for x in j["Volumes"] if x["Name"] == "e2e-df-vol")
        assert v["Links"] == "1" and v["Status"] == "N/A", v
    finally:
        cli.run("rm", "-f", "df-c")
        cli.run("volume", "rm", "e2e-df-vol")


def test_network_bad_input(cli, daemon, memos_img, clean):
    p = cli.run("network", "create", "a/b")
    assert p.returncode != 0 and "invalid" in p.stderr.lower(), p.stderr
    cli.ok("network", "create", "--subnet", "10.232.0.0/16", "e2e-ov1")
    try:
        p = cli.run("network", "create", "--subnet", "10.232.5.0/24", "e2e-ov2")
        assert p.returncode != 0 and "overlaps" in p.stderr, p.stderr
        p = cli.run("network", "create", "e2e-ov1")
        assert p.returncode != 0 and "already exists" in p.stderr, p.stderr
        p = cli.run("run", "-d", "--name", "e2e-nonet", "--network", "e2e-nosuch", memos_img)
        assert p.returncode != 0 and "e2e-nosuch not found" in p.stderr, p.stderr
        # Not a 404 from create: docker's CLI would take it for a missing image and pull.
        assert "Unable to find image" not in p.stderr, p.stderr
        p = cli.run("run", "-d", "--name", "e2e-badip", "--network", "e2e-ov1", "--ip", "10.99.0.5", memos_img)
        assert p.returncode != 0 and "10.99.0.5" in p.stderr, p.stderr
        p = cli.run("network", "rm", "bridge")
        assert p.returncode != 0 and "pre-defined" in p.stderr, p.stderr
        # IPv6 host addresses are relayed for TCP and UDP only.
        p = cli.run("run", "-d", "--name", "e2e-v6port", "-p", "[::1]:18053:53/sctp", memos_img)
        assert p.returncode != 0 and "port 53/sctp on the IPv6 address ::1" in p.stderr, p.stderr
        assert "e2e-v6port" not in cli.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()
        p = cli.run("network", "rm", "e2e-nosuch")
        assert p.returncode == 1, p.returncode
        assert p.stderr.startswith("Error response from daemon: network e2e-nosuch not found\n"), p.stderr
        names = cli.ok("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert "e2e-ov2" not in names and "bridge" in names, names
    finally:
        rm_f(cli, "e2e-nonet", "e2e-badip")
        cli.run("network", "rm", "e2e-ov1")
    assert_no_leftovers(daemon)


def v6_refused(port):
    """True when nothing accepts on [::1]:port."""
    try:
        socket.create_connection(("::1", port), 2).close()
        return False
    except OSError:
        return True


def test_ipv6_host_address(cli, daemon, memos_img, clean):
    """-p [::1]:P:80 — IPv6 only, served by the monitor's proxy: the page on [::1], nothing on
    127.0.0.1; the port goes with the container's end and comes back with its start (after the
    proxied connections left TIME_WAIT entries on it); a port in use is refused by name."""
    port = free_port()
    try:
        cli.ok("run", "-d", "--name", "e2e-v6", "-p", f"[::1]:{port}:{APP_PORT}", memos_img)
        assert get_page("[::1]", port) == (200, PAGE)
        assert cli.ok("port", "e2e-v6").stdout.splitlines() == [f"{APP_PORT}/tcp -> [::1]:{port}"]
        try:
            socket.create_connection(("127.0.0.1", port), 2).close()
            pytest.fail(f"127.0.0.1:{port} answers; only [::1] was published")
        except OSError:
            pass
        # A body larger than the relay's buffers and the sockets' queues, byte for byte.
        made = cli.ok("exec", "e2e-v6", "sh", "-c",
                      "head -c 3145728 /dev/urandom > /www/big && md5sum /www/big").stdout.split()[0]
        status, data = http_get("[::1]", port, "/big", timeout=30)
        assert status == 200 and len(data) == 3145728 and hashlib.md5(data).hexdigest() == made
        p = cli.run("run", "-d", "--name", "e2e-v6b", "-p", f"[::1]:{port}:{APP_PORT}", memos_img)
        assert p.returncode != 0 and f"[::1]:{port}/tcp" in p.stderr and "already in use" in p.stderr, p.stderr
        for _ in range(2):
            cli.ok("stop", "-t", "1", "e2e-v6")
            assert v6_refused(port), f"[::1]:{port} still answers after the stop"
            cli.ok("start", "e2e-v6")
            assert get_page("[::1]", port) == (200, PAGE)
    finally:
        rm_f(cli, "e2e-v6", "e2e-v6b")
    assert v6_refused(port), f"[::1]:{port} still answers after the container is gone"
    assert_no_leftovers(daemon)


UDP_ECHO = ("import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.bind(('0.0.0.0', 5353))\n"
            "while True:\n"
            "    d, a = s.recvfrom(65536)\n"
            "    s.sendto(b're:' + d, a)\n")


def udp_ask(family, host, port, msg, timeout=15):
    """Sends msg until an answer comes (the server needs a moment after `run -d`)."""
    deadline = time.monotonic() + timeout
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        while time.monotonic() < deadline:
            s.sendto(msg, (host, port))
            try:
                return s.recvfrom(65536)[0]
            except OSError:
                continue
    return None


def test_udp_published_on_ipv4_and_ipv6(cli, daemon, memos_img, clean):
    """-p P:5353/udp: IPv4 by NAT, IPv6 by the monitor's relay, each client its own answers.
    The server is the host's python3, bind-mounted read-only (busybox has no UDP server)."""
    port = free_port()
    try:
        cli.ok("run", "-d", "--name", "e2e-udp", "-p", f"{port}:5353/udp",
               "-v", "/usr:/usr:ro", "-v", "/lib:/lib:ro", "-v", "/lib64:/lib64:ro",
               memos_img, "/usr/bin/python3", "-c", UDP_ECHO)
        assert udp_ask(socket.AF_INET, "127.0.0.1", port, b"v4") == b"re:v4"
        assert udp_ask(socket.AF_INET6, "::1", port, b"v6") == b"re:v6"
        assert udp_ask(socket.AF_INET6, "::1", port, b"x" * 30000) == b"re:" + b"x" * 30000
        assert cli.ok("port", "e2e-udp").stdout.splitlines() == [
            f"5353/udp -> 0.0.0.0:{port}", f"5353/udp -> [::]:{port}"]
    finally:
        rm_f(cli, "e2e-udp")
    assert udp_ask(socket.AF_INET6, "::1", port, b"gone", timeout=1) is None
    assert_no_leftovers(daemon)


def test_hosts_dns_and_mac_flags(cli, daemon, memos_img, clean):
    gw = json.loads(cli.ok("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0]["Gateway"]
    out = cli.ok("run", "--rm", "--add-host", "db.e2e:10.1.2.3", "--add-host", "gw.e2e:host-gateway",
                 "--dns", "192.0.2.53", "--dns-search", "e2e.test", "--dns-option", "ndots:3",
                 "--mac-address", "02:42:0a:0b:0c:0d", memos_img, "sh", "-c",
                 "cat /etc/hosts /etc/resolv.conf; ip link show eth0").stdout
    assert re.search(r"^10\.1\.2\.3\s+db\.e2e$", out, re.M), out
    assert re.search(rf"^{re.escape(gw)}\s+gw\.e2e$", out, re.M), out
    assert "nameserver 192.0.2.53" in out and "search e2e.test" in out and "ndots:3" in out, out
    assert "02:42:0a:0b:0c:0d" in out, out
    p = cli.run("run", "--rm", "--add-host", "bad", memos_img, "true")
    assert p.returncode != 0 and "add-host" in p.stderr, p.stderr
