"""Image builds through the `berth` CLI ($BERTH; BERTH_E2E_CLI overrides). Cases in
build_cases.py."""

import pytest

from build_cases import *  # noqa: F401,F403 - the shared test functions and fixtures
from conftest import Cli, berth_cli_path


@pytest.fixture
def cli(daemon, home):
    return Cli(berth_cli_path(), daemon, home)
