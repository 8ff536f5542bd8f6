"""Networks, ports and volumes through the real docker CLI (/usr/local/bin/docker) with
DOCKER_HOST pointing at the daemon under test (cases in net_cli_cases.py)."""

import os

import pytest

from conftest import DOCKER_CLI, Cli
from net_cli_cases import *  # noqa: F401,F403 - the shared test functions and fixtures


@pytest.fixture
def cli(daemon, home):
    if not os.access(DOCKER_CLI, os.X_OK):
        pytest.fail(f"{DOCKER_CLI} is missing")
    return Cli(DOCKER_CLI, daemon, home)
