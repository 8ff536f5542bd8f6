"""Fixtures for the runtime integration tests.

Environment:
  BERTH_RUNTIME   the OCI runtime CLI under test (berth-runtime, or runc/crun to
                  validate the tests themselves). Required.
  BERTH_PROBE     the static probe binary; if unset it is compiled from
                  tests/probe with `gcc -static` into a session temp dir.
  BERTH_RUNTIME_ARGS extra global flags for the runtime (shell-split), e.g.
                  "--cgroup-manager=disabled" for crun on a hybrid-cgroup host.
  BERTH_TEST_ROOT=1  not being root is a failure instead of a skip (CI).
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from bundle import Bundle, default_spec  # noqa: E402
from rootfs import build_rootfs  # noqa: E402
from runtime import Runtime  # noqa: E402

PROBE_SRC = os.path.join(os.path.dirname(__file__), "..", "probe")


def _require_root():
    if os.geteuid() == 0:
        return
    if os.environ.get("BERTH_TEST_ROOT") == "1":
        pytest.fail("integration tests need root and BERTH_TEST_ROOT=1 forbids skipping")
    pytest.skip("integration tests need root")


@pytest.fixture(scope="session", autouse=True)
def _root_only():
    # Session-scoped autouse fixtures run before any other fixture, so nothing
    # (rootfs assembly, chown) is attempted without root.
    _require_root()


@pytest.fixture(scope="session")
def runtime_bin():
    path = os.environ.get("BERTH_RUNTIME")
    if not path:
        pytest.fail("set BERTH_RUNTIME to the runtime under test (berth-runtime, runc or crun)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"BERTH_RUNTIME={path} is not an executable file")
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def runtime_name(runtime_bin):
    """"runc", "crun" or "berth-runtime": for the few spec-permitted differences."""
    return os.path.basename(runtime_bin)


@pytest.fixture(scope="session")
def session_dir():
    d = tempfile.mkdtemp(prefix="berth-its-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def probe_bin(session_dir):
    path = os.environ.get("BERTH_PROBE")
    if path:
        assert os.access(path, os.X_OK), f"BERTH_PROBE={path} is not executable"
        return path
    out = os.path.join(session_dir, "berth-probe")
    sources = sorted(glob.glob(os.path.join(PROBE_SRC, "*.c")))
    subprocess.run(["gcc", "-static", "-std=gnu11", "-O1", "-o", out, *sources], check=True,
                   timeout=120)
    return out


@pytest.fixture(scope="session")
def rootfs_template(session_dir, probe_bin):
    return build_rootfs(os.path.join(session_dir, "rootfs"), probe_bin)


def _mounts_under(path):
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point == path or point.startswith(path + "/"):
                found.append(point)
    return found


@pytest.fixture
def workdir():
    """A short per-test temp dir (short so unix socket paths fit in 108 bytes)."""
    d = tempfile.mkdtemp(prefix="berth-it-")
    # Traversable by mapped (user namespace) ids, which must reach the rootfs.
    os.chmod(d, 0o755)
    yield d
    leaked = _mounts_under(d)
    # Never rmtree through a mount: a leaked bind of a host dir would be emptied.
    for point in sorted(leaked, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], timeout=20)
    if not _mounts_under(d):
        shutil.rmtree(d, ignore_errors=True)
    assert not leaked, f"mounts left under the test dir: {leaked}"


@pytest.fixture
def rt(runtime_bin, workdir):
    runtime = Runtime(runtime_bin, os.path.join(workdir, "rt"))
    yield runtime
    problems = runtime.cleanup()
    assert not problems, problems


@pytest.fixture
def make_bundle(runtime_bin, rootfs_template, workdir):
    """Factory: make_bundle() -> Bundle with its own rootfs copy and config.json."""
    count = [0]

    def factory():
        count[0] += 1
        path = os.path.join(workdir, f"bundle{count[0]}")
        os.makedirs(path)
        return Bundle(path, rootfs_template, default_spec(runtime_bin))

    return factory


@pytest.fixture
def bundle(make_bundle):
    return make_bundle()
