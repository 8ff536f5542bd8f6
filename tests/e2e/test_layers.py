"""Layer apply as the daemon stores it: whiteouts and an opaque dir across the layers of
"big", and hardlinks, setuid bits, xattrs and device nodes of a small special layer.

The layer directories are read from the daemon's data root (berthd: snapshots/*/fs;
dockerd: overlay2/*/diff). When they are overlay layers (whiteouts as 0/0 char devices,
trusted.overlay.opaque), the test mounts them read-only as one overlay to check the merged
view; when the snapshotter copies (each snapshot a full tree), the top one is the view."""

import glob
import io
import os
import stat
import subprocess
import tarfile
import tempfile

import pytest

import imagebuild as ib
from conftest import is_berthd


def layer_dirs(d):
    if is_berthd():
        return sorted(glob.glob(os.path.join(d.data_root, "snapshots", "*", "fs")))
    return sorted(glob.glob(os.path.join(d.data_root, "overlay2", "*", "diff")))


def _has_file(root, rel, content=None):
    p = os.path.join(root, rel)
    if not os.path.isfile(p) or os.path.islink(p):
        return False
    if content is None:
        return True
    with open(p, "rb") as f:
        return f.read() == content


def _walk_names(root):
    for r, dirs, files in os.walk(root):
        for n in dirs + files:
            yield os.path.join(r, n), n


READDED = b"re-added in layer 4\n"


def _merged_view(dirs, facts, stack):
    """Returns (path of the merged view, overlay?)."""
    top = [x for x in dirs if _has_file(x, facts["readded"], READDED)]
    assert len(top) == 1, f"the layer-4 snapshot is not unique: {top}"
    top = top[0]
    if _has_file(top, facts["kept"]):
        return top, False  # copying snapshotter: the top snapshot is the whole tree
    l3 = [x for x in dirs if x != top and _has_file(x, os.path.join(facts["opaque_dir"], "after-opaque.txt"))]
    l2 = [x for x in dirs if x not in (top, *l3) and _has_file(x, facts["layer2_file"])]
    l1 = [x for x in dirs if x not in (top, *l3, *l2) and _has_file(x, facts["kept"])]
    assert len(l3) == len(l2) == len(l1) == 1, (l3, l2, l1)
    mnt = tempfile.mkdtemp(prefix="e2e-merged-", dir="/var/tmp")
    stack.append(mnt)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"ro,lowerdir={top}:{l3[0]}:{l2[0]}:{l1[0]}", mnt],
                   check=True)
    return mnt, True


@pytest.fixture
def mounts():
    stack = []
    yield stack
    for m in reversed(stack):
        subprocess.run(["umount", m], check=False)
        os.rmdir(m)


def test_big_whiteouts_and_opaque_dir(make_daemon, big, mounts):
    d = make_daemon().start()
    r, err = d.api.pull(big.ref, timeout=900)
    assert not err, err
    facts = big.image.facts
    dirs = layer_dirs(d)
    assert dirs, f"no layer directories under {d.data_root}"
    # Whiteouts never land as .wh. files: converted to the snapshotter's form.
    for x in dirs:
        wh = [p for p, n in _walk_names(x) if n.startswith(".wh.")]
        assert not wh, f"whiteout files stored verbatim: {wh[:5]}"
    view, overlay = _merged_view(dirs, facts, mounts)
    with open("/" + facts["kept"], "rb") as host, open(os.path.join(view, facts["kept"]), "rb") as img:
        assert host.read() == img.read()
    assert _has_file(view, facts["layer3_file"])
    for rel in facts["deleted"][1:]:
        assert not os.path.lexists(os.path.join(view, rel)), f"{rel} was whited out in layer 3"
    assert _has_file(view, facts["readded"], READDED)
    assert not os.path.lexists(os.path.join(view, facts["deleted_dir"])), "directory whiteout of layer 4"
    assert os.listdir(os.path.join(view, facts["opaque_dir"])) == ["after-opaque.txt"]
    if overlay:
        l3 = [x for x in dirs if os.path.isfile(os.path.join(x, facts["opaque_dir"], "after-opaque.txt"))][0]
        assert os.getxattr(os.path.join(l3, facts["opaque_dir"]), "trusted.overlay.opaque") == b"y"
        wh = os.lstat(os.path.join(l3, facts["deleted"][1]))
        assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == 0


def _special_layer(marker):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        def add(ti, data=None):
            ti.mtime, ti.uid, ti.gid = 1704067200, 0, 0
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
        d = tarfile.TarInfo(marker)
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        add(d)
        f = tarfile.TarInfo(f"{marker}/setuid")
        f.mode = 0o4755
        add(f, b"#!/bin/sh\n")
        x = tarfile.TarInfo(f"{marker}/xattr")
        x.mode = 0o644
        x.pax_headers = {"SCHILY.xattr.user.e2e": "berth"}
        add(x, b"has an xattr\n")
        h = tarfile.TarInfo(f"{marker}/hardlink")
        h.type, h.linkname, h.mode = tarfile.LNKTYPE, f"{marker}/setuid", 0o4755
        add(h)
        c = tarfile.TarInfo(f"{marker}/null")
        c.type, c.mode, c.devmajor, c.devminor = tarfile.CHRTYPE, 0o666, 1, 3
        add(c)
    raw = buf.getvalue()
    return ib.Layer(tar_bytes=raw, gz_bytes=ib.gzip_bytes(raw))


def test_special_files_kept(make_daemon, registry):
    marker = "e2e-special"
    im = ib.Image([_special_layer(marker)], labels={"org.berth.e2e": "special"})
    registry.client().push_image("e2e/special", "latest", im)
    d = make_daemon().start()
    r, err = d.api.pull(f"{registry.host}/e2e/special:latest", timeout=300)
    assert not err, err
    roots = [x for x in layer_dirs(d) if os.path.isdir(os.path.join(x, marker))]
    assert len(roots) == 1, roots
    base = os.path.join(roots[0], marker)
    st = os.lstat(os.path.join(base, "setuid"))
    assert st.st_mode & stat.S_ISUID and stat.S_IMODE(st.st_mode) == 0o4755
    assert os.lstat(os.path.join(base, "hardlink")).st_ino == st.st_ino
    assert os.getxattr(os.path.join(base, "xattr"), "user.e2e") == b"berth"
    dev = os.lstat(os.path.join(base, "null"))
    assert stat.S_ISCHR(dev.st_mode) and (os.major(dev.st_rdev), os.minor(dev.st_rdev)) == (1, 3)
