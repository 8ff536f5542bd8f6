"""docker-py's network API (Debian's python3-docker) against the module's daemon: networks.create
with an IPAM subnet and gateway, containers.run(detach, ports, network), NetworkSettings after
reload, api.port(), networks.get().connect (aliases, a fixed IPv4 address) / disconnect,
containers finding each other by name and alias, networks.list filters, networks.prune, and the
errors docker-py raises for bad requests (404 unknown network or container, 409 name taken,
403 removing a predefined network or disconnecting what is not connected).

Traffic goes only to 127.0.0.1 and containers of the daemon under test."""

import ipaddress
import os

import docker
import pytest

from conftest import is_berthd
from e2eutil import free_port, wait_until
from net_cli_cases import APP_PORT, PAGE, assert_no_leftovers, get_page, memos, memos_img  # noqa: F401

# A /24 picked at random in 10.234.0.0/16 so parallel daemons of other suites do not overlap.
SUBNET = ipaddress.ip_network(f"10.234.{int.from_bytes(os.urandom(1), 'big')}.0/24")
GATEWAY = str(SUBNET.network_address + 1)
FIXED_IP = str(SUBNET.network_address + 50)


@pytest.fixture(scope="module")
def client(daemon):
    c = docker.DockerClient(base_url=daemon.host, version="auto", timeout=120)
    yield c
    c.close()


@pytest.fixture
def nclean(client, daemon):
    """After the test: every container, then every network but the predefined ones."""
    yield client
    for c in client.containers.list(all=True):
        try:
            c.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
    for n in client.networks.list():
        if n.name not in ("bridge", "host", "none"):
            try:
                n.remove()
            except docker.errors.APIError:
                pass
    if is_berthd():
        assert_no_leftovers(daemon)


def fetch_from(container, target):
    """wget http://target:5230/ inside `container` (retried ~5 s; no `wget -T`: Debian's static
    busybox 1.35 segfaults on it)."""
    r = container.exec_run(["sh", "-c", f"for i in $(seq 25); do timeout 5 wget -qO- http://{target}:{APP_PORT}/ "
                                        "&& exit 0; sleep 0.2; done; exit 1"])
    return r.exit_code, r.output


