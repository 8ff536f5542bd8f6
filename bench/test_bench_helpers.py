"""Tests of bench/proctime.py and bench/instant_engine.py (no root, no daemons).

The instant engine is exercised with the real docker CLI (/usr/local/bin/docker, part of
this project's test machine): a stand-in the CLI does not accept would measure nothing.
"""
import os
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import proctime  # noqa: E402
from instant_engine import InstantEngine  # noqa: E402

DOCKER = "/usr/local/bin/docker"


def test_timed_run_reports_exit_code_stderr_and_time():
    t = proctime.timed_run(["/bin/sh", "-c", "echo oops >&2; sleep 0.05; exit 3"])
    assert t.returncode == 3
    assert t.stderr == b"oops\n"
    assert 0.05 <= t.seconds < 5


def test_timed_run_kills_on_timeout():
    t0 = time.perf_counter()
    with pytest.raises(subprocess.TimeoutExpired):
        proctime.timed_run(["/bin/sleep", "30"], timeout=0.3)
    assert time.perf_counter() - t0 < 5


def test_timed_run_has_no_polling_quantum(monkeypatch):
    # subprocess.run(timeout=...) reaps the child by polling waitpid with time.sleep between
    # tries; a child that closes its stderr and lives on a little makes it poll. timed_run
    # must wait blocking instead: no sleep at all, whatever the machine's load (timing the
    # two against each other was flaky on a busy machine).
    real_sleep = time.sleep
    sleeps = []

    def counting_sleep(s):
        sleeps.append(s)
        real_sleep(s)

    monkeypatch.setattr(time, "sleep", counting_sleep)
    child = ["/bin/sh", "-c", "exec 2>&-; /bin/sleep 0.1"]
    subprocess.run(child, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    assert sleeps, "the polled wait did not poll: this test would prove nothing"
    sleeps.clear()
    t = proctime.timed_run(child)
    assert t.returncode == 0 and t.seconds >= 0.1
    assert sleeps == []


@pytest.fixture
def instant():
    d = tempfile.mkdtemp(prefix="instant-")
    eng = InstantEngine(os.path.join(d, "e.sock")).start()
    yield eng, d
    eng.stop()
    assert not os.path.exists(eng.path)
    os.rmdir(d)


def _docker(eng, d, *args, timeout=30):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST=eng.host, HOME=d)
    return subprocess.run([DOCKER, *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_docker_cli_runs_against_the_instant_engine(instant):
    eng, d = instant
    p = _docker(eng, d, "run", "--rm", "--network", "none", "some/image:tag", "true")
    assert p.returncode == 0, p.stderr
    # ping, create, attach, wait, start: every request the CLI makes was answered
    assert eng.requests == 5
    p = _docker(eng, d, "version", "--format", "{{.Server.Version}}")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "0.0.0-instant"


def test_instant_engine_refuses_what_it_does_not_model(instant):
    eng, d = instant
    p = _docker(eng, d, "ps")
    assert p.returncode != 0
    assert "instant engine: no route for GET /containers/json" in p.stderr
