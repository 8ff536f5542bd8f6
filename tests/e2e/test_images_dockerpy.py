"""Image calls through docker-py (Debian's python3-docker) against the daemon's socket."""

import io
import json
import tarfile
import tempfile
import time

import docker
import pytest

import imagebuild as ib
from conftest import PASSWORD, USER, berthd_only


@pytest.fixture(scope="module")
def client(daemon):
    c = docker.DockerClient(base_url=daemon.host, version="auto", timeout=300)
    yield c
    c.close()


def test_ping_version(client):
    assert client.ping() is True
    v = client.version()
    assert v["ApiVersion"].startswith("1.") and v.get("Version")
    assert "Images" in client.info()


def test_pull_get_list(client, busybox):
    im = client.images.pull(busybox.name, tag="latest")
    assert im.id == busybox.image.id
    assert busybox.ref in im.tags
    assert client.images.get(busybox.ref).id == im.id
    assert client.images.get(busybox.image.id).attrs["Config"]["Cmd"] == ["sh"]
    ids = [i.id for i in client.images.list(name=busybox.name)]
    assert ids == [im.id]
    assert im.id in [i.id for i in client.images.list(filters={"label": "org.berth.e2e=busybox"})]
    assert client.images.list(filters={"label": "org.berth.e2e=nothing"}) == []
    with pytest.raises(docker.errors.ImageNotFound) as e:
        client.images.get("e2e-no-such:image")
    assert "No such image" in str(e.value)
    with pytest.raises(docker.errors.NotFound):
        client.images.pull(f"{busybox.registry.host}/e2e/does-not-exist", tag="latest")


def test_pull_by_digest_and_platform(client, multiarch):
    idx = multiarch.image
    im = client.images.pull(f"{multiarch.name}@{idx.manifest_digest}")
    assert im.id == idx.by_arch("amd64").id
    im = client.images.pull(f"{multiarch.registry.host}/e2e/multi-arm", tag="latest", platform="linux/arm64")
    assert im.id == idx.by_arch("arm64").id