def test_create_run_connect_disconnect(client, memos_img, nclean):
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=str(SUBNET), gateway=GATEWAY)])
    net = client.networks.create("py-net", driver="bridge", ipam=ipam, labels={"e2e": "py"},
                                 check_duplicate=True)
    assert len(net.id) == 64 and net.name == "py-net"
    net.reload()
    assert net.attrs["Driver"] == "bridge" and net.attrs["Labels"] == {"e2e": "py"}, net.attrs
    cfg = net.attrs["IPAM"]["Config"]
    assert cfg and cfg[0]["Subnet"] == str(SUBNET) and cfg[0]["Gateway"] == GATEWAY, net.attrs["IPAM"]
    assert client.networks.get("py-net").id == net.id
    assert client.networks.get(net.id[:12]).id == net.id
    assert [n.name for n in client.networks.list(names=["py-net"])] == ["py-net"]
    assert [n.id for n in client.networks.list(filters={"label": "e2e=py"})] == [net.id]
    assert {"bridge", "host", "none", "py-net"} <= {n.name for n in client.networks.list()}

    port = free_port()
    web = client.containers.run(memos_img, detach=True, name="py-web", ports={f"{APP_PORT}/tcp": port},
                                network="py-net")
    web.reload()
    ns = web.attrs["NetworkSettings"]
    assert set(ns["Networks"]) == {"py-net"}, ns["Networks"]
    ep = ns["Networks"]["py-net"]
    assert ipaddress.ip_address(ep["IPAddress"]) in SUBNET and ep["IPAddress"] != GATEWAY, ep
    assert ep["Gateway"] == GATEWAY and ep["IPPrefixLen"] == 24 and ep["NetworkID"] == net.id, ep
    # docker's default binding: every IPv4 and every IPv6 address, on one port.
    both = [{"HostIp": "0.0.0.0", "HostPort": str(port)}, {"HostIp": "::", "HostPort": str(port)}]
    assert ns["Ports"][f"{APP_PORT}/tcp"] == both, ns["Ports"]
    assert web.attrs["HostConfig"]["NetworkMode"] == "py-net"
    assert client.api.port(web.id, APP_PORT) == both
    assert get_page("[::1]", port) == (200, PAGE)
    assert get_page("127.0.0.1", port) == (200, PAGE)
    net.reload()
    assert [c.name for c in net.containers] == ["py-web"]

    # A container on the default bridge joins py-net with an alias, then with a fixed address.
    peer = client.containers.run(memos_img, detach=True, name="py-peer")
    net.connect(peer, aliases=["peer-alias"])
    peer.reload()
    nets = peer.attrs["NetworkSettings"]["Networks"]
    assert set(nets) == {"bridge", "py-net"}, nets
    assert ipaddress.ip_address(nets["py-net"]["IPAddress"]) in SUBNET
    assert "peer-alias" in (nets["py-net"].get("Aliases") or []), nets["py-net"]
    # The embedded DNS answers py-net's names to the joined container (its resolv.conf is
    # test_connect_gives_embedded_dns's business).
    r = peer.exec_run(["nslookup", "py-web", "127.0.0.11"])
    assert r.exit_code == 0 and ep["IPAddress"] in r.output.decode(), r.output
    code, out = fetch_from(web, "peer-alias")
    assert code == 0 and out == PAGE, out
    code, out = fetch_from(web, "py-peer")
    assert code == 0 and out == PAGE, out
    net.reload()
    assert sorted(c.name for c in net.containers) == ["py-peer", "py-web"]

    net.disconnect(peer)
    peer.reload()
    assert set(peer.attrs["NetworkSettings"]["Networks"]) == {"bridge"}
    r = web.exec_run(["sh", "-c", "nslookup peer-alias 127.0.0.11 >/dev/null 2>&1; echo $?"])
    assert r.output.strip() != b"0", r.output
    net.connect(peer.id, ipv4_address=FIXED_IP)
    peer.reload()
    assert peer.attrs["NetworkSettings"]["Networks"]["py-net"]["IPAddress"] == FIXED_IP
    r = peer.exec_run(["ip", "-4", "addr"])
    assert f"{FIXED_IP}/24" in r.output.decode(), r.output
    code, out = fetch_from(web, "py-peer")
    assert code == 0 and out == PAGE, out

    # In use: refused, still there.
    with pytest.raises(docker.errors.APIError) as e:
        net.remove()
    assert e.value.status_code in (403, 409) and "active endpoints" in str(e.value), e.value
    web.remove(force=True)
    peer.remove(force=True)
    net.remove()
    with pytest.raises(docker.errors.NotFound):
        client.networks.get("py-net")


def test_connect_gives_embedded_dns(client, memos_img, nclean):
    net = client.networks.create("py-dnsnet")
    web = client.containers.run(memos_img, detach=True, name="py-dnsweb", network="py-dnsnet")
    peer = client.containers.run(memos_img, detach=True, name="py-dnspeer")
    assert b"127.0.0.11" not in peer.exec_run(["cat", "/etc/resolv.conf"]).output
    net.connect(peer)
    try:
        resolv = peer.exec_run(["cat", "/etc/resolv.conf"]).output.decode()
        assert "nameserver 127.0.0.11" in resolv, resolv
        code, out = fetch_from(peer, "py-dnsweb")
        assert code == 0 and out == PAGE, out
    finally:
        web.remove(force=True)
        peer.remove(force=True)
        net.remove()


