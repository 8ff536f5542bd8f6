"""Image commands through a docker-compatible CLI; shared by test_images_cli.py (the berth
CLI) and test_images_docker_cli.py (the real docker CLI). Each importing module defines the
`cli` fixture. Tests use distinct names so they share one daemon per module."""

import base64
import json
import os
import re
import subprocess
import time

import imagebuild as ib
from conftest import KIND, PASSWORD, USER, aux_docker, berthd_only

short = lambda digest: digest.split(":")[1][:12]  # noqa: E731


def pull(cli, ref, *extra):
    p = cli.run("pull", *extra, ref, timeout=600)
    assert p.returncode == 0, f"pull {ref}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def inspect(cli, ref):
    p = cli.ok("image", "inspect", ref)
    data = json.loads(p.stdout)
    assert isinstance(data, list) and len(data) == 1, p.stdout
    return data[0]


def image_exists(cli, ref):
    return cli.run("image", "inspect", ref).returncode == 0


def test_version_and_info(cli):
    p = cli.ok("version")
    assert "Server" in p.stdout, p.stdout
    assert cli.ok("version", "--format", "{{.Server.Version}}").stdout.strip()
    assert cli.ok("version", "--format", "{{.Server.APIVersion}}").stdout.strip()[:2] == "1."
    p = cli.ok("info", "--format", "{{.Images}}")
    assert p.stdout.strip().isdigit(), p.stdout
    p = cli.ok("info", "--format", "{{json .}}")
    info = json.loads(p.stdout)
    assert "Images" in info and "ServerVersion" in info
    # docker's member order: system.Info's fields as sent, then the client's part.
    keys = list(info)
    assert keys[:3] == ["ID", "Containers", "ContainersRunning"] and keys[-1] == "ClientInfo", keys
    assert list(info["Swarm"])[:2] == ["NodeID", "NodeAddr"], info["Swarm"]
    assert cli.ok("info", "--format", "{{.ClientInfo.Debug}}").stdout.strip() == "false"
    if KIND == "berthd":  # containers outlive the daemon always
        assert info["LiveRestoreEnabled"] is True, info
    v = json.loads(cli.ok("version", "--format", "{{json .}}").stdout)
    assert list(v) == ["Client", "Server"], v
    assert list(v["Client"])[:5] == ["Version", "ApiVersion", "DefaultAPIVersion", "GitCommit",
                                     "GoVersion"], v["Client"]
    assert list(v["Server"])[:3] == ["Platform", "Components", "Version"], v["Server"]
    # Go field names (APIVersion is "ApiVersion" in the JSON); an unknown field of the
    # root type is an error, as on docker's typed structs.
    p = cli.ok("version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}}")
    assert p.stdout.split() == [v["Client"]["ApiVersion"], v["Server"]["ApiVersion"]], p.stdout
    for cmd, typ in (("version", "system.versionInfo"), ("info", "system.dockerInfo")):
        p = cli.run(cmd, "--format", "{{.Nope}}")
        assert p.returncode == 1 and f"can't evaluate field Nope in type {typ}" in p.stderr, p
        assert "template: template:" not in p.stderr, p.stderr
    # The plain listing names the runtimes and the default one (docker's lines).
    out = cli.ok("info").stdout
    runtimes = re.search(r"^ Runtimes: (.+)$", out, re.M)
    default = re.search(r"^ Default Runtime: (\S+)$", out, re.M)
    assert runtimes and default and default.group(1) in runtimes.group(1).split(), out
    # Plugins and Security Options, as docker lays them out.
    assert re.search(r"^ Plugins:\n  Volume: local\n  Network: .*\bbridge\b", out, re.M), out
    assert re.search(r"^ Security Options:\n(  .*\n)*  seccomp\n   Profile: \S+$", out, re.M), out