def test_registry_data(client, busybox, multiarch):
    """GET /distribution/{name}/json: what the registry serves, nothing pulled."""
    before = {i.id for i in client.images.list(all=True)}
    rd = client.images.get_registry_data(busybox.ref)
    assert rd.id == busybox.digest, rd.attrs
    d = rd.attrs["Descriptor"]
    assert d["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json" and d["size"] > 0, d
    assert rd.attrs["Platforms"] == [{"architecture": "amd64", "os": "linux"}], rd.attrs
    assert rd.has_platform("linux/amd64") and not rd.has_platform("linux/arm64")
    assert client.images.get_registry_data(busybox.name).id == busybox.digest  # tagless: :latest
    rd = client.images.get_registry_data(multiarch.ref)
    assert rd.id == multiarch.digest and rd.attrs["Descriptor"]["mediaType"].endswith("list.v2+json"), rd.attrs
    plats = sorted(rd.attrs["Platforms"], key=lambda p: p["architecture"])
    assert [(p["os"], p["architecture"], p.get("variant", "")) for p in plats] == [
        ("linux", "amd64", ""), ("linux", "arm64", "v8")], plats
    assert client.images.get_registry_data(multiarch.by_digest).id == multiarch.digest
    assert {i.id for i in client.images.list(all=True)} == before, "nothing is pulled"
    with pytest.raises(docker.errors.NotFound):
        client.images.get_registry_data(f"{busybox.registry.host}/e2e/does-not-exist:latest")
    with pytest.raises(docker.errors.APIError) as e:
        client.images.get_registry_data("UPPER/case")
    msg = str(e.value)
    assert e.value.status_code in (400, 500) and ("UPPER/case" in msg or "uppercase" in msg), msg


def test_tag_remove(client, busybox):
    im = client.images.pull(busybox.name, tag="latest")
    assert im.tag("e2e-py/tagged", "a") is True
    assert "e2e-py/tagged:a" in client.images.get(im.id).tags
    client.images.remove("e2e-py/tagged:a")
    assert "e2e-py/tagged:a" not in client.images.get(im.id).tags
    im.tag("e2e-py/tagged", "b")
    with pytest.raises(docker.errors.APIError) as e:
        client.images.remove(im.id)
    assert e.value.status_code == 409
    client.images.remove(im.id, force=True)
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(im.id)


def test_push_roundtrip(client, busybox, registry):
    im = client.images.pull(busybox.name, tag="latest")
    repo = f"{registry.host}/e2e/py-roundtrip"
    im.tag(repo, "v1")
    out = list(client.images.push(repo, tag="v1", stream=True, decode=True))
    assert not [o for o in out if "error" in o], out
    digest = next(o["aux"]["Digest"] for o in out if "aux" in o)
    st, h, raw = registry.client().get_manifest("e2e/py-roundtrip", "v1")
    assert st == 200 and ib.sha256_digest(raw) == digest
    assert json.loads(raw)["config"]["digest"] == busybox.image.id
    client.images.remove(f"{repo}:v1")
    assert client.images.pull(repo, tag="v1").id == busybox.image.id


def test_save_load(client, busybox):
    im = client.images.pull(busybox.name, tag="latest")
    data = b"".join(im.save(named=True))
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        manifest = json.loads(tf.extractfile("manifest.json").read())
    assert manifest[0]["RepoTags"] == [busybox.ref]
    small = ib.small_image(8001)
    with tempfile.NamedTemporaryFile(suffix=".tar", dir="/var/tmp") as f:
        ib.write_docker_archive(f.name, [(small, ["e2e-py/loaded:v1"])])
        loaded = client.images.load(open(f.name, "rb").read())
    assert [i.id for i in loaded] == [small.id]
    assert "e2e-py/loaded:v1" in client.images.get(small.id).tags


def test_events_stream(client, busybox):
    im = client.images.pull(busybox.name, tag="latest")
    since = int(time.time()) - 1
    im.tag("e2e-py/events", "x")
    client.images.remove("e2e-py/events:x")
    time.sleep(1.1)
    evs = list(client.api.events(since=since, until=int(time.time()) + 1, filters={"type": "image"}, decode=True))
    actions = [e.get("Action") for e in evs]
    assert "tag" in actions and "untag" in actions, evs
    evs = list(client.api.events(since=since, until=int(time.time()) + 1,
                                 filters={"type": "image", "event": "tag"}, decode=True))
    assert evs and all(e["Action"] == "tag" for e in evs)


def test_prune(client):
    a, b = ib.small_image(8101), ib.small_image(8102)
    for im in (a, b):
        with tempfile.NamedTemporaryFile(suffix=".tar", dir="/var/tmp") as f:
            ib.write_docker_archive(f.name, [(im, ["e2e-py/prune:same"])])
            client.images.load(open(f.name, "rb").read())
    res = client.images.prune(filters={"dangling": True})
    deleted = [d.get("Deleted") for d in res.get("ImagesDeleted") or []]
    assert a.id in deleted, res
    assert isinstance(res["SpaceReclaimed"], int)


def test_df(client, busybox):
    client.images.pull(busybox.name, tag="latest")
    df = client.df()
    assert any(i["Id"] == busybox.image.id for i in df["Images"]), df["Images"]
    # ?type= (API 1.42) computes only what is asked; the rest is null.
    r = client.api.get(client.api._url("/system/df"), params=[("type", "volume"), ("type", "container")])
    assert r.status_code == 200, r.text
    part = r.json()
    assert part["Images"] is None and part["BuildCache"] is None and part["LayersSize"] == 0, part
    assert isinstance(part["Volumes"], list) and isinstance(part["Containers"], list), part
    r = client.api.get(client.api._url("/system/df"), params={"type": "bogus"})
    assert r.status_code == 400 and "unknown object type: bogus" in r.text, r.text


def test_list_shared_size_and_placeholders(client, busybox):
    im = client.images.pull(busybox.name, tag="latest")
    # An image on top of busybox's layers shares all of them with it.
    c = client.containers.create(im.id, "true")
    try:
        c.start()
        c.wait(timeout=30)
        child = c.commit("e2e-py/child", "v1")
        c.remove()
        c = None
        rows = {i["Id"]: i for i in client.api.get(client.api._url("/images/json"),
                                                    params={"shared-size": "1"}).json()}
        assert rows[im.id]["SharedSize"] == rows[im.id]["Size"] > 0, rows[im.id]
        assert rows[child.id]["SharedSize"] >= rows[im.id]["Size"], rows[child.id]
        # Without the parameter docker sends -1; a tagged image has no digest placeholder.
        plain = {i["Id"]: i for i in client.api.get(client.api._url("/images/json")).json()}
        assert plain[im.id]["SharedSize"] == -1
        assert plain[child.id]["RepoDigests"] in (None, []), plain[child.id]
        assert plain[child.id]["RepoTags"] == ["e2e-py/child:v1"]
    finally:
        if c is not None:
            c.remove(force=True)
        client.images.remove("e2e-py/child:v1")


def _login_push_pull(client, busybox, reg, repo):
    im = client.images.pull(busybox.name, tag="latest")
    target = f"{reg.host}/{repo}"
    im.tag(target, "v1")
    with pytest.raises(docker.errors.APIError):
        client.login(username=USER, password="wrong", registry=reg.host, reauth=True)
    res = client.login(username=USER, password=PASSWORD, registry=reg.host, reauth=True)
    assert res.get("Status") == "Login Succeeded", res
    auth = {"username": USER, "password": PASSWORD}
    out = list(client.images.push(target, tag="v1", stream=True, decode=True, auth_config=auth))
    assert not [o for o in out if "error" in o], out
    client.images.remove(f"{target}:v1")
    assert client.images.pull(target, tag="v1", auth_config=auth).id == busybox.image.id
    client.images.remove(f"{target}:v1")
    with pytest.raises(docker.errors.APIError):
        client.images.pull(target, tag="v1", auth_config={"username": USER, "password": "wrong"})


def test_login_basic(client, busybox, basic_registry):
    _login_push_pull(client, busybox, basic_registry, "e2e/py-basic")


def test_login_token(client, busybox, token_registry):
    _login_push_pull(client, busybox, token_registry, f"e2e/py-token-{token_registry.token_server.alg.lower()}")


def test_search_private_registry(client, busybox, registry):
    berthd_only("dockerd 20.10 searches only the v1 search API (Docker Hub), not a registry's catalog")
    res = client.images.search(f"{registry.host}/busybox")
    assert any(r["name"].endswith("e2e/busybox") for r in res), res
