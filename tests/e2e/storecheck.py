"""Checks of berthd's content store against the images the tests pushed (berthd only: the
layout is docs/design/ARCHITECTURE.md section 3)."""


def allowed_blobs(pushed_list, listed_ids):
    """Blobs that images in listed_ids may hold: manifest(s), config, layers."""
    allowed = set()
    for p in pushed_list:
        im = p.image
        subs = getattr(im, "manifests", None) or [im]
        for sub in subs:
            if sub.id in listed_ids:
                allowed |= {sub.id, sub.manifest_digest, p.digest} | {l.digest for l in sub.layers}
    return allowed


def assert_no_orphans(d, pushed_list):
    """After gc, every blob under content/blobs belongs to a listed image."""
    listed = set(d.api.image_ids())
    known = set()
    for p in pushed_list:
        known |= {s.id for s in (getattr(p.image, "manifests", None) or [p.image])}
    assert listed <= known, f"unexpected images listed: {listed - known}"
    r = d.gc()
    assert r.status == 200, r
    orphans = d.blobs() - allowed_blobs(pushed_list, listed)
    assert not orphans, f"orphan blobs after gc: {sorted(orphans)}"
