"""Volumes and mounts (issue 5): named and anonymous volumes, binds, --mount, --volumes-from,
copy-up, prune, `rm -v`, in-use conflicts, local-driver device options, through the `berth`
CLI, the real docker CLI and docker-py. Every test removes its containers, volumes, host
directories and mounts, also when it fails (the module's daemon is torn down with its data
root, whose mounts remove_tree unmounts)."""

import json
import os
import shutil
import tempfile
import time

import docker
import pytest

import imagebuild as ib
from conftest import DOCKER_CLI, Cli, berth_cli_path, berthd_only
from ctrutil import cbox, cbox_entries, img, remove_all_containers  # noqa: F401 - fixtures
from e2eutil import mounts_under


@pytest.fixture
def cli(daemon, home):
    return Cli(berth_cli_path(), daemon, home)


@pytest.fixture
def dcli(daemon, home):
    return Cli(DOCKER_CLI, daemon, home)


@pytest.fixture
def vclean(daemon):
    """Removes every container, then every volume of the module's daemon after the test."""
    yield daemon
    remove_all_containers(daemon.api)
    r = daemon.api.get("/volumes", timeout=30)
    if r.status == 200:
        for v in r.json().get("Volumes") or []:
            daemon.api.delete(f"/volumes/{v['Name']}", query={"force": "1"}, timeout=30)


