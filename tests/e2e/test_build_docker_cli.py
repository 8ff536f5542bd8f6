"""Image builds through the real docker CLI (/usr/local/bin/docker, 28.x, no buildx plugin: it
uses the classic builder's POST /build, as it would against any daemon). Cases in
build_cases.py."""

import os

import pytest

from build_cases import *  # noqa: F401,F403 - the shared test functions and fixtures
from conftest import DOCKER_CLI, Cli


@pytest.fixture
def cli(daemon, home):
    if not os.access(DOCKER_CLI, os.X_OK):
        pytest.fail(f"{DOCKER_CLI} is missing")
    return Cli(DOCKER_CLI, daemon, home)
