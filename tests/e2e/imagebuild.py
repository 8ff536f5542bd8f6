"""Offline image builder: layer tars (tarfile + gzip), config JSON, Docker schema2 manifests,
manifest lists, and docker-archive tarballs; no docker needed.

Images: busybox (one layer from /bin/busybox + applet symlinks), a multi-arch index
(amd64 + arm64), "big" (~200 MB from host files, four layers with whiteouts and an opaque dir,
cached under /var/tmp/berth-e2e-cache keyed by a content hash), small distinct images, and
hostile layers for the bad-input tests."""

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile

from registry import MT_LIST, MT_MANIFEST

MT_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
CREATED = "2024-01-01T00:00:00Z"
CACHE_DIR = os.environ.get("BERTH_E2E_CACHE", "/var/tmp/berth-e2e-cache")
BUILDER_VERSION = "3"
APPLETS = ["sh", "ls", "cat", "echo", "true", "false", "sleep", "env", "id", "mkdir", "rm", "sync"]


def sha256_digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Entry:
    """One tar member: kind in file|dir|symlink|hardlink."""

    def __init__(self, path, kind="file", data=b"", link="", mode=None, src=None):
        self.path, self.kind, self.data, self.link, self.src = path, kind, data, link, src
        self.mode = mode if mode is not None else (0o755 if kind in ("dir",) else 0o644)


def _tarinfo(e):
    ti = tarfile.TarInfo(e.path)
    ti.mtime = 1704067200
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mode = e.mode
    if e.kind == "dir":
        ti.type = tarfile.DIRTYPE
    elif e.kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, e.link
    elif e.kind == "hardlink":
        ti.type, ti.linkname = tarfile.LNKTYPE, e.link
    return ti


def write_tar(entries, fileobj):
    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            ti = _tarinfo(e)
            if e.kind == "file":
                if e.src is not None:
                    ti.size = os.path.getsize(e.src)
                    with open(e.src, "rb") as f:
                        tf.addfile(ti, f)
                else:
                    ti.size = len(e.data)
                    tf.addfile(ti, io.BytesIO(e.data))
            else:
                tf.addfile(ti)


def gzip_bytes(raw, level=6):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=level) as g:
        g.write(raw)
    return buf.getvalue()


class Layer:
    """A layer kept in memory (small) or on disk (big): tar (uncompressed) and gz blobs."""

    def __init__(self, tar_bytes=None, gz_bytes=None, tar_path=None, gz_path=None,
                 diff_id=None, digest=None, size=None, created_by="e2e"):
        self.tar_bytes, self.gz_bytes = tar_bytes, gz_bytes
        self.tar_path, self.gz_path = tar_path, gz_path
        self.diff_id = diff_id or sha256_digest(tar_bytes)
        self.digest = digest or sha256_digest(gz_bytes)
        self.size = size if size is not None else len(gz_bytes)
        self.created_by = created_by

    @classmethod
    def from_entries(cls, entries, created_by="e2e"):
        buf = io.BytesIO()
        write_tar(entries, buf)
        raw = buf.getvalue()
        return cls(tar_bytes=raw, gz_bytes=gzip_bytes(raw), created_by=created_by)

    def gz(self):
        if self.gz_bytes is not None:
            return self.gz_bytes
        with open(self.gz_path, "rb") as f:
            return f.read()

    def tar(self):
        if self.tar_bytes is not None:
            return self.tar_bytes
        with open(self.tar_path, "rb") as f:
            return f.read()

    def descriptor(self):
        return {"mediaType": MT_LAYER, "size": self.size, "digest": self.digest}


MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def zstd_layer(entries, created_by="e2e zstd"):
    """A layer compressed with zstd (the zstd CLI; no Python binding on the host)."""
    import subprocess
    buf = io.BytesIO()
    write_tar(entries, buf)
    raw = buf.getvalue()
    z = subprocess.run(["zstd", "-q", "-c", "-3"], input=raw, capture_output=True, check=True).stdout
    layer = Layer(tar_bytes=raw, gz_bytes=z, created_by=created_by)
    layer.media_type = MT_OCI_LAYER_ZSTD
    return layer