def test_prune(client, memos_img, nclean):
    used = client.networks.create("py-used", labels={"e2e": "prune"})
    unused = client.networks.create("py-unused", labels={"e2e": "prune"})
    client.networks.create("py-other")
    client.containers.run(memos_img, detach=True, name="py-user", network="py-used")
    # until (created at or before: a duration back from now) and label! narrow it.
    res = client.networks.prune(filters={"until": "1h"})
    assert not res.get("NetworksDeleted"), res
    res = client.networks.prune(filters={"label!": "e2e=prune", "until": "0s"})
    assert res.get("NetworksDeleted") == ["py-other"], res
    client.networks.create("py-other")
    with pytest.raises(docker.errors.APIError):
        client.networks.prune(filters={"until": "soon"})
    res = client.networks.prune(filters={"label": "e2e=prune"})
    assert res.get("NetworksDeleted") == ["py-unused"], res
    names = {n.name for n in client.networks.list()}
    assert {"bridge", "host", "none", "py-used", "py-other"} <= names and "py-unused" not in names, names
    with pytest.raises(docker.errors.NotFound):
        unused.reload()
    res = client.networks.prune()
    assert res.get("NetworksDeleted") == ["py-other"], res
    names = {n.name for n in client.networks.list()}
    assert {"bridge", "host", "none", "py-used"} <= names and "py-other" not in names, names
    used.reload()
    assert [c.name for c in used.containers] == ["py-user"]
    res = client.networks.prune()
    assert not res.get("NetworksDeleted"), res


def test_errors(client, memos_img, nclean):
    with pytest.raises(docker.errors.NotFound) as e:
        client.networks.get("py-nosuch")
    assert e.value.status_code == 404
    net = client.networks.create("py-err", check_duplicate=True)
    with pytest.raises(docker.errors.APIError) as e:
        client.networks.create("py-err", check_duplicate=True)
    assert e.value.status_code == 409 and "already exists" in str(e.value), e.value
    with pytest.raises(docker.errors.APIError) as e:
        client.networks.get("bridge").remove()
    assert e.value.status_code == 403 and "pre-defined" in str(e.value), e.value
    assert "bridge" in {n.name for n in client.networks.list()}

    c = client.containers.run(memos_img, detach=True, name="py-errc")
    with pytest.raises(docker.errors.NotFound) as e:
        client.api.connect_container_to_network(c.id, "py-nosuch")
    assert e.value.status_code == 404
    with pytest.raises(docker.errors.NotFound) as e:
        net.connect("py-no-container")
    assert e.value.status_code == 404
    with pytest.raises(docker.errors.APIError) as e:
        net.disconnect(c)  # not connected
    # berthd answers 403 (as current moby); dockerd 20.10 answered 500.
    assert e.value.status_code in ((403,) if is_berthd() else (403, 500)), e.value
    assert "is not connected" in str(e.value), e.value
    net.connect(c)
    with pytest.raises(docker.errors.APIError) as e:
        net.connect(c)  # already connected
    assert e.value.status_code == 403 and "already exists" in str(e.value), e.value
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.run(memos_img, detach=True, name="py-errnet", network="py-nosuch")
    # berthd refuses the create with 400 (docker's CLI answers a 404 from create by pulling the
    # image); dockerd 20.10 creates it and its start answers 404.
    assert e.value.status_code == (400 if is_berthd() else 404), e.value
    assert "py-nosuch not found" in str(e.value), e.value
    with pytest.raises(docker.errors.APIError) as e:
        client.networks.create("py-bad", ipam=docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet="10.234.0.0/33")]))
    # berthd: 400 (bad input); dockerd 20.10 answered 500.
    assert e.value.status_code in ((400,) if is_berthd() else (400, 500)), e.value
    assert "py-bad" not in {n.name for n in client.networks.list()}
    # berthd refuses the create itself, so the failed run left no container behind (dockerd 20.10
    # creates it and fails the start).
    if is_berthd():
        assert "py-errnet" not in {x.name for x in client.containers.list(all=True)}
