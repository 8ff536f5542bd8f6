"""Container commands through the real docker CLI (/usr/local/bin/docker, 28.x) with
DOCKER_HOST=unix://<daemon socket>: `run --rm IMG echo hi`, `run -it` under a pty, exec,
logs -f, cp, stats --no-stream, wait, restart policies, health checks and the rest of the
cases shared with the berth CLI suite (ctr_cli_cases.py)."""

import json
import os

import pytest

from conftest import DOCKER_CLI, Cli, is_berthd
from ctr_cli_cases import *  # noqa: F401,F403 - the shared test functions and fixtures
from ctr_resource_cases import *  # noqa: F401,F403
from ctr_platform_cases import *  # noqa: F401,F403
from ctr_logs_cases import *  # noqa: F401,F403
from ctr_tty_cases import *  # noqa: F401,F403
from ctr_policy_cases import *  # noqa: F401,F403


@pytest.fixture
def cli(daemon, home):
    if not os.access(DOCKER_CLI, os.X_OK):
        pytest.fail(f"{DOCKER_CLI} is missing")
    return Cli(DOCKER_CLI, daemon, home)


def test_info_names_usable_runtimes(cli, img, clean):
    """`docker info` lists the runtimes a run may name, and the default among them."""
    info = json.loads(cli.ok("info", "--format", "{{json .}}").stdout)
    runtimes = info["Runtimes"]
    assert info["DefaultRuntime"] in runtimes, (info["DefaultRuntime"], runtimes)
    names = list(runtimes) if is_berthd() else [info["DefaultRuntime"]]  # dockerd lists legacy shims
    for name in names:
        p = cli.run("run", "--rm", "--runtime", name, img, "true")
        assert p.returncode == 0, (name, p.stderr)