@pytest.fixture
def hostdir():
    d = tempfile.mkdtemp(prefix="e2e-vol-", dir="/var/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def volume_path(cli, name):
    return cli.ok("volume", "inspect", "-f", "{{.Mountpoint}}", name).stdout.strip()


def volume_names(daemon):
    r = daemon.api.get("/volumes")
    assert r.status == 200, r
    return sorted(v["Name"] for v in r.json()["Volumes"])


def mounts_of(cli, ctr):
    return json.loads(cli.ok("inspect", "-f", "{{json .Mounts}}", ctr).stdout)


def test_named_volume_survives_rm_and_rmi(cli, daemon, img, cbox, vclean):
    assert cli.ok("volume", "create", "keep").stdout == "keep\n"
    # Creating an existing name returns it (docker).
    assert cli.ok("volume", "create", "keep").stdout == "keep\n"
    cli.ok("run", "--name", "wr", "-v", "keep:/data", img, "sh", "-c", "echo kept > /data/f")
    with open(os.path.join(volume_path(cli, "keep"), "f")) as f:
        assert f.read() == "kept\n"
    cli.ok("rm", "-f", "wr")
    cli.ok("rmi", "-f", img)
    r, err = daemon.api.pull(cbox.ref, timeout=300)
    assert r.status == 200 and not err
    out = cli.ok("run", "--rm", "-v", "keep:/data", img, "cat", "/data/f").stdout
    assert out == "kept\n"
    assert "keep" in volume_names(daemon)


def test_copy_up_into_new_volume_only(cli, img, vclean):
    # /data holds files in the image: a new named volume gets them, with their modes.
    out = cli.ok("run", "--rm", "-v", "fresh:/data", img, "sh", "-c",
                 "cat /data/hello.txt /data/sub/b.txt; stat -c %a /data/sub").stdout
    assert out == "hello from the image\nbb\n755\n"
    assert os.path.isfile(os.path.join(volume_path(cli, "fresh"), "sub", "a.txt"))
    # A volume that already has content is left alone; nocopy skips the copy.
    cli.ok("run", "--rm", "-v", "fresh:/data", img, "sh", "-c", "rm -r /data/sub; echo x > /data/only")
    out = cli.ok("run", "--rm", "-v", "fresh:/data", img, "ls", "/data").stdout.split()
    assert out == ["hello.txt", "only"]
    out = cli.ok("run", "--rm", "-v", "bare:/data:nocopy", img, "ls", "-A", "/data").stdout
    assert out == ""


def test_image_volume_becomes_anonymous_with_copy_up(cli, daemon, registry, vclean):
    layer = ib.Layer.from_entries(cbox_entries(), created_by="cbox")
    im = ib.Image([layer], extra_config={"config": {
        "Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "WorkingDir": "/",
        "Volumes": {"/data": {}}}})
    registry.client().push_image("e2e/volimg", "latest", im)
    ref = f"{registry.host}/e2e/volimg:latest"
    r, err = daemon.api.pull(ref, timeout=300)
    assert r.status == 200 and not err
    try:
        cli.ok("run", "--name", "iv", ref, "cat", "/data/hello.txt")
        m = mounts_of(cli, "iv")
        assert len(m) == 1 and m[0]["Type"] == "volume" and m[0]["Destination"] == "/data"
        assert len(m[0]["Name"]) == 64 and m[0]["RW"] is True and m[0]["Driver"] == "local"
        with open(os.path.join(m[0]["Source"], "hello.txt")) as f:
            assert f.read() == "hello from the image\n"
        # -v at the same destination replaces the image's VOLUME.
        cli.ok("run", "--name", "iv2", "-v", "own:/data", ref, "true")
        assert [x["Name"] for x in mounts_of(cli, "iv2")] == ["own"]
    finally:
        cli.run("rm", "-f", "iv", "iv2")
        cli.run("rmi", "-f", ref)


def test_bind_mounts_rw_ro_and_missing_source(cli, dcli, img, hostdir, vclean):
    cli.ok("run", "--rm", "-v", f"{hostdir}:/b", img, "sh", "-c", "echo from-ctr > /b/out")
    with open(os.path.join(hostdir, "out")) as f:
        assert f.read() == "from-ctr\n"
    p = cli.run("run", "--rm", "-v", f"{hostdir}:/b:ro", img, "sh", "-c", "echo x > /b/no")
    assert p.returncode != 0 and "Read-only file system" in p.stderr
    assert not os.path.exists(os.path.join(hostdir, "no"))
    # -v creates a missing host path; --mount type=bind refuses it (docker).
    made = os.path.join(hostdir, "made", "deep")
    cli.ok("run", "--rm", "-v", f"{made}:/m", img, "true")
    assert os.path.isdir(made)
    missing = os.path.join(hostdir, "missing")
    for c in (cli, dcli):
        p = c.run("run", "--rm", "--mount", f"type=bind,src={missing},dst=/x", img, "true")
        assert p.returncode == 125, p
        assert f'invalid mount config for type "bind": bind source path does not exist: {missing}' in p.stderr
        assert not os.path.exists(missing)
    # --mount bind with readonly, and its inspect fields.
    cli.ok("create", "--name", "mb", "--mount", f"type=bind,source={hostdir},target=/mb,readonly", img)
    m = mounts_of(cli, "mb")
    assert m == [{"Type": "bind", "Source": hostdir, "Destination": "/mb", "Mode": "", "RW": False,
                  "Propagation": "rprivate"}]


def test_mount_flag_volume_and_tmpfs(cli, img, vclean):
    cli.ok("create", "--name", "mv", "--mount", "type=volume,src=mvol,dst=/v,volume-label=a=b",
           "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m", img)
    m = {x["Destination"]: x for x in mounts_of(cli, "mv")}
    assert m["/v"]["Name"] == "mvol" and m["/v"]["Mode"] == "z" and m["/v"]["RW"] is True
    assert m["/t"]["Type"] == "tmpfs"
    labels = json.loads(cli.ok("volume", "inspect", "-f", "{{json .Labels}}", "mvol").stdout)
    assert labels == {"a": "b"}
    cli.ok("start", "-a", "mv")
    p = cli.run("run", "--rm", "--mount", "type=tmpfs,dst=/t,volume-nocopy", img, "true")
    assert p.returncode == 125 and "cannot mix 'volume-*' options with mount type 'tmpfs'" in p.stderr
    p = cli.run("run", "--rm", "--mount", "type=volume,src=x", img, "true")
    assert p.returncode == 125 and "target is required" in p.stderr


def test_rm_v_removes_only_anonymous(cli, daemon, img, vclean):
    cli.ok("run", "--name", "rv", "-v", "/anon", "-v", "named:/n", img, "true")
    anon = [x["Name"] for x in mounts_of(cli, "rv") if x["Destination"] == "/anon"][0]
    assert len(anon) == 64 and anon in volume_names(daemon)
    cli.ok("rm", "-v", "rv")
    names = volume_names(daemon)
    assert anon not in names and "named" in names
    # Without -v the anonymous volume stays; --rm removes it.
    cli.ok("run", "--name", "rv2", "-v", "/anon2", img, "true")
    anon2 = mounts_of(cli, "rv2")[0]["Name"]
    cli.ok("rm", "rv2")
    assert anon2 in volume_names(daemon)
    before = set(volume_names(daemon))
    cli.ok("run", "--rm", "-v", "/anon3", img, "true")
    assert set(volume_names(daemon)) == before
    # A volume mounted by its name stays, even one made anonymously for another container
    # (docker-compose's recreate hands the old container's anonymous volume on this way).
    cli.ok("run", "--rm", "-v", f"{anon2}:/again", img, "true")
    cli.ok("run", "--name", "rv3", "-v", f"{anon2}:/again", img, "true")
    cli.ok("rm", "-v", "rv3")
    assert anon2 in volume_names(daemon)
    # --volumes-from passes the anonymous mount on as it was: rm -v of the last holder takes it.
    cli.ok("create", "--name", "rv4", "-v", "/anon4", img, "true")
    anon4 = mounts_of(cli, "rv4")[0]["Name"]
    cli.ok("create", "--name", "rv5", "--volumes-from", "rv4", img, "true")
    cli.ok("rm", "-v", "rv4")
    assert anon4 in volume_names(daemon)  # rv5 still holds it
    cli.ok("rm", "-v", "rv5")
    assert anon4 not in volume_names(daemon)


def test_remove_in_use_is_409_and_removes_nothing(daemon, img, vclean):
    c = docker.DockerClient(base_url=daemon.host, version="auto", timeout=120)
    try:
        v = c.volumes.create("busy", labels={"k": "v"})
        assert v.attrs["Driver"] == "local" and v.attrs["Scope"] == "local"
        assert v.attrs["Mountpoint"].endswith("/volumes/busy/_data")
        ctr = c.containers.create(img, ["true"], volumes={"busy": {"bind": "/b", "mode": "rw"}})
        with pytest.raises(docker.errors.APIError) as e:
            v.remove()
        assert e.value.status_code == 409
        assert f"remove busy: volume is in use - [{ctr.id}]" in str(e.value)
        assert os.path.isdir(v.attrs["Mountpoint"])
        assert [x.name for x in c.volumes.list(filters={"dangling": False})] == ["busy"]
        assert c.volumes.list(filters={"dangling": True}) == []
        with pytest.raises(docker.errors.NotFound) as e:
            c.volumes.get("nope")
        assert "get nope: no such volume" in str(e.value)
        ctr.remove()
        v.remove()
        assert c.volumes.list() == []
    finally:
        c.close()


def test_bad_names(cli, dcli, img, vclean):
    msg = ('"a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" '
           'are allowed. If you intended to pass a host directory, use absolute path')
    p = cli.run("volume", "create", "a/b")
    assert p.returncode == 1 and f"create a/b: {msg}" in p.stderr
    p = dcli.run("run", "--rm", "-v", "a/b:/x", img, "true")
    assert p.returncode == 125 and msg in p.stderr
    p = cli.run("volume", "create", "-o", "bogus=1", "v1")
    assert p.returncode == 1 and 'invalid option: "bogus"' in p.stderr
    p = cli.run("run", "--rm", "-v", "a::b", img, "true")
    assert p.returncode == 125 and "invalid spec: a::b: empty section between colons" in p.stderr
    p = cli.run("run", "--rm", "-v", "/h:/c:bogus", img, "true")
    assert p.returncode == 125 and "invalid mode: bogus" in p.stderr
    p = cli.run("run", "--rm", "-v", "/h:/d", "-v", "/i:/d", img, "true")
    assert p.returncode == 125 and "Duplicate mount point: /d" in p.stderr
    assert volume_names(cli.daemon) == []
    assert cli.ok("ps", "-aq").stdout == ""


def test_volume_ls_inspect_prune(cli, dcli, img, vclean, daemon_kind):
    cli.ok("volume", "create", "--label", "team=a", "lsa")
    cli.ok("volume", "create", "lsb")
    cli.ok("run", "--name", "user", "-v", "lsb:/x", "-v", "/anon", img, "true")
    cli.ok("rm", "user")  # its anonymous volume stays behind
    ls = dcli.ok("volume", "ls").stdout.splitlines()
    assert ls[0].split() == ["DRIVER", "VOLUME", "NAME"] and len(ls) == 4
    assert cli.ok("volume", "ls", "-q", "--filter", "label=team=a").stdout == "lsa\n"
    assert cli.ok("volume", "ls", "-q", "--filter", "name=ls").stdout == "lsa\nlsb\n"
    out = json.loads(dcli.ok("volume", "inspect", "lsa").stdout)
    assert out[0]["Name"] == "lsa" and out[0]["Labels"] == {"team": "a"} and out[0]["CreatedAt"]
    # prune: anonymous only by default (API >= 1.42; Debian's dockerd 20.10 speaks 1.41 and
    # prunes every unused volume), every unused one with -a.
    p = cli.ok("volume", "prune", "-f")
    assert "Deleted Volumes:" in p.stdout and "Total reclaimed space:" in p.stdout
    if daemon_kind == "dockerd":
        return
    assert cli.ok("volume", "ls", "-q").stdout == "lsa\nlsb\n"
    dcli.ok("volume", "prune", "-af", "--filter", "label=team=a")
    assert cli.ok("volume", "ls", "-q").stdout == "lsb\n"
    p = cli.run("volume", "rm", "lsb", "nope")
    assert p.returncode == 1 and p.stdout == "lsb\n" and "get nope: no such volume" in p.stderr
    cli.ok("volume", "rm", "-f", "nope")
    df = cli.ok("system", "df").stdout
    assert "Local Volumes" in df


def test_volumes_from_and_ro(cli, img, vclean):
    cli.ok("run", "--name", "src", "-v", "vf:/shared", img, "sh", "-c", "echo shared > /shared/f")
    out = cli.ok("run", "--rm", "--volumes-from", "src", img, "cat", "/shared/f").stdout
    assert out == "shared\n"
    p = cli.run("run", "--rm", "--volumes-from", "src:ro", img, "sh", "-c", "echo x > /shared/g")
    assert p.returncode != 0 and "Read-only file system" in p.stderr
    p = cli.run("run", "--rm", "--volumes-from", "nosuch", img, "true")
    assert p.returncode == 125 and "No such container: nosuch" in p.stderr


def test_tmpfs_device_volume_mounted_while_used(cli, daemon, img, vclean):
    berthd_only("the local driver's mount lives under berthd's data root")
    cli.ok("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "ram")
    path = volume_path(cli, "ram")
    cli.ok("run", "-d", "--name", "rr", "-v", "ram:/r", img, "sh", "-c", "echo in-ram > /r/f; sleep 60")
    try:
        assert path in mounts_under(path)
        out = cli.ok("run", "--rm", "-v", "ram:/r", img, "cat", "/r/f").stdout
        assert out == "in-ram\n"
    finally:
        cli.ok("rm", "-f", "rr")
    assert mounts_under(path) == []
    p = cli.run("volume", "create", "-o", "type=tmpfs", "bad")
    assert p.returncode == 1 and 'missing required option: "device"' in p.stderr


def _host_propagation(path):
    """The optional fields ("shared:N", "master:N") of the host mount holding path."""
    best, fields = "", []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            mp = parts[4].replace("\\040", " ")
            opt = parts[6:parts.index("-")]
            if (path == mp or mp == "/" or path.startswith(mp + "/")) and len(mp) >= len(best):
                best, fields = mp, opt
    return best, fields


@pytest.mark.parametrize("prop", ["rshared", "rslave"])
def test_bind_propagation_needs_a_propagating_host_mount(dcli, img, hostdir, prop, vclean):
    # docker checks at start, not create: shared/slave propagation of a bind whose host
    # mount is private could never propagate, so the start is refused with docker's message.
    src = os.path.realpath(hostdir)
    mp, fields = _host_propagation(src)
    shared = any(f.startswith("shared:") for f in fields)
    slave = any(f.startswith("master:") for f in fields)
    ok = shared or (prop == "rslave" and slave)
    dcli.ok("create", "--name", "dprop", "-v", f"{hostdir}:/h:{prop}", img, "true")
    p = dcli.run("start", "-a", "dprop")
    if ok:
        assert p.returncode == 0, p.stderr
    else:
        want = "not a shared mount" if prop == "rshared" else "not a shared or slave mount"
        assert p.returncode != 0 and f"path {hostdir} is mounted on {mp} but it is {want}" in p.stderr, p.stderr
    p = dcli.run("run", "--rm", "--storage-opt", "size=1G", img, "true")
    assert p.returncode == 125 and "--storage-opt" in p.stderr, p.stderr


def test_docker_cli_inspect_mounts(dcli, img, hostdir, vclean):
    dcli.ok("create", "--name", "dm", "-v", f"{hostdir}:/h:ro,rslave", "-v", "dv:/v", img)
    m = {x["Destination"]: x for x in json.loads(dcli.ok("inspect", "-f", "{{json .Mounts}}", "dm").stdout)}
    assert m["/h"] == {"Type": "bind", "Source": hostdir, "Destination": "/h", "Mode": "ro,rslave",
                       "RW": False, "Propagation": "rslave"}
    v = m["/v"]
    assert (v["Type"], v["Name"], v["Driver"], v["Mode"], v["RW"], v["Propagation"]) == \
        ("volume", "dv", "local", "z", True, "")
    assert v["Source"].endswith("/volumes/dv/_data")
    ps = dcli.ok("ps", "-a", "--filter", "volume=dv", "--format", "{{.Names}}").stdout
    assert ps == "dm\n"


def test_volume_mount_events_carry_docker_attributes(dcli, img, vclean):
    """docker's mount event names the destination, read/write and propagation."""
    since = str(int(time.time()) - 1)
    dcli.ok("volume", "create", "evmount")
    cid = dcli.ok("run", "-d", "-v", "evmount:/data:ro", img, "true").stdout.strip()
    assert dcli.ok("wait", cid).stdout.strip() == "0"
    until = str(int(time.time()) + 1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and time.time() < int(until):  # let `until` pass
        time.sleep(0.1)
    out = dcli.ok("events", "--since", since, "--until", until, "--filter", "type=volume",
                  "--filter", "volume=evmount", "--format", "{{json .}}").stdout
    events = [json.loads(l) for l in out.splitlines()]
    mounts = [e for e in events if e["Action"] == "mount"]
    assert len(mounts) == 1, events
    attrs = mounts[0]["Actor"]["Attributes"]
    assert mounts[0]["Actor"]["ID"] == "evmount"
    assert attrs["container"] == cid and attrs["destination"] == "/data", attrs
    assert attrs["read/write"] == "false" and attrs["driver"] == "local", attrs
    assert "propagation" in attrs, attrs
    assert [e["Actor"]["Attributes"]["container"] for e in events if e["Action"] == "unmount"] == [cid]