class Image:
    def __init__(self, layers, cmd=("sh",), env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
                 labels=None, arch="amd64", os_name="linux", variant=None, extra_config=None, oci=False):
        self.layers = list(layers)
        self.arch, self.os, self.variant = arch, os_name, variant
        cfg = {
            "architecture": arch, "os": os_name, "created": CREATED,
            "config": {"Cmd": list(cmd), "Env": list(env), "Labels": dict(labels or {}),
                       "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [l.diff_id for l in self.layers]},
            "history": [{"created": CREATED, "created_by": l.created_by} for l in self.layers],
        }
        if variant:
            cfg["variant"] = variant
        cfg.update(extra_config or {})
        self.config = cfg
        self.config_bytes = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
        self.config_digest = sha256_digest(self.config_bytes)
        self.id = self.config_digest
        self.media_type = MT_OCI_MANIFEST if oci else MT_MANIFEST
        descs = [l.descriptor() for l in self.layers]
        for desc, l in zip(descs, self.layers):
            mt = getattr(l, "media_type", None)
            desc["mediaType"] = mt or (MT_OCI_LAYER if oci else MT_LAYER)
        self.manifest = {
            "schemaVersion": 2, "mediaType": self.media_type,
            "config": {"mediaType": MT_OCI_CONFIG if oci else MT_CONFIG, "size": len(self.config_bytes),
                       "digest": self.config_digest},
            "layers": descs,
        }
        self.manifest_bytes = json.dumps(self.manifest, indent=3).encode()
        self.manifest_digest = sha256_digest(self.manifest_bytes)

    def blobs(self):
        yield self.config_digest, self.config_bytes
        for l in self.layers:
            yield l.digest, l.gz()

    def uncompressed_size(self):
        return sum(len(l.tar()) if l.tar_bytes is not None else os.path.getsize(l.tar_path) for l in self.layers)


class Index:
    """A Docker manifest list over platform images."""

    def __init__(self, images):
        self.manifests = list(images)
        self.media_type = MT_LIST
        entries = []
        for im in self.manifests:
            plat = {"architecture": im.arch, "os": im.os}
            if im.variant:
                plat["variant"] = im.variant
            entries.append({"mediaType": im.media_type, "size": len(im.manifest_bytes),
                            "digest": im.manifest_digest, "platform": plat})
        self.manifest = {"schemaVersion": 2, "mediaType": MT_LIST, "manifests": entries}
        self.manifest_bytes = json.dumps(self.manifest, indent=3).encode()
        self.manifest_digest = sha256_digest(self.manifest_bytes)

    def blobs(self):
        for im in self.manifests:
            yield from im.blobs()

    def by_arch(self, arch):
        return next(im for im in self.manifests if im.arch == arch)


# --- busybox -----------------------------------------------------------------------------

def busybox_entries():
    ents = [Entry("bin", "dir"), Entry("etc", "dir"), Entry("tmp", "dir", mode=0o1777),
            Entry("bin/busybox", "file", src="/bin/busybox", mode=0o755)]
    ents += [Entry(f"bin/{a}", "symlink", link="busybox") for a in APPLETS]
    ents.append(Entry("etc/passwd", "file", data=b"root:x:0:0:root:/root:/bin/sh\n"))
    ents.append(Entry("etc/group", "file", data=b"root:x:0:\n"))
    return ents


_busybox_layer = None


def busybox_layer():
    global _busybox_layer
    if _busybox_layer is None:
        _busybox_layer = Layer.from_entries(busybox_entries(), created_by="COPY busybox-static /bin/busybox")
    return _busybox_layer


def busybox_image(labels=None):
    return Image([busybox_layer()], labels=labels or {"org.berth.e2e": "busybox"})


def small_image(n, labels=None):
    """A distinct small image: the shared busybox layer plus one tiny unique layer."""
    uniq = Layer.from_entries([Entry("id", "file", data=f"image {n}\n".encode())], created_by=f"ADD id {n}")
    lab = {"org.berth.e2e": "small", "org.berth.e2e.n": str(n)}
    lab.update(labels or {})
    return Image([busybox_layer(), uniq], labels=lab)


def multiarch_index():
    amd = Image([busybox_layer()], labels={"org.berth.e2e": "multi", "arch": "amd64"}, arch="amd64")
    arm_layer = Layer.from_entries([Entry("arch", "file", data=b"arm64\n")], created_by="ADD arch")
    arm = Image([arm_layer], labels={"org.berth.e2e": "multi", "arch": "arm64"}, arch="arm64", variant="v8")
    return Index([amd, arm])


# --- big -------------------------------------------------------------------------------

BIG_PLAN = [  # (host dir, budget bytes, files per directory) per base layer
    ("/usr/lib/x86_64-linux-gnu", 75 << 20, 60),
    ("/usr/share", 70 << 20, 60),
    ("/usr/bin", 50 << 20, 2000),
]
MAX_FILE = 16 << 20


def _select(host_dir, budget, per_dir):
    """Deterministic selection: sorted walk, regular files <= MAX_FILE, at most per_dir per
    directory (so the image spans many directories), until budget."""
    picked, total = [], 0
    for root, dirs, files in os.walk(host_dir):
        dirs.sort()
        for name in sorted(files)[:per_dir]:
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not os.path.isfile(p) or os.path.islink(p) or st.st_size > MAX_FILE or not os.access(p, os.R_OK):
                continue
            if "\n" in p or len(p) > 200:
                continue
            picked.append((p, st.st_size, st.st_mtime_ns))
            total += st.st_size
            if total >= budget:
                return picked
    return picked


def _dir_entries(paths):
    dirs = set()
    for p in paths:
        d = os.path.dirname(p)
        while d and d not in dirs:
            dirs.add(d)
            d = os.path.dirname(d)
    return [Entry(d, "dir") for d in sorted(dirs)]


def big_plan():
    """The layer entry lists and what they delete; depends only on the selected host files."""
    sel = [_select(d, b, n) for d, b, n in BIG_PLAN]
    layers = []
    for files in sel[:2]:
        rel = [p.lstrip("/") for p, _, _ in files]
        layers.append(_dir_entries(rel) + [Entry(r, "file", src="/" + r, mode=0o644) for r in rel])
    l1 = [p.lstrip("/") for p, _, _ in sel[0]]
    l2 = [p.lstrip("/") for p, _, _ in sel[1]]
    # Layer 3: new files, 25 whiteouts of layer-1 files, an opaque dir over a layer-2 dir.
    rel3 = [p.lstrip("/") for p, _, _ in sel[2]]
    deleted = l1[10:260:10][:25]
    by_dir = {}
    for r in l2:
        by_dir.setdefault(os.path.dirname(r), []).append(r)
    opaque = next(d for d in sorted(by_dir) if len(by_dir[d]) >= 3 and d.count("/") >= 3)
    l3 = _dir_entries(rel3 + deleted + [opaque + "/x"]) + [Entry(r, "file", src="/" + r, mode=0o755) for r in rel3]
    l3 += [Entry(os.path.join(os.path.dirname(r), ".wh." + os.path.basename(r)), "file") for r in deleted]
    l3 += [Entry(opaque + "/.wh..wh..opq", "file"), Entry(opaque + "/after-opaque.txt", "file", data=b"only me\n")]
    # Layer 4: re-add one deleted file, whiteout a whole layer-1 directory.
    readd = deleted[0]
    gone_dir = next(d for d in sorted({os.path.dirname(r) for r in l1}) if d.count("/") >= 3 and
                    not any(x.startswith(d + "/") for x in deleted))
    l4 = _dir_entries([readd, gone_dir]) + [Entry(readd, "file", data=b"re-added in layer 4\n")]
    l4.append(Entry(os.path.join(os.path.dirname(gone_dir), ".wh." + os.path.basename(gone_dir)), "file"))
    layers += [l3, l4]
    kept = next(r for r in l1 if r not in deleted and not r.startswith(gone_dir + "/"))
    facts = {"deleted": deleted, "opaque_dir": opaque, "readded": readd, "deleted_dir": gone_dir,
             "opaque_hidden": by_dir[opaque][:3], "kept": kept, "layer2_file": l2[0],
             "layer3_file": rel3[0]}
    key_src = json.dumps([BUILDER_VERSION, sel], sort_keys=True).encode()
    return layers, facts, hashlib.sha256(key_src).hexdigest()[:24]


def _write_layer_files(entries, out_dir, idx, created_by):
    tar_path = os.path.join(out_dir, f"layer{idx}.tar")
    with open(tar_path, "wb") as f:
        write_tar(entries, f)
    h = hashlib.sha256()
    gz_path = os.path.join(out_dir, f"layer{idx}.tar.gz")
    gh = hashlib.sha256()

    class _HashingWriter(io.RawIOBase):
        def __init__(self, f):
            self.f = f

        def write(self, b):
            gh.update(b)
            return self.f.write(b)

        def writable(self):
            return True

    with open(tar_path, "rb") as src, open(gz_path, "wb") as gzf:
        with gzip.GzipFile(fileobj=_HashingWriter(gzf), mode="wb", mtime=0, compresslevel=3) as g:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                g.write(chunk)
    return {"tar": tar_path, "gz": gz_path, "diff_id": "sha256:" + h.hexdigest(),
            "digest": "sha256:" + gh.hexdigest(), "size": os.path.getsize(gz_path), "created_by": created_by}


def big_image():
    """The ~200 MB image; built once per host-content hash, then read from the cache."""
    entries, facts, key = big_plan()
    d = os.path.join(CACHE_DIR, f"big-{key}")
    meta_path = os.path.join(d, "meta.json")
    if not os.path.exists(meta_path):
        os.makedirs(CACHE_DIR, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="big-building-", dir=CACHE_DIR)
        try:
            metas = [_write_layer_files(e, tmp, i, f"ADD layer {i} (host files, whiteouts)")
                     for i, e in enumerate(entries)]
            for m in metas:
                m["tar"] = os.path.basename(m["tar"])
                m["gz"] = os.path.basename(m["gz"])
            with open(os.path.join(tmp, "meta.json"), "w") as f:
                json.dump({"layers": metas, "facts": facts}, f)
            try:
                os.rename(tmp, d)
            except OSError:  # another run won the race
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    with open(meta_path) as f:
        meta = json.load(f)
    layers = [Layer(tar_path=os.path.join(d, m["tar"]), gz_path=os.path.join(d, m["gz"]), diff_id=m["diff_id"],
                    digest=m["digest"], size=m["size"], created_by=m["created_by"]) for m in meta["layers"]]
    im = Image(layers, cmd=("sh",), labels={"org.berth.e2e": "big"})
    im.facts = facts  # recomputed (cheap); the cache key covers everything they derive from
    return im


# --- hostile ---------------------------------------------------------------------------

def traversal_layer(name):
    return Layer.from_entries([Entry("ok", "dir"), Entry(f"../{name}", "file", data=b"escaped\n")])


def symlink_escape_layer(host_dir):
    """An absolute symlink to a host dir, then a file written through it."""
    return Layer.from_entries([Entry("evil", "symlink", link=host_dir),
                               Entry("evil/pwned", "file", data=b"escaped through symlink\n")])


# --- docker-archive ---------------------------------------------------------------------

def write_docker_archive(path, images_tags):
    """images_tags: [(Image, ["repo:tag", ...])]. Writes manifest.json, repositories, the
    config as <hex>.json and each layer as <id>/layer.tar (uncompressed)."""
    manifest, repositories = [], {}
    with tarfile.open(path, "w") as tf:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1704067200, 0o644
            tf.addfile(ti, io.BytesIO(data))

        def add_dir(name):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mtime, ti.mode = tarfile.DIRTYPE, 1704067200, 0o755
            tf.addfile(ti)

        seen = set()
        for im, tags in images_tags:
            cfg_name = im.config_digest.split(":")[1] + ".json"
            if cfg_name not in seen:
                add(cfg_name, im.config_bytes)
                seen.add(cfg_name)
            layer_names, parent = [], ""
            for l in im.layers:
                lid = hashlib.sha256((parent + "\n" + l.diff_id).encode()).hexdigest()
                if lid not in seen:
                    add_dir(lid)
                    add(f"{lid}/VERSION", b"1.0")
                    add(f"{lid}/json", json.dumps({"id": lid, "parent": parent} if parent else {"id": lid}).encode())
                    add(f"{lid}/layer.tar", l.tar())
                    seen.add(lid)
                layer_names.append(f"{lid}/layer.tar")
                parent = lid
            manifest.append({"Config": cfg_name, "RepoTags": list(tags), "Layers": layer_names})
            for t in tags:
                repo, _, tag = t.rpartition(":")
                repositories.setdefault(repo, {})[tag] = parent
        add("manifest.json", json.dumps(manifest).encode())
        add("repositories", json.dumps(repositories).encode())


def read_docker_archive(path):
    """(manifest.json list, {member name: bytes}) of a docker-archive tarball."""
    with tarfile.open(path) as tf:
        files = {m.name.lstrip("./"): tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}
    return json.loads(files["manifest.json"]), files
