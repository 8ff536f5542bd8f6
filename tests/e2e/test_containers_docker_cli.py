"""Container commands through the real docker CLI (/usr/local/bin/docker, 28.x) with
DOCKER_HOST=unix://<daemon socket>: `run --rm IMG echo hi`, `run -it` under a pty, exec,
logs -f, cp, stats --no-stream, wait, restart policies, health checks and the rest of the
cases shared with the berth CLI suite (ctr_cli_cases.py)."""

import os

import pytest

from conftest import DOCKER_CLI, Cli
from ctr_cli_cases import *  # noqa: F401,F403 - the shared test functions and fixtures
from ctr_resource_cases import *  # noqa: F401,F403


@pytest.fixture
def cli(daemon, home):
    if not os.access(DOCKER_CLI, os.X_OK):
        pytest.fail(f"{DOCKER_CLI} is missing")
    return Cli(DOCKER_CLI, daemon, home)
