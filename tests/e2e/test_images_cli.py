"""Image commands through the `berth` CLI ($BERTH; see conftest for BERTH_E2E_CLI)."""

import pytest

from cli_cases import *  # noqa: F401,F403 - the shared test functions
from conftest import Cli, berth_cli_path


@pytest.fixture
def cli(daemon, home):
    return Cli(berth_cli_path(), daemon, home)
