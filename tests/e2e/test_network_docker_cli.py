"""Networks, ports and volumes through the real docker CLI (/usr/local/bin/docker) with
DOCKER_HOST pointing at the daemon under test (cases in net_cli_cases.py)."""

import os

import pytest

from conftest import DOCKER_CLI, Cli, berthd_only
from net_cli_cases import *  # noqa: F401,F403 - the shared test functions and fixtures


@pytest.fixture
def cli(daemon, home):
    if not os.access(DOCKER_CLI, os.X_OK):
        pytest.fail(f"{DOCKER_CLI} is missing")
    return Cli(DOCKER_CLI, daemon, home)


def test_ipv6_and_link_local_addresses_refused(cli, daemon, memos_img, clean):
    """berth's networks are IPv4 only and its endpoints have no extra addresses: `--ip6` and
    `--link-local-ip` (docker CLI flags; the berth CLI has neither) are refused by name at run
    and at connect, never dropped, and leave no container behind."""
    berthd_only("dockerd gives IPv6 subnets and link-local addresses")
    net = "e2e-v4only"
    try:
        cli.ok("network", "create", net)
        before = cli.ok("ps", "-aq").stdout.split()
        p = cli.run("run", "--rm", "--network", net, "--ip6", "fd00::5", memos_img, "true")
        assert p.returncode == 125, p
        assert f"user specified IPv6 address fd00::5 cannot be given on network {net}" in p.stderr, p.stderr
        p = cli.run("run", "--rm", "--network", net, "--link-local-ip", "169.254.1.1", memos_img, "true")
        assert p.returncode == 125 and "link-local IPs (--link-local-ip) are not supported" in p.stderr, p.stderr
        assert cli.ok("ps", "-aq").stdout.split() == before
        cli.ok("run", "-d", "--name", "e2e-v4", memos_img, "sleep", "300")
        p = cli.run("network", "connect", "--ip6", "fd00::6", net, "e2e-v4")
        assert p.returncode == 1 and "berth's networks are IPv4 only" in p.stderr, p.stderr
        nets = cli.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}", "e2e-v4").stdout
        assert net not in nets, nets
    finally:
        cli.run("rm", "-f", "e2e-v4")
        cli.run("network", "rm", net)
