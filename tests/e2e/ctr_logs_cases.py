"""Compressed logs: json-file's `--log-opt compress=true` and the `local` log driver (rotated
files gzip'd, 20m x 5 and compressed by default). Shared by test_containers_cli.py (the berth
CLI) and test_containers_docker_cli.py (the real docker CLI). What `logs` shows is checked
against any daemon; the files on disk are berthd's (docker keeps `local` logs in a format of its
own) and are checked only there."""

import gzip
import json
import os
import signal
import time

from conftest import berthd_only, is_berthd
from ctr_cli_cases import insp, run_d, wait_state
from ctrutil import clean, img  # noqa: F401 - fixtures
from e2eutil import wait_until

# 400 numbered lines of ~60 bytes: ~24 kB of log, many 2 kB files.
_LINES = ("i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; "
          "i=$((i+1)); done")


def _numbers(text):
    return [int(line.split("-")[1]) for line in text.splitlines()]


def _no_container(cli, name):
    return cli.run("inspect", name).returncode != 0


def _compressed_set(base, rotated):
    """Waits until the monitor's background compression is done: base.1..base.rotated are
    .gz, none is plain. Returns the entries of each .gz, newest first."""
    d = os.path.dirname(base)
    wait_until(lambda: not any(os.path.exists(f"{base}.{k}") for k in range(1, rotated + 1)),
               10, interval=0.1, what=f"compression in {d}: {sorted(os.listdir(d))}")
    entries = []
    for k in range(1, rotated + 1):
        with gzip.open(f"{base}.{k}.gz", "rt") as f:
            entries.append([json.loads(line) for line in f])
    assert not os.path.exists(f"{base}.{rotated + 1}.gz"), sorted(os.listdir(d))
    assert not [f for f in os.listdir(d) if f.endswith(".tmp")], sorted(os.listdir(d))
    return entries


def test_json_file_compress(cli, img, clean):
    cid = run_d(cli, img, "cli-gz", "sh", "-c", _LINES,
                opts=("--log-opt", "max-size=2k", "--log-opt", "max-file=4",
                      "--log-opt", "compress=true"))
    wait_state(cli, "cli-gz", "exited")
    c = insp(cli, "cli-gz")
    assert c["HostConfig"]["LogConfig"] == {
        "Type": "json-file", "Config": {"max-size": "2k", "max-file": "4", "compress": "true"}}
    nums = _numbers(cli.ok("logs", "cli-gz").stdout)
    assert nums[-1] == 399 and nums == list(range(nums[0], 400)), nums
    # ~125 bytes an entry: ~16 in each of the three full rotated files, and the live one.
    assert len(nums) > 3 * 14, len(nums)
    assert _numbers(cli.ok("logs", "--tail", "30", "cli-gz").stdout) == list(range(370, 400))
    if is_berthd():
        path = c["LogPath"]
        assert path.endswith(f"{cid}-json.log"), path
        rotated = _compressed_set(path, 3)
        # Newest first: .1.gz ends where the live file begins, and so on down.
        firsts = [int(e[0]["log"].split("-")[1]) for e in rotated]
        assert firsts == sorted(firsts, reverse=True), firsts
        assert all(e["stream"] == "stdout" and e["log"].startswith("line-") for e in rotated[0])


def test_compress_needs_a_second_file(cli, img, clean):
    p = cli.run("run", "-d", "--name", "cli-gz1", "--log-opt", "compress=true",
                "--log-opt", "max-file=1", img, "true")
    assert p.returncode != 0
    assert "compress cannot be true when max-file is less than 2" in p.stderr, p.stderr
    if is_berthd():
        # Refused at create: no container to clean up (docker refuses at start).
        assert _no_container(cli, "cli-gz1")
    p = cli.run("run", "--rm", "--log-opt", "compress=maybe", img, "true")
    assert p.returncode != 0 and "parsing \"maybe\": invalid syntax" in p.stderr, p.stderr


