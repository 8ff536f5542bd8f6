"""Debian's docker-compose 1.29 (python, docker-py underneath) against the module's daemon: a
project with two services from the memos image in the test registry, `web` (the app, a published
port) and `client` (sleep). up -d, exec into client to fetch http://web:5230/ through the
project network's DNS, the published port on 127.0.0.1, ps, down (containers and the project
network gone), no network leftovers. Then a project built from a Dockerfile with a VOLUME: a
changed service is recreated with its named and anonymous volumes' data, scale, down -v.

Traffic goes only to 127.0.0.1 and containers of the daemon under test."""

import json
import os
import subprocess

import pytest

from conftest import Cli, berth_cli_path, is_berthd
from ctrutil import clean  # noqa: F401 - fixture
from e2eutil import free_port, wait_until
from net_cli_cases import APP_PORT, PAGE, assert_no_leftovers, get_page, memos, memos_img  # noqa: F401

COMPOSE = "/usr/bin/docker-compose"
PROJECT = "e2ecompose"


@pytest.fixture
def cli(daemon, home):
    return Cli(berth_cli_path(), daemon, home)


class Compose:
    def __init__(self, daemon, home, project_dir):
        self.daemon, self.home, self.dir = daemon, home, project_dir

    def run(self, *args, timeout=300):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
        env.update(DOCKER_HOST=self.daemon.host, HOME=self.home, COMPOSE_INTERACTIVE_NO_CLI="1",
                   NO_COLOR="1")
        return subprocess.run([COMPOSE, "--verbose", "--ansi", "never", "-p", PROJECT, *args], cwd=self.dir, env=env,
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, (f"docker-compose {' '.join(args)} -> {p.returncode}\nstdout:{p.stdout}\n"
                                   f"stderr:{p.stderr}\ndaemon log:\n{self.daemon.log_tail(30)}")
        return p


def project_containers(cli):
    out = cli.ok("ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}",
                 "--format", "{{.Names}}").stdout
    return sorted(out.split())


# docker-compose 1.29 creates each container with NetworkMode=<project>_default and aliases
# [service], then (the short id missing from the aliases) POSTs /networks/<net>/disconnect and
# /networks/<net>/connect with aliases [service, short id] before the start. berthd answers
# the disconnect 200 but rewrites NetworkMode to "none" (LocalContainerService::
# network_disconnect, src/engine/local_containers_net.cc), so the connect gets 403 "container
# sharing network namespace with another container or host cannot be connected to any other
# network". dockerd 20.10 keeps NetworkMode and accepts the connect (this test passes there).
def test_compose_up_exec_ps_down(daemon, cli, memos, memos_img, home, tmp_path, clean):
    if not os.access(COMPOSE, os.X_OK):
        pytest.fail(f"{COMPOSE} is missing (Debian's docker-compose)")
    port = free_port()
    (tmp_path / "docker-compose.yml").write_text(
        "version: '3.7'\n"
        "services:\n"
        "  web:\n"
        f"    image: {memos.ref}\n"
        "    ports:\n"
        f"      - \"{port}:{APP_PORT}\"\n"
        "    environment:\n"
        "      CODE: compose\n"
        "  client:\n"
        f"    image: {memos.ref}\n"
        "    command: sleep 300\n"
        "    depends_on:\n"
        "      - web\n")
    dc = Compose(daemon, home, str(tmp_path))
    net = f"{PROJECT}_default"
    try:
        dc.ok("up", "-d")
        names = project_containers(cli)
        assert names == [f"{PROJECT}_client_1", f"{PROJECT}_web_1"], names
        assert net in cli.ok("network", "ls", "--format", "{{.Name}}").stdout.split()

        # The client finds web by its service name through the embedded DNS.
        def fetch():
            p = dc.run("exec", "-T", "client", "wget", "-qO-", f"http://web:{APP_PORT}/", timeout=60)
            return p.returncode == 0 and p.stdout == PAGE.decode() and p
        wait_until(fetch, 20, interval=0.3, what="client fetching http://web:5230/")
        # ... and by the container name.
        p = dc.ok("exec", "-T", "client", "wget", "-qO-", f"http://{PROJECT}_web_1:{APP_PORT}/")
        assert p.stdout == PAGE.decode(), p.stdout

        assert get_page("127.0.0.1", port) == (200, PAGE)

        ps = dc.ok("ps").stdout
        lines = [l for l in ps.splitlines() if l.startswith(PROJECT + "_")]
        assert sorted(l.split()[0] for l in lines) == names, ps
        assert all(" Up" in l for l in lines), ps
        web = [l for l in lines if l.startswith(f"{PROJECT}_web_1")][0]
        assert f"0.0.0.0:{port}->{APP_PORT}/tcp" in web, ps
        assert dc.ok("ps", "-q").stdout.split().__len__() == 2

        ins = json.loads(cli.ok("inspect", f"{PROJECT}_web_1").stdout)[0]
        assert set(ins["NetworkSettings"]["Networks"]) == {net}, ins["NetworkSettings"]["Networks"]
        aliases = ins["NetworkSettings"]["Networks"][net].get("Aliases") or []
        assert "web" in aliases, aliases
        assert ins["Config"]["Labels"].get("com.docker.compose.service") == "web"
        assert "CODE=compose" in ins["Config"]["Env"]

        dc.ok("down")
        assert project_containers(cli) == []
        assert net not in cli.ok("network", "ls", "--format", "{{.Name}}").stdout.split()
        if is_berthd():  # the host-side view (veths, netns files, DNAT) is berthd's layout
            assert_no_leftovers(daemon)
        with pytest.raises(AssertionError):
            get_page("127.0.0.1", port, timeout=1)
    finally:
        dc.run("down", "--remove-orphans", timeout=120)
        cli.run("rm", "-f", f"{PROJECT}_web_1", f"{PROJECT}_client_1")
        cli.run("network", "rm", net)


def project_volumes(cli):
    out = cli.ok("volume", "ls", "--filter", f"label=com.docker.compose.project={PROJECT}",
                 "--format", "{{.Name}}").stdout
    return sorted(out.split())


# compose 1.29 negotiates the server's newest API version and, on every recreate, reads the
# image's ContainerConfig.Volumes to carry anonymous volumes over; dockerd 26+ (API 1.45)
# dropped that field and compose fails with KeyError 'ContainerConfig'. berthd keeps it.
def test_compose_recreate_keeps_volume_data(daemon, cli, memos, memos_img, home, tmp_path, clean):
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(f"FROM {memos.ref}\nVOLUME /cache\nENV GREETING=hi\n"
                                    "CMD [\"sleep\", \"300\"]\n")
    compose_file = tmp_path / "docker-compose.yml"

    def write(mode):
        compose_file.write_text(
            "version: '3.7'\n"
            "services:\n"
            "  app:\n"
            "    build: ./app\n"
            f"    image: {PROJECT}_app:e2e\n"
            "    environment:\n"
            f"      MODE: {mode}\n"
            "    volumes:\n"
            "      - data:/data\n"
            "  worker:\n"
            f"    image: {memos.ref}\n"
            "    command: sleep 300\n"
            "volumes:\n"
            "  data:\n")
    write("one")
    dc = Compose(daemon, home, str(tmp_path))
    app_name = f"{PROJECT}_app_1"
    anon = []
    try:
        dc.ok("up", "-d", "--build")
        dc.ok("exec", "-T", "app", "sh", "-c", "echo anon > /cache/k && echo named > /data/d")
        first = cli.ok("inspect", "-f", "{{.Id}}", app_name).stdout.strip()
        anon = [m["Name"] for m in json.loads(cli.ok("inspect", app_name).stdout)[0]["Mounts"]
                if m["Destination"] == "/cache"]
        assert len(anon) == 1, anon

        p = dc.ok("up", "-d")  # nothing changed
        assert "is up-to-date" in p.stdout + p.stderr, p.stderr
        assert cli.ok("inspect", "-f", "{{.Id}}", app_name).stdout.strip() == first

        write("two")
        p = dc.ok("up", "-d")
        assert f"Recreating {app_name}" in p.stdout + p.stderr, p.stderr
        assert cli.ok("inspect", "-f", "{{.Id}}", app_name).stdout.strip() != first
        p = dc.ok("exec", "-T", "app", "sh", "-c", 'cat /cache/k /data/d; echo "$MODE"')
        assert p.stdout.split() == ["anon", "named", "two"], p.stdout
        mounts = json.loads(cli.ok("inspect", app_name).stdout)[0]["Mounts"]
        assert [m["Name"] for m in mounts if m["Destination"] == "/cache"] == anon, mounts

        dc.ok("up", "-d", "--scale", "worker=2")
        assert project_containers(cli) == [f"{PROJECT}_app_1", f"{PROJECT}_worker_1",
                                           f"{PROJECT}_worker_2"]

        assert project_volumes(cli) == [f"{PROJECT}_data"]
        dc.ok("down", "-v")
        assert project_containers(cli) == []
        assert project_volumes(cli) == []
        # The recreated container was given the anonymous volume by name, so down -v (rm -v)
        # leaves it, as dockerd does; `volume prune` would take it.
        vols = cli.ok("volume", "ls", "--format", "{{.Name}}").stdout.split()
        assert anon[0] in vols, vols
    finally:
        dc.run("down", "-v", "--remove-orphans", timeout=120)
        cli.run("rmi", f"{PROJECT}_app:e2e")
        for v in anon:
            cli.run("volume", "rm", v)


def test_disconnect_then_connect_only_network_api(daemon, memos_img, clean):
    """compose's exact sequence through the raw API: create on a user network, disconnect,
    connect with more aliases, start; the container ends up on that network with the aliases
    and its NetworkMode unchanged."""
    api, net = daemon.api, "e2ecompose_api"
    r = api.post("/networks/create", body={"Name": net, "CheckDuplicate": True, "Attachable": True})
    assert r.status == 201, r
    try:
        r = api.post("/containers/create", query={"name": "e2ecompose_api_1"},
                     body={"Image": memos_img, "HostConfig": {"NetworkMode": net},
                           "NetworkingConfig": {"EndpointsConfig": {net: {"Aliases": ["svc"]}}}})
        assert r.status == 201, r
        cid = r.json()["Id"]
        r = api.post(f"/networks/{net}/disconnect", body={"Container": cid})
        assert r.status == 200, r
        r = api.post(f"/networks/{net}/connect",
                     body={"Container": cid, "EndpointConfig": {"Aliases": ["svc", cid[:12]]}})
        assert r.status == 200, r
        r = api.post(f"/containers/{cid}/start")
        assert r.status == 204, r
        ins = api.get(f"/containers/{cid}/json").json()
        assert ins["HostConfig"]["NetworkMode"] == net, ins["HostConfig"]
        ep = ins["NetworkSettings"]["Networks"]
        assert set(ep) == {net} and ep[net]["IPAddress"], ep
        assert {"svc", cid[:12]} <= set(ep[net].get("Aliases") or []), ep[net]
    finally:
        api.delete("/containers/e2ecompose_api_1", query={"force": "1"})
        api.delete(f"/networks/{net}")
