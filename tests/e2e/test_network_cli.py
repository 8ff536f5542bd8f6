"""Networks, ports and volumes through the berth CLI (cases in net_cli_cases.py)."""

import pytest

from conftest import Cli, berth_cli_path
from net_cli_cases import *  # noqa: F401,F403 - the shared test functions and fixtures


@pytest.fixture
def cli(daemon, home):
    return Cli(berth_cli_path(), daemon, home)
