"""The README's first command, in its CI form: scripts/demo.sh --ci BUILD_DIR installs the
build into a temp prefix, starts that berthd (temp roots, own socket, bridge, nftables table
and free ports) and runs the tutorial offline with the berth CLI: search and pull the memo app
from a local registry, run it with -p, a bind mount in the home folder and -e, save a memo
through the app, rm -f, run again and find the memo, turn auto-start off, check the
dashboard's page and API; then it removes everything."""

import os
import subprocess

import pytest

from conftest import is_berthd
from netutil import link_exists

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_demo_tutorial():
    if not is_berthd():
        pytest.skip("berthd only: the demo installs and runs berthd")
    build = os.environ.get("BERTH_BUILD_DIR")
    if not build or not os.path.isdir(build):
        pytest.fail(f"$BERTH_BUILD_DIR={build!r} is not the build directory (set by CTest)")
    before = set(os.listdir("/var/tmp"))
    p = subprocess.run(["bash", os.path.join(REPO, "scripts", "demo.sh"), "--ci", build],
                       capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    assert "the memo survived `berth rm -f memos` and a new run" in out, out[-4000:]
    assert "restart policy: no" in out, out[-4000:]
    assert "dashboard: page and API answer" in out, out[-4000:]
    assert "demo: OK (cleaned up)" in out
    # Nothing of it is left: its temp dir, bridges, tables.
    left = [d for d in set(os.listdir("/var/tmp")) - before
            if d.startswith(("berth-demo-ci.", "e2e-registry-"))]
    assert left == []
    bridges = [n for n in os.listdir("/sys/class/net") if n.startswith("bdemo")]
    assert [b for b in bridges if link_exists(b)] == []
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    assert "berth_demo" not in tables