def test_local_log_driver(cli, img, clean, daemon):
    cid = run_d(cli, img, "cli-local", "sh", "-c", _LINES,
                opts=("--log-driver", "local", "--log-opt", "max-size=2k"))
    wait_state(cli, "cli-local", "exited")
    c = insp(cli, "cli-local")
    assert c["HostConfig"]["LogConfig"] == {"Type": "local", "Config": {"max-size": "2k"}}
    # docker shows a log path for json-file only.
    assert c["LogPath"] == "", c["LogPath"]
    nums = _numbers(cli.ok("logs", "cli-local").stdout)
    assert nums[-1] == 399 and nums == list(range(nums[0], 400)), nums
    assert len(nums) > 4 * 14, len(nums)  # the live file and four rotated ones (max-file 5)
    assert _numbers(cli.ok("logs", "--tail", "50", "cli-local").stdout) == list(range(350, 400))
    if is_berthd():
        base = os.path.join(daemon.data_root, "containers", cid, "local-logs", "container.log")
        assert len(_compressed_set(base, 4)) == 4  # max-file 5 by default, compressed


def test_local_log_driver_bad_options(cli, img, clean):
    berthd_only("dockerd 20.10 checks local's options only at start and leaves the container")
    p = cli.run("create", "--name", "cli-local1", "--log-driver", "local",
                "--log-opt", "max-file=1", img, "true")
    assert p.returncode != 0
    assert "compression cannot be enabled when max file count is 1" in p.stderr, p.stderr
    assert _no_container(cli, "cli-local1")
    p = cli.run("create", "--name", "cli-local2", "--log-driver", "local",
                "--log-opt", "labels=app", img, "true")
    assert p.returncode != 0
    assert "unknown log opt 'labels' for local log driver" in p.stderr, p.stderr
    assert _no_container(cli, "cli-local2")
    # Without compression one file is fine.
    p = cli.run("run", "--rm", "--log-driver", "local", "--log-opt", "max-file=1",
                "--log-opt", "compress=false", img, "echo", "one")
    assert p.returncode == 0 and p.stdout == "one\n", p.stderr


def test_daemon_default_log_driver_local(cli, img, clean, daemon):
    """daemon.json's "log-driver": "local" (and its log-opts) for containers that name no
    driver; applied on SIGHUP (dockerd needs a restart for it)."""
    berthd_only("dockerd does not reload log-driver")
    cfg = os.path.join(daemon.base, "daemon.json")
    before = open(cfg).read()

    def reload_to(text, driver):
        with open(cfg, "w") as f:
            f.write(text)
        os.kill(daemon.pid, signal.SIGHUP)
        wait_until(lambda: json.loads(cli.ok("info", "--format", "{{json .}}").stdout)
                   ["LoggingDriver"] == driver, 10, interval=0.1, what=f"LoggingDriver {driver}")

    try:
        reload_to(json.dumps({"log-driver": "local", "log-opts": {"max-size": "4k"}}), "local")
        cli.ok("create", "--name", "cli-dflt", img, "true")
        assert insp(cli, "cli-dflt")["HostConfig"]["LogConfig"] == {
            "Type": "local", "Config": {"max-size": "4k"}}
        cli.ok("create", "--name", "cli-dflt-own", "--log-opt", "max-file=2", img, "true")
        assert insp(cli, "cli-dflt-own")["HostConfig"]["LogConfig"] == {
            "Type": "local", "Config": {"max-file": "2"}}
        cli.ok("create", "--name", "cli-dflt-json", "--log-driver", "json-file", img, "true")
        assert insp(cli, "cli-dflt-json")["HostConfig"]["LogConfig"]["Type"] == "json-file"
        # json-file's options are not local's: named, nothing created.
        p = cli.run("create", "--name", "cli-dflt-bad", "--log-opt", "labels=app", img, "true")
        assert p.returncode != 0
        assert "unknown log opt 'labels' for local log driver" in p.stderr, p.stderr
        assert _no_container(cli, "cli-dflt-bad")
        # A daemon.json whose log-opts do not suit its log-driver is refused as a whole.
        with open(cfg, "w") as f:
            json.dump({"log-driver": "local", "log-opts": {"max-file": "1"}}, f)
        os.kill(daemon.pid, signal.SIGHUP)
        time.sleep(0.5)
        assert json.loads(cli.ok("info", "--format", "{{json .}}").stdout)["LoggingDriver"] == "local"
        cli.ok("create", "--name", "cli-dflt2", img, "true")
        assert insp(cli, "cli-dflt2")["HostConfig"]["LogConfig"]["Config"] == {"max-size": "4k"}
    finally:
        reload_to(before, "json-file")
