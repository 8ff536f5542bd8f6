"""Reliability of pulls: kill -9 of berthd at 20 random points during pulls of "big", and two
concurrent pulls of one image through a counting proxy.

The kill loop and everything about the data-root layout (content/blobs, orphan blobs) are
berthd-only. BERTH_E2E_KILL_DOCKERD=1 runs the kill loop against dockerd too, without the
layout checks, to validate the harness itself."""

import http.client
import os
import random
import threading
import time

import pytest

from conftest import is_berthd
from servers import CountingProxy
from storecheck import assert_no_orphans

ROUNDS = int(os.environ.get("BERTH_E2E_KILL_ROUNDS", "20"))


def _assert_complete_or_absent(d, pushed):
    """No partial image: if listed, it is whole (inspect works, all layers present)."""
    ids = d.api.image_ids()
    if pushed.image.id not in ids:
        assert d.api.inspect(pushed.ref).status == 404
        return False
    r = d.api.inspect(pushed.image.id)
    assert r.status == 200, r
    assert r.json()["RootFS"]["Layers"] == [l.diff_id for l in pushed.image.layers]
    return True


def _pull_ignoring_disconnect(api, ref):
    # The daemon is killed under this request: a reset connection is the expected outcome.
    try:
        api.pull(ref, timeout=120)
    except (OSError, http.client.HTTPException):
        pass


@pytest.fixture
def proxy(registry):
    p = CountingProxy("127.0.0.1", registry.port).start()
    yield p
    p.stop()


def test_concurrent_pulls_download_each_blob_once(make_daemon, big, proxy):
    d = make_daemon().start()
    ref = f"{proxy.host}/{big.repo}:latest"
    results = []

    def pull():
        results.append(d.api.pull(ref, timeout=900))

    threads = [threading.Thread(target=pull) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert len(results) == 2 and all(not err for _, err in results), results
    assert big.image.id in d.api.image_ids()
    layer_digests = {l.digest for l in big.image.layers}
    gets = {k: v for k, v in proxy.blob_gets.items() if k in layer_digests}
    assert set(gets) == layer_digests, proxy.blob_gets
    assert all(v == 1 for v in gets.values()), f"blobs fetched more than once: {gets}"
    # dockerd 20.10 fetches the small config blob once per pull; berthd must share it too.
    assert proxy.blob_gets.get(big.image.id, 0) <= (1 if is_berthd() else 2)
    full = sum(l.size for l in big.image.layers)
    assert proxy.total_blob_bytes() <= full + 2 * len(big.image.config_bytes)
    if is_berthd():
        assert_no_orphans(d, [big])


def test_kill9_during_pulls(make_daemon, big, busybox, registry):
    if not is_berthd() and os.environ.get("BERTH_E2E_KILL_DOCKERD") != "1":
        pytest.skip("berthd only: crash consistency of berth's store (BERTH_E2E_KILL_DOCKERD=1 runs the harness on dockerd)")
    rng = random.Random(int(os.environ.get("BERTH_E2E_SEED", "0")) or None)
    # ~25 MB/s per stream: the 42 MB layer takes ~2 s, so random points land inside the pull.
    proxy = CountingProxy("127.0.0.1", registry.port, slow_bytes_per_s=25 << 20).start()
    try:
        d = make_daemon().start()
        r, err = d.api.pull(busybox.ref)
        assert not err, err
        ref = f"{proxy.host}/{big.repo}:latest"
        full = sum(l.size for l in big.image.layers)
        pulled_ok = 0
        log = []
        for i in range(ROUNDS):
            if big.image.id in d.api.image_ids():
                assert d.api.remove(big.image.id, force=True).status == 200
            if is_berthd():
                d.gc()  # blobs of a removed image go, so every round really downloads
            last = i == ROUNDS - 1
            proxy.reset()
            t = threading.Thread(target=_pull_ignoring_disconnect, args=(d.api, ref), daemon=True)
            t.start()
            if last:
                # The last kill comes after a good part was downloaded, so the retry can reuse it.
                deadline = time.monotonic() + 60
                while proxy.total_blob_bytes() < full * 0.4 and time.monotonic() < deadline and t.is_alive():
                    time.sleep(0.02)
            else:
                time.sleep(rng.uniform(0.0, 3.0))
            served = proxy.total_blob_bytes()
            d.kill9()
            t.join(timeout=30)
            d.start()
            complete = _assert_complete_or_absent(d, big)
            pulled_ok += complete
            log.append((i, served, complete))
            assert busybox.image.id in d.api.image_ids(), f"round {i}: an unrelated image vanished"
        # The retried pull completes and reuses what was downloaded before the last kill.
        proxy.reset()
        r, err = d.api.pull(ref, timeout=900)
        assert not err, f"retried pull failed: {err}; rounds: {log}"
        assert _assert_complete_or_absent(d, big)
        retried = proxy.total_blob_bytes()
        if is_berthd():
            assert retried < full * 0.9, f"retried pull fetched {retried} of {full} bytes: nothing reused; rounds: {log}"
            assert_no_orphans(d, [big, busybox])
            # Partial downloads are gone or still resumable, never blobs of their own.
        d.stop()
    finally:
        proxy.stop()
