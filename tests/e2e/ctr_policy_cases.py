"""Events, restart policies and health checks through a docker-compatible CLI. Shared by
test_containers_cli.py (the berth CLI) and test_containers_docker_cli.py (the real docker
CLI), like ctr_cli_cases.py."""

import json
import time

import pytest

from conftest import berthd_only
from ctr_cli_cases import insp, ps_names, run_d, wait_state
from ctrutil import clean, img  # noqa: F401 - fixtures
from e2eutil import wait_until


# --- events, restart policies, health --------------------------------------------------------

def _events(cli, since, *filters):
    args = ["events", "--since", str(since), "--until", str(int(time.time()) + 1), "--format", "{{json .}}"]
    for f in filters:
        args += ["--filter", f]
    out = cli.ok(*args, timeout=60).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def test_events_lifecycle(cli, img, clean):
    since = int(time.time()) - 1
    cid = run_d(cli, img, "cli-ev", "sh", "-c", "sleep 1; exit 2")
    wait_state(cli, "cli-ev", "exited")
    cli.ok("rm", "cli-ev")
    evs = _events(cli, since, "container=" + cid)
    actions = [e["Action"] for e in evs if e.get("Type") == "container"]
    for a in ("create", "start", "die", "destroy"):
        assert a in actions, actions
    assert actions.index("create") < actions.index("start") < actions.index("die") < actions.index("destroy")
    die = next(e for e in evs if e["Action"] == "die")
    assert die["Actor"]["Attributes"]["exitCode"] == "2" and die["Actor"]["Attributes"]["name"] == "cli-ev"
    # Whole seconds it ran (dockerd 25+): the 1 s sleep, plus at most a loaded machine's second.
    assert die["Actor"]["Attributes"]["execDuration"] in ("1", "2"), die
    # Go's field names of the event (.Status is "status", .From "from") work in --format.
    args = ["events", "--since", str(since), "--until", str(int(time.time()) + 1), "--filter",
            "container=" + cid, "--format", "{{.Status}} {{.ID}} {{.From}} {{.Scope}}"]
    lines = cli.ok(*args, timeout=60).stdout.splitlines()
    assert lines and lines[0].split() == ["create", cid, img, "local"], lines
    # Its network: connected at start, disconnected after it ended (docker's events).
    net = [e for e in _events(cli, since, "type=network") if e["Actor"]["Attributes"].get("container") == cid]
    assert [e["Action"] for e in net] == ["connect", "disconnect"], net
    assert all(e["Actor"]["Attributes"]["name"] == "bridge" for e in net), net


def test_events_stop_order(cli, img, clean):
    """docker's stop answers after the network went back: die, network disconnect, stop.
    On a network of its own (the test dockerd runs without a default bridge)."""
    since = int(time.time()) - 1
    net = "cli-evstop-net"
    cli.ok("network", "create", net)
    try:
        cid = run_d(cli, img, "cli-evstop", "sleep", "300", opts=("--network", net))
        cli.ok("stop", "-t", "1", "cli-evstop")
        mine = [(e["Type"], e["Action"]) for e in _events(cli, since)
                if e["Actor"]["ID"] == cid or e["Actor"].get("Attributes", {}).get("container") == cid]
        tail = [x for x in mine if x[1] in ("die", "disconnect", "stop")]
        assert tail == [("container", "die"), ("network", "disconnect"), ("container", "stop")], mine
    finally:
        cli.run("rm", "-f", "cli-evstop")
        cli.run("network", "rm", net)


def test_restart_on_failure_counts(cli, img, clean):
    run_d(cli, img, "cli-onfail", "sh", "-c", "echo run; exit 3", opts=("--restart", "on-failure:2"))
    wait_until(lambda: insp(cli, "cli-onfail", "{{.State.Status}} {{.RestartCount}}") == "exited 2", 30,
               what="two restarts then exited")
    time.sleep(1.5)
    assert insp(cli, "cli-onfail", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}") == "exited 2 3"
    assert cli.ok("logs", "cli-onfail").stdout == "run\n" * 3
    # Exit 0 is not a failure.
    run_d(cli, img, "cli-onfail0", "true", opts=("--restart", "on-failure"))
    wait_state(cli, "cli-onfail0", "exited")
    time.sleep(1)
    assert insp(cli, "cli-onfail0", "{{.RestartCount}}") == "0"