def test_pull_then_images_listing(cli, busybox):
    p = pull(cli, busybox.ref)
    assert busybox.digest in p.stdout, p.stdout
    im = busybox.image
    out = cli.ok("images").stdout.splitlines()
    assert re.match(r"REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE", out[0]), out[0]
    row = [l for l in out if l.startswith(busybox.name + " ") and " latest " in l]
    assert row and short(im.id) in row[0], out
    assert short(im.id) in cli.ok("images", "-q").stdout.split()
    assert im.id in cli.ok("images", "-q", "--no-trunc").stdout.split()
    dig = cli.ok("images", "--digests", busybox.name).stdout
    assert busybox.digest in dig, dig
    # --filter reference / label, and the repository argument.
    p = cli.ok("images", "-q", "--filter", f"reference={busybox.ref}")
    assert p.stdout.split() == [short(im.id)], p.stdout
    p = cli.ok("images", "--filter", "label=org.berth.e2e=busybox", "--format", "{{.Repository}}:{{.Tag}}")
    assert busybox.ref in p.stdout.split(), p.stdout
    p = cli.ok("images", "--filter", "label=org.berth.e2e=no-such-value", "-q")
    assert p.stdout.strip() == ""
    p = cli.ok("images", "--filter", "dangling=true", "--format", "{{.ID}}")
    assert short(im.id) not in p.stdout
    # --format: fields, json, table.
    p = cli.ok("images", busybox.name, "--format", "{{.Repository}} {{.Tag}} {{.ID}}")
    assert f"{busybox.name} latest {short(im.id)}" in p.stdout.splitlines(), p.stdout
    p = cli.ok("images", busybox.ref, "--format", "{{json .}}")
    obj = json.loads(p.stdout.splitlines()[0])
    assert obj["Repository"] == busybox.name and obj["Tag"] == "latest" and obj["ID"] == short(im.id)
    p = cli.ok("images", busybox.ref, "--format", "table {{.Repository}}\t{{.Tag}}")
    lines = p.stdout.splitlines()
    assert re.match(r"REPOSITORY\s+TAG", lines[0]) and lines[1].split() == [busybox.name, "latest"], lines


def test_inspect_fields(cli, busybox):
    pull(cli, busybox.ref)
    im = busybox.image
    data = inspect(cli, busybox.ref)
    assert data["Id"] == im.id
    assert f"{busybox.name}@{busybox.digest}" in data["RepoDigests"]
    assert busybox.ref in data["RepoTags"]
    assert data["Os"] == "linux" and data["Architecture"] == "amd64"
    assert data["Config"]["Cmd"] == ["sh"]
    assert data["Config"]["Labels"] == {"org.berth.e2e": "busybox"}
    assert data["RootFS"]["Layers"] == [l.diff_id for l in im.layers]
    assert data["Size"] >= os.path.getsize("/bin/busybox")
    assert cli.ok("inspect", "--format", "{{.Id}}", busybox.ref).stdout.strip() == im.id
    assert cli.ok("image", "inspect", "--format", "{{.Config.Labels}}", busybox.ref).stdout.strip() == \
        "map[org.berth.e2e:busybox]"
    # By short id and by full id.
    assert inspect(cli, short(im.id))["Id"] == im.id
    p = cli.run("image", "inspect", "e2e-no-such-image:latest")
    assert p.returncode == 1 and "No such image" in p.stderr, (p.returncode, p.stderr)


