"""Container commands through the `berth` CLI ($BERTH; BERTH_E2E_CLI overrides, and in
dockerd mode the docker CLI stands in when $BERTH is missing). Cases in ctr_cli_cases.py and
ctr_resource_cases.py."""

import pytest

from conftest import Cli, berth_cli_path
from ctr_cli_cases import *  # noqa: F401,F403 - the shared test functions and fixtures
from ctr_resource_cases import *  # noqa: F401,F403
from ctr_platform_cases import *  # noqa: F401,F403
from ctr_logs_cases import *  # noqa: F401,F403
from ctr_tty_cases import *  # noqa: F401,F403
from ctr_policy_cases import *  # noqa: F401,F403


@pytest.fixture
def cli(daemon, home):
    return Cli(berth_cli_path(), daemon, home)