def test_restart_always_and_stop(cli, img, clean):
    run_d(cli, img, "cli-always", "sh", "-c", "sleep 0.3; exit 1", opts=("--restart", "always"))
    wait_until(lambda: int(insp(cli, "cli-always", "{{.RestartCount}}")) >= 2, 30, what="always restarts")
    assert insp(cli, "cli-always", "{{.HostConfig.RestartPolicy.Name}}") == "always"
    cli.ok("stop", "-t", "1", "cli-always")
    n = insp(cli, "cli-always", "{{.RestartCount}}")
    time.sleep(2)
    assert insp(cli, "cli-always", "{{.State.Status}} {{.RestartCount}}") == f"exited {n}", \
        "a stopped container is not restarted"
    run_d(cli, img, "cli-norestart", "sh", "-c", "exit 1", opts=("--restart", "no"))
    wait_state(cli, "cli-norestart", "exited")
    time.sleep(1)
    assert insp(cli, "cli-norestart", "{{.RestartCount}}") == "0"


HEALTH = ("--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", "--health-retries", "2",
          "--health-timeout", "3s")


def _health(cli, name):
    return insp(cli, name, "{{.State.Health.Status}}")


def test_health_checks(cli, img, clean):
    since = int(time.time()) - 1
    cid = run_d(cli, img, "cli-health", "sleep", "300", opts=HEALTH)
    assert _health(cli, "cli-health") in ("starting", "unhealthy")
    wait_until(lambda: _health(cli, "cli-health") == "unhealthy", 20, what="unhealthy")
    st = cli.ok("ps", "--format", "{{.Status}}", "--filter", "name=cli-health").stdout.strip()
    assert st.endswith("(unhealthy)"), st
    assert ps_names(cli, "--filter", "health=unhealthy") == ["cli-health"]
    h = insp(cli, "cli-health")["State"]["Health"]
    assert h["FailingStreak"] >= 2 and h["Log"] and h["Log"][-1]["ExitCode"] == 1, h
    # Probes go on once unhealthy, and inspect shows them as they come (the streak grows).
    streak = h["FailingStreak"]
    wait_until(lambda: insp(cli, "cli-health")["State"]["Health"]["FailingStreak"] > streak + 1, 20,
               what="the failing streak to grow past the status change")
    cli.ok("exec", "cli-health", "touch", "/tmp/ok")
    wait_until(lambda: _health(cli, "cli-health") == "healthy", 20, what="healthy")
    st = cli.ok("ps", "--format", "{{.Status}}", "--filter", "name=cli-health").stdout.strip()
    assert st.endswith("(healthy)"), st
    h = insp(cli, "cli-health")["State"]["Health"]
    assert h["FailingStreak"] == 0 and h["Log"][-1]["ExitCode"] == 0
    assert insp(cli, "cli-health", "{{.State.Status}}") == "running", "docker never restarts an unhealthy container"
    evs = _events(cli, since, "container=" + cid, "type=container")
    hs = [e["Action"] for e in evs if e["Action"].startswith("health_status")]
    assert "health_status: unhealthy" in hs and "health_status: healthy" in hs, hs
    assert hs.index("health_status: unhealthy") < hs.index("health_status: healthy")
    # A check that outlives its timeout counts as a failure.
    run_d(cli, img, "cli-health-slow", "sleep", "300",
          opts=("--health-cmd", "sleep 5", "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "1"))
    wait_until(lambda: _health(cli, "cli-health-slow") == "unhealthy", 20, what="timeout -> unhealthy")
    run_d(cli, img, "cli-health-none", "sleep", "300", opts=("--no-healthcheck",))
    c = insp(cli, "cli-health-none")
    assert c["Config"]["Healthcheck"]["Test"] == ["NONE"] and not c["State"].get("Health"), c["State"]


def test_health_on_failure_restart(cli, img, clean):
    berthd_only("--health-on-failure is a berth extension (docker never restarts an unhealthy container)")
    if cli.name == "docker":
        pytest.skip("--health-on-failure is a berth CLI flag; the docker CLI has no such flag")
    run_d(cli, img, "cli-hof", "sh", "-c", "echo started; sleep 300",
          opts=HEALTH + ("--health-on-failure", "restart"))
    wait_until(lambda: int(insp(cli, "cli-hof", "{{.RestartCount}}")) >= 1, 30, what="restart on unhealthy")
    # RestartCount counts a restart when it is decided (as docker's); the new
    # process logs a moment later, after the restart back-off.
    wait_until(lambda: cli.ok("logs", "cli-hof").stdout.count("started") >= 2, 15,
               what="the restarted process logs again")
    run_d(cli, img, "cli-hof-kill", "sleep", "300", opts=HEALTH + ("--health-on-failure", "kill"))
    wait_state(cli, "cli-hof-kill", "exited", timeout=30)
    assert insp(cli, "cli-hof-kill", "{{.RestartCount}}") == "0"
