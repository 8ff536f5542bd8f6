"""Fixtures for the e2e suites.

Environment:
  BERTH_E2E_DAEMON  berthd (default) | dockerd: which daemon the suites drive. dockerd mode
                    (Debian's dockerd 20.10) validates the suites themselves; points only berth
                    has (search on a private registry's catalog, its data-root layout) run only
                    in berthd mode and are skipped with that reason under dockerd.
  BERTHD, BERTH     the daemon and CLI under test (set by CTest). In berthd mode a missing
                    binary is a failure, never a skip.
  BERTH_E2E_CLI     the CLI test_images_cli drives; default $BERTH (in dockerd mode, when $BERTH
                    is missing, the docker CLI stands in so the suite's logic is still checked).
  BERTH_TEST_ROOT=1 not being root is a failure instead of a skip (CI).
  BERTH_E2E_CACHE   cache of the big image (default /var/tmp/berth-e2e-cache).
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import imagebuild as ib  # noqa: E402
from daemons import Daemon  # noqa: E402
from e2eutil import remove_tree  # noqa: E402
from registry import Registry  # noqa: E402
from tokenserver import TokenServer  # noqa: E402

DOCKER_CLI = "/usr/local/bin/docker"
KIND = os.environ.get("BERTH_E2E_DAEMON", "berthd")
USER, PASSWORD = "e2euser", "e2e-Secret-1"


def pytest_configure(config):
    # docker-py 5 on Python 3.11 warns about distutils on every call; not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:docker.utils.utils")


def is_berthd():
    return KIND == "berthd"


def berthd_only(reason="berthd-only check"):
    """Skip in dockerd mode: the check is about berth's own behaviour or layout."""
    if not is_berthd():
        pytest.skip(f"berthd only: {reason}")


@pytest.fixture(scope="session", autouse=True)
def _root_only():
    if KIND not in ("berthd", "dockerd"):
        pytest.fail(f"BERTH_E2E_DAEMON={KIND!r}: expected berthd or dockerd")
    if os.geteuid() != 0:
        if os.environ.get("BERTH_TEST_ROOT") == "1":
            pytest.fail("e2e tests need root and BERTH_TEST_ROOT=1 forbids skipping")
        pytest.skip("e2e tests need root")


def _check_binary(var):
    path = os.environ.get(var)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"berthd mode: ${var}={path!r} is not an executable file (build it, or run with "
                    f"BERTH_E2E_DAEMON=dockerd to validate the suites)")
    return path


@pytest.fixture(scope="session")
def daemon_kind():
    return KIND


def new_daemon(**kw):
    if is_berthd():
        _check_binary("BERTHD")
    return Daemon(KIND, **kw)


@contextlib.contextmanager
def running_daemon(**kw):
    """A started daemon (new_daemon's arguments), cleaned up on exit."""
    d = new_daemon(**kw)
    try:
        d.start()
        yield d
    finally:
        d.cleanup()


@pytest.fixture(scope="module")
def daemon():
    with running_daemon() as d:
        yield d


@pytest.fixture
def make_daemon():
    """Factory for tests that need their own daemon (tmpfs data root, kill -9, ...)."""
    made = []

    def make(**kw):
        d = new_daemon(**kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.cleanup()


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="e2e-session-", dir="/var/tmp")
    yield d
    remove_tree(d)


def _registry(auth=None, token_server=None):
    r = Registry(auth=auth, user=USER, password=PASSWORD, token_server=token_server)
    try:
        r.start()
    except BaseException:
        r.cleanup()
        raise
    return r


@pytest.fixture(scope="session")
def registry():
    r = _registry()
    yield r
    r.cleanup()


@pytest.fixture(scope="session")
def basic_registry():
    r = _registry("htpasswd")
    yield r
    r.cleanup()


@pytest.fixture(scope="session", params=["RS256", "ES256"])
def token_registry(request, workdir):
    ts = TokenServer(workdir, {USER: PASSWORD}, alg=request.param).start()
    r = None
    try:
        r = _registry("token", token_server=ts)
        yield r
    finally:
        if r:
            r.cleanup()
        ts.stop()


class Pushed:
    def __init__(self, registry, repo, tag, image, digest):
        self.registry, self.repo, self.tag, self.image, self.digest = registry, repo, tag, image, digest
        self.name = f"{registry.host}/{repo}"
        self.ref = f"{self.name}:{tag}"
        self.by_digest = f"{self.name}@{digest}"


@pytest.fixture(scope="session")
def busybox(registry):
    im = ib.busybox_image()
    c = registry.client()
    digest = c.push_image("e2e/busybox", "latest", im)
    c.push_image("e2e/busybox", "1.0", im)
    return Pushed(registry, "e2e/busybox", "latest", im, digest)


@pytest.fixture(scope="session")
def multiarch(registry):
    idx = ib.multiarch_index()
    digest = registry.client().push_image("e2e/multi", "latest", idx)
    registry.client().push_image("e2e/multi-arm", "latest", idx)
    return Pushed(registry, "e2e/multi", "latest", idx, digest)


@pytest.fixture(scope="session")
def big(registry):
    im = ib.big_image()
    digest = registry.client().push_image("e2e/big", "latest", im)
    return Pushed(registry, "e2e/big", "latest", im, digest)


@pytest.fixture(scope="session")
def aux_dockerd():
    """A separate dockerd (whatever the mode) for archives crossing between engines."""
    d = Daemon("dockerd")
    try:
        d.start()
        yield d
    finally:
        d.cleanup()


def aux_docker(aux, home, *args, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST=aux.host, HOME=home)
    return subprocess.run([DOCKER_CLI, *args], env=env, capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="session")
def dockerd_saved_archive(busybox, workdir, aux_dockerd):
    """A tarball written by dockerd's `docker save`."""
    path = os.path.join(workdir, "dockerd-saved.tar")
    p = aux_docker(aux_dockerd, workdir, "pull", "-q", busybox.ref)
    assert p.returncode == 0, p.stderr
    p = aux_docker(aux_dockerd, workdir, "save", "-o", path, busybox.ref)
    assert p.returncode == 0, p.stderr
    return path


class Cli:
    """Runs a docker-compatible CLI against the daemon, with its own HOME (so logins land in
    HOME/.docker/config.json)."""

    def __init__(self, binary, daemon, home):
        self.binary, self.daemon, self.home = binary, daemon, home
        self.name = os.path.basename(binary)

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        e.update(DOCKER_HOST=self.daemon.host, HOME=self.home, NO_COLOR="1")
        return e

    def run(self, *args, input=None, timeout=300, check=None):
        p = subprocess.run([self.binary, *args], env=self.env(), input=input, capture_output=True,
                           text=True, timeout=timeout)
        if check is True:
            assert p.returncode == 0, f"{self.name} {' '.join(args)} -> {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}"
        return p

    def ok(self, *args, **kw):
        return self.run(*args, check=True, **kw)

    def config_json(self):
        import json
        p = os.path.join(self.home, ".docker", "config.json")
        if not os.path.exists(p):
            return {}
        with open(p) as f:
            return json.load(f)


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return str(h)


def berth_cli_path():
    override = os.environ.get("BERTH_E2E_CLI")
    if override:
        return override
    if is_berthd():
        return _check_binary("BERTH")
    b = os.environ.get("BERTH")
    return b if b and os.access(b, os.X_OK) else DOCKER_CLI


def have_docker_cli():
    return shutil.which(DOCKER_CLI) is not None
