"""`run`/`create` flags that reach past the container's own config: --annotation (for the OCI
runtime), --gpus, --isolation and --volume-driver. Shared by test_containers_cli.py (the berth
CLI) and test_containers_docker_cli.py (the real docker CLI). berthd has no GPU driver, no
isolation but Linux namespaces and no volume plugins: each of those is refused by name, at
create, leaving no container and no volume behind (docker drops nothing either, but fails
--gpus only at the start)."""

import json
import os

from conftest import berthd_only, is_berthd
from ctr_cli_cases import insp, run_d
from ctrutil import clean, img  # noqa: F401 - fixtures


def _names(cli):
    return sorted(cli.ok("ps", "-a", "--format", "{{.Names}}").stdout.split())


def _volumes(cli):
    return cli.ok("volume", "ls", "-q").stdout.split()


def test_annotations_reach_the_runtime(cli, img, clean, daemon):
    berthd_only("dockerd 20.10 speaks API 1.41, which has no annotations")
    cid = run_d(cli, img, "plat-ann", "sleep", "300",
                opts=("--annotation", "com.example.k=v=w", "--annotation", "bare"))
    want = {"com.example.k": "v=w", "bare": ""}
    assert json.loads(insp(cli, "plat-ann", "{{json .HostConfig.Annotations}}")) == want
    # The OCI runtime reads them from the bundle's config.json and keeps them in its state.
    with open(os.path.join(daemon.data_root, "containers", cid, "bundle", "config.json")) as f:
        assert json.load(f)["annotations"] == want
    with open(os.path.join(daemon.exec_root, "runtime", cid, "state.json")) as f:
        assert json.load(f)["annotations"] == want
    # A container without them has none, and inspect leaves the key out (omitempty).
    run_d(cli, img, "plat-noann", "sleep", "300")
    assert "Annotations" not in insp(cli, "plat-noann")["HostConfig"]
    p = cli.run("create", "--annotation", "=x", img, "true")
    assert p.returncode == 1, p  # create, unlike run, exits 1 on the daemon's refusal
    assert "the empty string is not permitted as an annotation key" in p.stderr, p.stderr
    assert _names(cli) == ["plat-ann", "plat-noann"]


def test_gpus_refused_by_name(cli, img, clean):
    before = _names(cli)
    for value, caps in (("all", "[[gpu]]"), ("count=2,capabilities=compute", "[[compute gpu]]")):
        p = cli.run("run", "--rm", "--gpus", value, img, "true")
        assert p.returncode == 125, (value, p)
        want = f'could not select device driver "" with capabilities: {caps}'
        if is_berthd() or value == "all":
            assert want in p.stderr, (value, p.stderr)
    p = cli.run("run", "--rm", "--gpus", "colour=red", img, "true")
    assert p.returncode == 125 and "unexpected key 'colour' in 'colour=red'" in p.stderr, p.stderr
    if is_berthd():
        assert _names(cli) == before  # refused at create: nothing was made


def test_isolation_only_default(cli, img, clean):
    before = _names(cli)
    p = cli.run("run", "--rm", "--isolation", "hyperv", img, "true")
    assert p.returncode == 125, p
    assert '"hyperv"' in p.stderr and "only supports 'default'" in p.stderr, p.stderr
    assert _names(cli) == before
    run_d(cli, img, "plat-iso", "true", opts=("--isolation", "default"))
    assert insp(cli, "plat-iso", "{{.HostConfig.Isolation}}") == "default"


def test_unknown_volume_driver_creates_nothing(cli, img, clean):
    before_ctrs, before_vols = _names(cli), _volumes(cli)
    for opts in (("-v", "plat-vd:/data"), ("-v", "/anon")):
        p = cli.run("run", "--rm", "--volume-driver", "nosuch", *opts, img, "true")
        assert p.returncode == 125, (opts, p)
        assert 'error looking up volume plugin nosuch: plugin "nosuch" not found' in p.stderr, p.stderr
        assert _names(cli) == before_ctrs and _volumes(cli) == before_vols, opts
    # The driver names only volumes: a bind mount and a --mount volume do not use it, and
    # "local" is the default driver by name.
    try:
        run_d(cli, img, "plat-vd-ok", "sleep", "300",
              opts=("--volume-driver", "nosuch", "-v", "/tmp:/hosttmp:ro",
                    "--mount", "type=volume,src=plat-vd-mount,dst=/m"))
        run_d(cli, img, "plat-vd-local", "sleep", "300",
              opts=("--volume-driver", "local", "-v", "plat-vd-local:/data"))
        assert insp(cli, "plat-vd-local", "{{.HostConfig.VolumeDriver}}") == "local"
        drivers = {m["Destination"]: m.get("Driver") for m in insp(cli, "plat-vd-local")["Mounts"]}
        assert drivers == {"/data": "local"}
    finally:
        cli.run("rm", "-f", "plat-vd-ok", "plat-vd-local")
        cli.run("volume", "rm", "plat-vd-mount", "plat-vd-local")
