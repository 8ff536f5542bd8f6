"""Image commands through the real docker CLI (/usr/local/bin/docker, 28.x) with
DOCKER_HOST=unix://<daemon socket>: compatibility of the daemon's API with docker."""

import os

import pytest

from cli_cases import *  # noqa: F401,F403 - the shared test functions
from conftest import DOCKER_CLI, Cli


@pytest.fixture
def cli(daemon, home):
    if not os.access(DOCKER_CLI, os.X_OK):
        pytest.fail(f"{DOCKER_CLI} is missing")
    return Cli(DOCKER_CLI, daemon, home)