def test_pull_by_digest_and_quiet(cli, busybox):
    p = cli.run("pull", "-q", busybox.by_digest, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == busybox.by_digest, p.stdout
    assert inspect(cli, busybox.by_digest)["Id"] == busybox.image.id


def test_pull_multiarch_platform(cli, multiarch):
    idx = multiarch.image
    pull(cli, multiarch.ref)
    data = inspect(cli, multiarch.ref)
    assert data["Id"] == idx.by_arch("amd64").id and data["Architecture"] == "amd64"
    arm_ref = f"{multiarch.registry.host}/e2e/multi-arm@{idx.manifest_digest}"
    pull(cli, arm_ref, "--platform", "linux/arm64")
    data = inspect(cli, idx.by_arch("arm64").id)
    assert data["Architecture"] == "arm64"
    p = cli.run("pull", "--platform", "linux/s390x", f"{multiarch.registry.host}/e2e/multi-arm:latest")
    assert p.returncode == 1 and "s390x" in p.stderr, (p.returncode, p.stderr)


def test_pull_oci_manifest(cli, registry):
    im = ib.Image([ib.busybox_layer()], labels={"org.berth.e2e": "oci"}, oci=True)
    registry.client().push_image("e2e/oci", "latest", im)
    ref = f"{registry.host}/e2e/oci:latest"
    pull(cli, ref)
    data = inspect(cli, ref)
    assert data["Id"] == im.id and data["Config"]["Labels"] == {"org.berth.e2e": "oci"}
    assert f"{registry.host}/e2e/oci@{im.manifest_digest}" in data["RepoDigests"]


def test_pull_zstd_layer(cli, registry):
    berthd_only("dockerd 20.10 cannot unpack zstd layers (docker 23 can)")
    layer = ib.zstd_layer(ib.busybox_entries() + [ib.Entry("zstd-marker", "file", data=b"zstd\n")])
    im = ib.Image([layer], labels={"org.berth.e2e": "zstd"}, oci=True)
    registry.client().push_image("e2e/zstd", "latest", im)
    ref = f"{registry.host}/e2e/zstd:latest"
    pull(cli, ref)
    assert inspect(cli, ref)["RootFS"]["Layers"] == [layer.diff_id]


def test_tag_and_rmi(cli, busybox):
    pull(cli, busybox.ref)
    im = busybox.image
    cli.ok("tag", busybox.ref, "e2e-local/tagged:one")
    cli.ok("image", "tag", im.id, "e2e-local/tagged:two")
    assert inspect(cli, "e2e-local/tagged:one")["Id"] == im.id
    p = cli.ok("images", "e2e-local/tagged", "--format", "{{.Tag}}")
    assert sorted(p.stdout.split()) == ["one", "two"]
    p = cli.ok("rmi", "e2e-local/tagged:one")
    assert "Untagged: e2e-local/tagged:one" in p.stdout, p.stdout
    assert not image_exists(cli, "e2e-local/tagged:one") and image_exists(cli, im.id)
    # An id referenced by several repositories needs -f.
    p = cli.run("rmi", im.id)
    assert p.returncode == 1 and "must be forced" in p.stderr, (p.returncode, p.stderr)
    p = cli.ok("rmi", "-f", im.id)
    assert f"Deleted: {im.id}" in p.stdout, p.stdout
    assert not image_exists(cli, im.id)
    p = cli.run("rmi", "e2e-local/never-was:x")
    assert p.returncode == 1 and "No such image" in p.stderr
    # -f: a missing image is reported, and is not a failure (docker's rmi).
    p = cli.run("rmi", "-f", "e2e-local/never-was:x")
    assert p.returncode == 0 and "No such image: e2e-local/never-was:x" in p.stderr, (p.returncode, p.stderr)
    p = cli.run("tag", "e2e-local/never-was:x", "e2e-local/y:z")
    assert p.returncode == 1 and "No such image" in p.stderr
    p = cli.run("tag", busybox.ref if image_exists(cli, busybox.ref) else "x", "Bad:Upper/Case")
    assert p.returncode == 1 and p.stderr.startswith(
        'Error parsing reference: "Bad:Upper/Case" is not a valid repository/tag: invalid reference format'), p.stderr


def test_push_pull_roundtrip(cli, busybox, registry):
    pull(cli, busybox.ref)
    target = f"{registry.host}/e2e/roundtrip:v1"
    cli.ok("tag", busybox.ref, target)
    p = cli.run("push", target, timeout=300)
    assert p.returncode == 0, p.stderr
    m = re.search(r"digest: (sha256:[0-9a-f]{64}) size: (\d+)", p.stdout)
    assert m, p.stdout
    pushed_digest = m.group(1)
    # What reached the registry, checked by digest.
    rc = registry.client()
    st, h, raw = rc.get_manifest("e2e/roundtrip", "v1")
    assert st == 200 and ib.sha256_digest(raw) == pushed_digest == h["Docker-Content-Digest"]
    man = json.loads(raw)
    assert man["config"]["digest"] == busybox.image.id
    cfg = rc.get_blob("e2e/roundtrip", man["config"]["digest"])
    assert ib.sha256_digest(cfg) == busybox.image.id
    for desc in man["layers"]:
        blob = rc.get_blob("e2e/roundtrip", desc["digest"])
        assert ib.sha256_digest(blob) == desc["digest"] and len(blob) == desc["size"]
    assert json.loads(cfg)["rootfs"]["diff_ids"] == [l.diff_id for l in busybox.image.layers]
    # Pull it back into an empty slot.
    cli.ok("rmi", target)
    p = pull(cli, target)
    data = inspect(cli, target)
    assert data["Id"] == busybox.image.id
    assert f"{registry.host}/e2e/roundtrip@{pushed_digest}" in data["RepoDigests"]
    p = cli.run("push", f"{registry.host}/e2e/never-tagged:x")
    assert p.returncode == 1


def test_search_catalog_and_tags(cli, busybox, registry):
    berthd_only("dockerd 20.10 searches only the v1 search API (Docker Hub), not a registry's catalog")
    p = cli.ok("search", f"{registry.host}/busybox")
    assert "e2e/busybox" in p.stdout, p.stdout
    p = cli.ok("search", "--format", "{{.Name}}", f"{registry.host}/e2e")
    names = p.stdout.split()
    assert any(n.endswith("e2e/busybox") for n in names), names
    p = cli.ok("search", "--limit", "1", "--format", "{{.Name}}", f"{registry.host}/e2e")
    assert len(p.stdout.split()) == 1
    if cli.name == "docker":
        return  # `--tags` is berth's extension; the docker CLI has no such flag
    p = cli.ok("search", "--tags", busybox.name)
    assert {"1.0", "latest"} <= set(p.stdout.split()), p.stdout


def _login(cli, reg, password=PASSWORD):
    return cli.run("login", "-u", USER, "--password-stdin", reg.host, input=password + "\n")


def _login_logout_roundtrip(cli, busybox, reg, repo):
    pull(cli, busybox.ref)
    target = f"{reg.host}/{repo}:v1"
    cli.ok("tag", busybox.ref, target)
    # Without credentials a push is refused.
    assert cli.run("push", target).returncode == 1
    p = _login(cli, reg, "wrong-password")
    assert p.returncode == 1, (p.stdout, p.stderr)
    p = _login(cli, reg)
    assert p.returncode == 0 and "Login Succeeded" in p.stdout, (p.stdout, p.stderr)
    auths = cli.config_json().get("auths", {})
    assert reg.host in auths, cli.config_json()
    assert base64.b64decode(auths[reg.host]["auth"]).decode() == f"{USER}:{PASSWORD}"
    p = cli.run("push", target, timeout=300)
    assert p.returncode == 0, p.stderr
    cli.ok("rmi", target)
    pull(cli, target)
    assert inspect(cli, target)["Id"] == busybox.image.id
    p = cli.ok("logout", reg.host)
    assert reg.host not in cli.config_json().get("auths", {})
    cli.ok("rmi", target)
    p = cli.run("pull", target)
    assert p.returncode == 1, p.stdout


def test_login_logout_basic(cli, busybox, basic_registry):
    _login_logout_roundtrip(cli, busybox, basic_registry, "e2e/basic")


def test_login_logout_token(cli, busybox, token_registry):
    _login_logout_roundtrip(cli, busybox, token_registry, f"e2e/token-{token_registry.token_server.alg.lower()}")
    assert any(acc == USER and any("push" in s for s in scopes)
               for acc, scopes in token_registry.token_server.requests)


def test_save_load_roundtrip(cli, busybox, tmp_path):
    pull(cli, busybox.ref)
    out = str(tmp_path / "saved.tar")
    cli.ok("save", "-o", out, busybox.ref)
    manifest, files = ib.read_docker_archive(out)
    assert manifest[0]["RepoTags"] == [busybox.ref]
    cfg = files[manifest[0]["Config"]]
    assert ib.sha256_digest(cfg) == busybox.image.id
    layers = [ib.sha256_digest(files[n]) for n in manifest[0]["Layers"]]
    assert layers == [l.diff_id for l in busybox.image.layers]
    cli.ok("tag", busybox.ref, "e2e-local/saveload:x")
    cli.ok("rmi", "-f", busybox.image.id)
    assert not image_exists(cli, busybox.ref)
    p = cli.ok("load", "-i", out)
    assert f"Loaded image: {busybox.ref}" in p.stdout, p.stdout
    assert inspect(cli, busybox.ref)["Id"] == busybox.image.id
    # save to stdout too
    p = subprocess.run([cli.binary, "save", busybox.ref], env=cli.env(), capture_output=True, timeout=120)
    assert p.returncode == 0 and len(p.stdout) > 1 << 20


def test_load_offline_built_archive(cli, tmp_path):
    im = ib.small_image(7001)
    path = str(tmp_path / "offline.tar")
    ib.write_docker_archive(path, [(im, ["e2e-offline/loaded:v1", "e2e-offline/loaded:v2"])])
    p = cli.ok("load", "-i", path)
    assert "Loaded image: e2e-offline/loaded:v1" in p.stdout and "e2e-offline/loaded:v2" in p.stdout, p.stdout
    data = inspect(cli, "e2e-offline/loaded:v1")
    assert data["Id"] == im.id
    assert data["RootFS"]["Layers"] == [l.diff_id for l in im.layers]
    assert data["Config"]["Labels"]["org.berth.e2e.n"] == "7001"
    # From stdin.
    cli.ok("rmi", "-f", im.id)
    with open(path, "rb") as f:
        p = subprocess.run([cli.binary, "load", "-q"], env=cli.env(), stdin=f, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "Loaded image: e2e-offline/loaded:v1" in p.stdout, (p.stdout, p.stderr)


def test_load_docker_saved_archive(cli, busybox, dockerd_saved_archive):
    cli.run("rmi", "-f", busybox.image.id)
    p = cli.ok("load", "-i", dockerd_saved_archive)
    assert f"Loaded image: {busybox.ref}" in p.stdout, p.stdout
    assert inspect(cli, busybox.ref)["Id"] == busybox.image.id


def test_saved_archive_loads_in_dockerd(cli, busybox, aux_dockerd, tmp_path):
    """The other direction: what this CLI saves, docker load (against dockerd) accepts."""
    pull(cli, busybox.ref)
    im = ib.small_image(7201)
    src = str(tmp_path / "src.tar")
    ib.write_docker_archive(src, [(im, ["e2e-cross/saved:v1"])])
    cli.ok("load", "-i", src)
    out = str(tmp_path / "cross.tar")
    cli.ok("save", "-o", out, "e2e-cross/saved:v1", busybox.ref)
    home = str(tmp_path)
    aux_docker(aux_dockerd, home, "rmi", "-f", im.id, busybox.image.id)
    p = aux_docker(aux_dockerd, home, "load", "-i", out)
    assert p.returncode == 0, p.stderr
    assert "Loaded image: e2e-cross/saved:v1" in p.stdout and f"Loaded image: {busybox.ref}" in p.stdout, p.stdout
    p = aux_docker(aux_dockerd, home, "image", "inspect", "--format", "{{.Id}}", "e2e-cross/saved:v1", busybox.ref)
    assert p.stdout.split() == [im.id, busybox.image.id], (p.stdout, p.stderr)


def test_load_garbage_fails(cli, tmp_path):
    bad = tmp_path / "garbage.tar"
    bad.write_bytes(b"this is not a tarball\n" * 100)
    before = sorted(cli.ok("images", "-q", "-a", "--no-trunc").stdout.split())
    p = cli.run("load", "-i", str(bad))
    assert p.returncode == 1 and p.stderr.strip(), (p.returncode, p.stderr)
    assert sorted(cli.ok("images", "-q", "-a", "--no-trunc").stdout.split()) == before


def test_import_rootfs(cli, tmp_path):
    import io
    buf = io.BytesIO()
    ib.write_tar(ib.busybox_entries(), buf)
    path = tmp_path / "rootfs.tar"
    path.write_bytes(buf.getvalue())
    p = cli.ok("import", "--change", "CMD [\"sh\"]", str(path), "e2e-local/imported:v1")
    new_id = p.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", new_id), p.stdout
    data = inspect(cli, "e2e-local/imported:v1")
    assert data["Id"] == new_id
    assert data["RootFS"]["Layers"] == [ib.sha256_digest(buf.getvalue())]
    assert data["Config"]["Cmd"] == ["sh"]
    with open(path, "rb") as f:
        p = subprocess.run([cli.binary, "import", "-", "e2e-local/imported:stdin"], env=cli.env(), stdin=f,
                           capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert image_exists(cli, "e2e-local/imported:stdin")


def test_history(cli, busybox):
    pull(cli, busybox.ref)
    p = cli.ok("history", busybox.ref)
    assert re.match(r"IMAGE\s+CREATED\s+CREATED BY\s+SIZE", p.stdout.splitlines()[0]), p.stdout
    p = cli.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", busybox.ref)
    assert "COPY busybox-static /bin/busybox" in p.stdout, p.stdout
    p = cli.ok("history", "-q", "--no-trunc", busybox.ref)
    assert busybox.image.id in p.stdout.split()
    assert cli.run("history", "e2e-no-such:x").returncode == 1


def test_image_prune_dangling(cli, tmp_path):
    a, b = ib.small_image(7101), ib.small_image(7102)
    for n, im in (("a", a), ("b", b)):
        path = str(tmp_path / f"{n}.tar")
        ib.write_docker_archive(path, [(im, ["e2e-local/prune:same"])])
        cli.ok("load", "-i", path)
    # a lost its tag to b: dangling.
    p = cli.ok("images", "--filter", "dangling=true", "-q", "--no-trunc")
    assert a.id in p.stdout.split() and b.id not in p.stdout.split(), p.stdout
    p = cli.ok("image", "prune", "-f")
    assert a.id in p.stdout and "Total reclaimed space" in p.stdout, p.stdout
    assert not image_exists(cli, a.id) and image_exists(cli, "e2e-local/prune:same")


def test_system_df(cli, busybox):
    pull(cli, busybox.ref)
    p = cli.ok("system", "df")
    assert re.search(r"^Images\s+\d+\s+\d+", p.stdout, re.M), p.stdout
    p = cli.ok("system", "df", "-v")
    assert busybox.name in p.stdout


def test_exit_codes(cli, registry):
    p = cli.run("images", "--no-such-flag")
    assert p.returncode == 125, (p.returncode, p.stderr)
    p = cli.run("pull", f"{registry.host}/e2e/does-not-exist:latest")
    assert p.returncode == 1 and p.stderr.strip(), (p.returncode, p.stderr)
    p = cli.run("inspect", "e2e-no-such-object")
    assert p.returncode == 1
    p = cli.run("pull", "INVALID//Reference")
    assert p.returncode == 1 and "invalid reference format" in p.stderr, (p.returncode, p.stderr)


def test_events(cli, busybox):
    pull(cli, busybox.ref)
    since = str(int(time.time()) - 1)
    cli.ok("tag", busybox.ref, "e2e-local/events:x")
    cli.ok("rmi", "e2e-local/events:x")
    time.sleep(1.1)
    until = str(int(time.time()) + 1)
    p = cli.ok("events", "--since", since, "--until", until, "--filter", "type=image", "--format", "{{json .}}",
               timeout=60)
    evs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    actions = [(e.get("Action") or e.get("status"), e.get("Actor", {}).get("Attributes", {}).get("name", e.get("id")))
               for e in evs]
    assert ("tag", "e2e-local/events:x") in actions, actions
    assert ("untag", busybox.image.id) in actions or any(a == "untag" for a, _ in actions), actions
    assert all(e.get("Type") == "image" for e in evs)
    # A filter that matches nothing.
    p = cli.ok("events", "--since", since, "--until", until, "--filter", "event=delete", "--filter",
               "image=e2e-local/never:x", timeout=60)
    assert p.stdout.strip() == ""
