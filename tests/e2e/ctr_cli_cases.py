"""Container commands through a docker-compatible CLI; shared by test_containers_cli.py (the
berth CLI) and test_containers_docker_cli.py (the real docker CLI). The importing module
defines the `cli` fixture. Every test removes its containers (fixture `clean`); names are
distinct per test so a failure cannot leak into the next one."""

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

import pytest

from conftest import berthd_only, is_berthd
from ctrutil import clean, cbox, img  # noqa: F401 - fixtures
from ctrutil import cgroups_of
from e2eutil import pid_alive, wait_until

# The capability numbers' names, shared with the integration tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from caps import CAPS  # noqa: E402

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def run_d(cli, img, name, *cmd, opts=()):
    p = cli.run("run", "-d", "--name", name, *opts, img, *cmd)
    assert p.returncode == 0, f"run -d {name}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    cid = p.stdout.strip().splitlines()[-1]
    assert HEX64.match(cid), p.stdout
    return cid


def insp(cli, name, fmt=None):
    if fmt:
        return cli.ok("inspect", "--format", fmt, name).stdout.strip()
    data = json.loads(cli.ok("inspect", name).stdout)
    assert isinstance(data, list) and len(data) == 1
    return data[0]


def state(cli, name):
    return insp(cli, name, "{{.State.Status}}")


def wait_state(cli, name, want, timeout=30):
    want = (want,) if isinstance(want, str) else want
    return wait_until(lambda: state(cli, name) in want, timeout, interval=0.1, what=f"{name} in {want}")


def ps_names(cli, *args):
    return cli.ok("ps", *args, "--format", "{{.Names}}").stdout.split()


# --- run, ps, inspect --------------------------------------------------------------------

def test_run_detached_ps_filters_format(cli, img, clean):
    cid = run_d(cli, img, "cli-ps-a", "sleep", "300",
                opts=("-e", "K=V", "--label", "e2e.l=one", "--expose", "9000"))
    run_d(cli, img, "cli-ps-b", "sh", "-c", "exit 3", opts=("--label", "e2e.l=two"))
    wait_state(cli, "cli-ps-b", "exited")
    out = cli.ok("ps").stdout.splitlines()
    assert re.match(r"CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES", out[0]), out[0]
    row = [l for l in out if l.rstrip().endswith("cli-ps-a")]
    assert row and row[0].startswith(cid[:12]) and " Up " in row[0], out
    assert "cli-ps-b" not in cli.ok("ps").stdout
    assert {"cli-ps-a", "cli-ps-b"} <= set(ps_names(cli, "-a"))
    assert cli.ok("ps", "-q", "--no-trunc").stdout.split() == [cid]
    assert cli.ok("ps", "-q").stdout.split() == [cid[:12]]
    assert ps_names(cli, "-a", "--filter", "name=cli-ps-b") == ["cli-ps-b"]
    assert ps_names(cli, "-a", "--filter", "status=exited") == ["cli-ps-b"]
    assert ps_names(cli, "-a", "--filter", "exited=3") == ["cli-ps-b"]
    # Without -a, status lists stopped containers and exited does not (docker's rule).
    assert ps_names(cli, "--filter", "status=exited") == ["cli-ps-b"]
    assert ps_names(cli, "--filter", "exited=3") == []
    assert ps_names(cli, "-a", "--filter", "label=e2e.l=one") == ["cli-ps-a"]
    assert ps_names(cli, "-a", "--filter", f"id={cid[:16]}") == ["cli-ps-a"]
    assert set(ps_names(cli, "-a", "--filter", f"ancestor={img}")) == {"cli-ps-a", "cli-ps-b"}
    assert ps_names(cli, "-a", "-n", "1") == ["cli-ps-b"]
    assert ps_names(cli, "-l") == ["cli-ps-b"]
    assert ps_names(cli, "-a", "--filter", "before=cli-ps-b") == ["cli-ps-a"]
    assert ps_names(cli, "-a", "--filter", "since=cli-ps-a") == ["cli-ps-b"]
    # expose and publish match the container's configured ports (tcp unless given).
    assert ps_names(cli, "-a", "--filter", "expose=9000") == ["cli-ps-a"]
    assert ps_names(cli, "-a", "--filter", "expose=8990-9010/tcp") == ["cli-ps-a"]
    assert ps_names(cli, "-a", "--filter", "expose=9000/udp") == []
    assert ps_names(cli, "-a", "--filter", "publish=9000") == []
    for bad in ("expose=abc", "publish=8080:80"):
        p = cli.run("ps", "--filter", bad)
        assert p.returncode != 0 and bad.split("=")[0] in p.stderr, (bad, p.stderr)
    rows = cli.ok("ps", "-a", "--format", "{{.Names}}|{{.Status}}|{{.Image}}|{{.Labels}}").stdout.splitlines()
    byname = {r.split("|")[0]: r.split("|") for r in rows}
    assert byname["cli-ps-a"][1].startswith("Up "), rows
    assert byname["cli-ps-b"][1].startswith("Exited (3) "), rows
    assert byname["cli-ps-a"][2] == img
    assert "e2e.l=one" in byname["cli-ps-a"][3]
    js = json.loads(cli.ok("ps", "--format", "{{json .}}", "--filter", "name=cli-ps-a").stdout)
    assert js["Names"] == "cli-ps-a" and js["State"] == "running"
    # docker's .Label method: a label's value, "" when absent; its header is the key's last part.
    out = cli.ok("ps", "-a", "--format", 'table {{.Names}}\t{{.Label "e2e.l"}}|{{.Label "nope"}}|').stdout
    lines = [l.split() for l in out.splitlines()]
    assert lines[0] == ["NAMES", "l|nope|"], out
    assert ["cli-ps-a", "one||"] in lines and ["cli-ps-b", "two||"] in lines, out
    p = cli.run("ps", "--format", "{{.Label}}")
    assert p.returncode != 0 and "wrong number of args for Label: want 1 got 0" in p.stderr, p.stderr
    sizes = cli.ok("ps", "-s", "--filter", "name=cli-ps-a").stdout
    assert "SIZE" in sizes.splitlines()[0] and "virtual" in sizes, sizes
    assert cli.ok("exec", "cli-ps-a", "sh", "-c", "echo $K").stdout == "V\n"


def test_inspect_fields(cli, img, cbox, clean):
    cid = run_d(cli, img, "cli-insp", "sleep", "300", opts=("-e", "K=V", "-w", "/data", "--label", "x=y"))
    c = insp(cli, "cli-insp")
    assert c["Id"] == cid and c["Name"] == "/cli-insp"
    assert c["Image"] == cbox.image.id and c["Config"]["Image"] == img
    assert c["Path"] == "sleep" and c["Args"] == ["300"]
    st = c["State"]
    assert st["Status"] == "running" and st["Running"] is True and st["Paused"] is False
    assert st["Pid"] > 0 and pid_alive(st["Pid"]), st
    assert st["ExitCode"] == 0 and st["StartedAt"].startswith("20") and st["FinishedAt"].startswith("0001-")
    assert "K=V" in c["Config"]["Env"] and any(e.startswith("PATH=") for e in c["Config"]["Env"])
    assert c["Config"]["Cmd"] == ["sleep", "300"] and c["Config"]["WorkingDir"] == "/data"
    assert c["Config"]["Labels"]["x"] == "y" and c["Config"]["Labels"]["org.berth.e2e"] == "cbox"
    assert c["Config"]["Hostname"] == cid[:12]
    assert c["HostConfig"]["RestartPolicy"]["Name"] in ("", "no")
    assert c["HostConfig"]["LogConfig"]["Type"] == "json-file"
    # The defaults dockerd settles at create, as it shows them.
    h = c["HostConfig"]
    assert h["IpcMode"] == "private" and h["ShmSize"] == 64 << 20, h
    assert h["CgroupnsMode"] in ("host", "private") and h["PidsLimit"] is None, h
    assert h["MemorySwappiness"] is None and h["OomKillDisable"] is False, h
    assert "/proc/kcore" in h["MaskedPaths"] and "/proc/sys" in h["ReadonlyPaths"], h
    assert c["RestartCount"] == 0 and c["Created"].startswith("20")
    assert os.path.isfile(c["LogPath"]), c["LogPath"]
    with open(f"/proc/{st['Pid']}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"sleep"
    assert insp(cli, "cli-insp", "{{.State.Pid}}") == str(st["Pid"])
    # GraphDriver.Data: the overlay's directories, browsable from the host.
    gd = c["GraphDriver"]
    if gd["Name"] in ("overlayfs", "overlay2"):
        d = gd["Data"]
        cli.ok("exec", "cli-insp", "sh", "-c", "echo hi > /data/gd-file")
        with open(os.path.join(d["MergedDir"], "data/gd-file")) as f:
            assert f.read() == "hi\n"
        assert os.path.isfile(os.path.join(d["UpperDir"], "data/gd-file")), d
        assert os.path.isdir(d["WorkDir"]), d
        lowers = d["LowerDir"].split(":")
        assert lowers and all(os.path.isdir(x) for x in lowers), d
        assert any(os.path.exists(os.path.join(x, "bin/sh")) for x in lowers), d
    else:
        assert gd["Name"] == "copy" and is_berthd(), gd
    assert insp(cli, cid[:10], "{{.Name}}") == "/cli-insp"
    p = cli.run("inspect", "cli-no-such-container")
    assert p.returncode == 1 and "No such" in p.stderr, p.stderr


def test_run_rm_exit_code_and_stdin(cli, img, clean):
    p = cli.run("run", "--rm", "--name", "cli-rm", img, "echo", "hi")
    assert p.returncode == 0 and p.stdout == "hi\n", (p.stdout, p.stderr)
    p = cli.run("run", "--rm", img, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert p.returncode == 3 and p.stdout == "out\n" and "err\n" in p.stderr, (p.returncode, p.stdout, p.stderr)
    wait_until(lambda: "cli-rm" not in ps_names(cli, "-a"), 10, what="--rm removal")
    p = cli.run("run", "-i", "--rm", img, "sh", "-c", "cat; echo done", input="abc\nxyz\n")
    assert p.returncode == 0 and p.stdout == "abc\nxyz\ndone\n", (p.stdout, p.stderr)
    p = cli.run("run", "-i", "--rm", img, "wc", "-l", input="".join(f"{i}\n" for i in range(1000)))
    assert p.stdout.strip() == "1000", p.stdout
    # Attached foreground run without -i: stdin is not connected.
    p = cli.run("run", "--rm", img, "sh", "-c", "cat; echo eof", input="ignored\n")
    assert p.stdout == "eof\n", p.stdout
    assert ps_names(cli, "-a") == []


def test_run_rm_that_cannot_start_is_removed(cli, img, clean):
    # docker removes an --rm container whose start failed, and `run` (attached or -d)
    # returns only once it is gone; a client waiting for the removal must not hang.
    for opts in ((), ("-d",)):
        p = cli.run("run", "--rm", *opts, "--name", "cli-rm-bad", img, "no-such-binary", timeout=30)
        assert p.returncode == 127 and "no-such-binary" in p.stderr, (opts, p.returncode, p.stderr)
        assert "Error waiting" not in p.stderr, p.stderr  # dockerd's answer has no error either
        assert "cli-rm-bad" not in ps_names(cli, "-a"), opts
    cli.ok("create", "--rm", "--name", "cli-rm-bad2", img, "/etc")
    p = cli.run("start", "cli-rm-bad2", timeout=30)
    assert p.returncode != 0 and "/etc" in p.stderr, (p.returncode, p.stderr)
    wait_until(lambda: "cli-rm-bad2" not in ps_names(cli, "-a"), 10, what="removal after a failed start")
    # Create errors that are not about the image are not 404s (docker's CLI would pull).
    for opts in (("--network", "container:e2e-nosuch"), ("--volumes-from", "e2e-nosuch")):
        p = cli.run("run", "--rm", *opts, img, "true", timeout=30)
        assert p.returncode == 125 and "No such container: e2e-nosuch" in p.stderr, (opts, p.stderr)
        assert "Unable to find image" not in p.stderr, p.stderr
    # Without --rm the container stays, with the error in its state.
    p = cli.run("run", "--name", "cli-keep-bad", img, "no-such-binary", timeout=30)
    assert p.returncode == 127, (p.returncode, p.stderr)
    assert "no-such-binary" in insp(cli, "cli-keep-bad", "{{.State.Error}}")


# --- logs ----------------------------------------------------------------------------------

def test_container_has_its_own_session(cli, img, clean):
    # As runc gives them: the container's process (and an exec's) leads its own session and
    # process group, so a `kill 0` inside signals nothing outside the container.
    p = cli.run("run", "--rm", img, "sh", "-c", "cut -d' ' -f5,6 /proc/1/stat")
    assert p.returncode == 0 and p.stdout == "1 1\n", (p.stdout, p.stderr)
    p = cli.run("run", "--rm", img, "sh", "-c", "kill -USR1 0; kill -HUP 0; echo alive", timeout=30)
    assert p.returncode == 0 and p.stdout == "alive\n", (p.returncode, p.stdout, p.stderr)
    run_d(cli, img, "cli-sess", "sleep", "300")
    out = cli.ok("exec", "cli-sess", "sh", "-c", "cut -d' ' -f1,5,6 /proc/self/stat").stdout.split()
    assert len(out) == 3 and out[0] == out[1] == out[2], out
    # The exec's shell is not the container's init: its own signal ends it, nothing else.
    p = cli.run("exec", "cli-sess", "sh", "-c", "kill -USR1 0; true")
    assert p.returncode == 128 + signal.SIGUSR1, (p.returncode, p.stderr)
    assert state(cli, "cli-sess") == "running"
    assert cli.ok("exec", "cli-sess", "echo", "ok").stdout == "ok\n"


def test_logs_tail_timestamps_stderr(cli, img, clean):
    run_d(cli, img, "cli-logs", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; sleep 0.3; echo oops >&2")
    wait_state(cli, "cli-logs", "exited")
    p = cli.ok("logs", "cli-logs")
    assert p.stdout == "line1\nline2\nline3\nline4\nline5\n" and p.stderr == "oops\n", (p.stdout, p.stderr)
    p = cli.ok("logs", "--tail", "2", "cli-logs")
    assert p.stdout == "line5\n" and p.stderr == "oops\n", (p.stdout, p.stderr)
    p = cli.ok("logs", "--tail", "0", "cli-logs")
    assert p.stdout == "" and p.stderr == ""
    p = cli.ok("logs", "-t", "cli-logs")
    lines = p.stdout.splitlines()
    assert len(lines) == 5
    for l in lines:
        # docker's RFC3339NanoFixed: always nine fraction digits
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line\d$", l), l


def test_logs_details_from_log_opts(cli, img, clean):
    # --log-opt labels/env (and their -regex forms) put "attrs" in each entry; logs --details
    # prints them before the line, after the timestamp.
    run_d(cli, img, "cli-logd", "sh", "-c", "echo hello; echo oops >&2",
          opts=("-l", "app=web", "-l", "team=a b", "-e", "MODE=prod", "--log-opt", "labels=app",
                "--log-opt", "labels-regex=^te", "--log-opt", "env=MODE,NOSUCH"))
    run_d(cli, img, "cli-logp", "echo", "plain")
    wait_state(cli, "cli-logd", "exited")
    wait_state(cli, "cli-logp", "exited")
    p = cli.ok("logs", "--details", "cli-logd")
    assert p.stdout == "MODE=prod,app=web,team=a+b hello\n" and p.stderr == "MODE=prod,app=web,team=a+b oops\n", p
    p = cli.ok("logs", "--details", "-t", "cli-logd")
    assert re.match(r"^\S+Z MODE=prod,app=web,team=a\+b hello$", p.stdout.strip()), p.stdout
    assert cli.ok("logs", "cli-logd").stdout == "hello\n"
    assert cli.ok("logs", "--details", "cli-logp").stdout == " plain\n"
    if is_berthd():
        path = insp(cli, "cli-logd", "{{.LogPath}}")
        with open(path) as f:
            first = json.loads(f.readline())
        assert first["attrs"] == {"MODE": "prod", "app": "web", "team": "a b"}, first
    p = cli.run("run", "--rm", "--log-opt", "env-regex=(", img, "true")
    assert p.returncode == 125 and "env-regex" in p.stderr, p.stderr


def test_logs_since_until(cli, img, clean):
    run_d(cli, img, "cli-since", "sh", "-c", "echo early; sleep 2; echo late; sleep 300")
    wait_until(lambda: "late" in cli.ok("logs", "cli-since").stdout, 20, what="late line")
    ts = cli.ok("logs", "-t", "cli-since").stdout.splitlines()
    t_early = ts[0].split()[0]
    t_late = ts[1].split()[0]
    mid = _rfc3339_mid(t_early, t_late)
    assert cli.ok("logs", "--since", mid, "cli-since").stdout == "late\n"
    assert cli.ok("logs", "--until", mid, "cli-since").stdout == "early\n"
    assert cli.ok("logs", "--since", "1h", "cli-since").stdout == "early\nlate\n"
    for opt in ("since", "until"):
        p = cli.run("logs", f"--{opt}", "xyz", "cli-since")
        assert p.returncode == 1 and p.stderr.strip() == (
            f'invalid value for "{opt}": failed to parse value as time or duration: "xyz"'), p.stderr


def _rfc3339_mid(a, b):
    import datetime
    def parse(s):
        s = s.rstrip("Z")
        base, _, frac = s.partition(".")
        t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
        return t.timestamp() + float("0." + (frac or "0"))
    m = (parse(a) + parse(b)) / 2
    return f"{m:.3f}"


def test_logs_follow_bounded(cli, img, clean):
    run_d(cli, img, "cli-follow", "sh", "-c", "i=0; while [ $i -lt 15 ]; do echo tick$i; i=$((i+1)); sleep 0.2; done")
    t0 = time.monotonic()
    p = cli.run("logs", "-f", "cli-follow", timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "".join(f"tick{i}\n" for i in range(15)), p.stdout
    assert time.monotonic() - t0 < 30
    # -f on a running container: keeps streaming until the container stops.
    run_d(cli, img, "cli-follow2", "sh", "-c", "echo first; sleep 300")
    proc = subprocess.Popen([cli.binary, "logs", "-f", "cli-follow2"], env=cli.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        assert proc.poll() is None, "logs -f ended while the container runs"
        cli.ok("exec", "cli-follow2", "sh", "-c", "echo second > /proc/1/fd/1")
        cli.ok("stop", "-t", "1", "cli-follow2")
        out, _ = proc.communicate(timeout=30)
        assert out == "first\nsecond\n", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_log_rotation_max_size(cli, img, clean):
    cid = run_d(cli, img, "cli-rot", "sh", "-c",
                "i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done",
                opts=("--log-opt", "max-size=2k", "--log-opt", "max-file=3"))
    wait_state(cli, "cli-rot", "exited")
    c = insp(cli, "cli-rot")
    assert c["HostConfig"]["LogConfig"]["Config"] == {"max-size": "2k", "max-file": "3"}
    path = c["LogPath"]
    assert path.endswith(f"{cid}-json.log"), path
    assert os.path.exists(path + ".1"), os.listdir(os.path.dirname(path))
    assert not os.path.exists(path + ".3"), "max-file=3 keeps the live file and two rotated ones"
    assert os.path.getsize(path) <= 2048 + 200
    out = cli.ok("logs", "cli-rot").stdout.splitlines()
    assert out[-1].startswith("line-399-"), out[-3:]
    nums = [int(l.split("-")[1]) for l in out]
    assert nums == list(range(nums[0], 400)), "lines kept across rotated files are contiguous"
    p = cli.run("run", "-d", "--name", "cli-nolog", "--log-driver", "none", img, "echo", "x")
    assert p.returncode == 0, p.stderr
    wait_state(cli, "cli-nolog", "exited")
    p = cli.run("logs", "cli-nolog")
    assert p.returncode != 0 and "does not support reading" in p.stderr, p.stderr


def test_log_rotation_default_on(cli, img, clean):
    berthd_only("berth rotates json-file logs by default (10m x 3); dockerd 20.10 does not")
    run_d(cli, img, "cli-rotdef", "sh", "-c", "head -c 12000000 /dev/zero | tr '\\0' 'a' | fold -w 1000")
    wait_state(cli, "cli-rotdef", "exited", timeout=120)
    path = insp(cli, "cli-rotdef")["LogPath"]
    assert os.path.exists(path + ".1"), os.listdir(os.path.dirname(path))
    assert os.path.getsize(path + ".1") <= 10 * 1024 * 1024 + 4096


# --- exec ----------------------------------------------------------------------------------

def test_exec(cli, img, clean):
    run_d(cli, img, "cli-exec", "sleep", "300", opts=("-e", "BASE=1"))
    assert cli.run("exec", "cli-exec", "sh", "-c", "exit 3").returncode == 3
    assert cli.run("exec", "cli-exec", "true").returncode == 0
    assert cli.ok("exec", "-e", "A=B", "cli-exec", "sh", "-c", "echo $A$BASE").stdout == "B1\n"
    assert cli.ok("exec", "-w", "/data/sub", "cli-exec", "pwd").stdout == "/data/sub\n"
    assert cli.ok("exec", "-u", "1000", "cli-exec", "id", "-u").stdout == "1000\n"
    assert cli.ok("exec", "-u", "nobody", "cli-exec", "id", "-un").stdout == "nobody\n"
    assert cli.ok("exec", "-u", "1000:65534", "cli-exec", "id", "-g").stdout == "65534\n"
    p = cli.ok("exec", "-i", "cli-exec", "sh", "-c", "tr a-z A-Z", input="hello\n")
    assert p.stdout == "HELLO\n"
    p = cli.run("exec", "cli-exec", "sh", "-c", "echo o; echo e >&2")
    assert p.stdout == "o\n" and p.stderr == "e\n"
    assert cli.run("exec", "-d", "cli-exec", "sh", "-c", "sleep 1; touch /tmp/detached").returncode == 0
    wait_until(lambda: cli.run("exec", "cli-exec", "test", "-f", "/tmp/detached").returncode == 0, 15,
               what="exec -d side effect")
    p = cli.run("exec", "cli-exec", "no-such-binary")
    assert p.returncode in (126, 127) and "no-such-binary" in p.stdout + p.stderr, (p.returncode, p.stderr)
    # docker's exit codes: 127 for a path that does not exist, 126 for one that cannot be
    # run (a directory) and for an exec that cannot start at all (an unknown user).
    # (docker prints a runtime's exec error on stdout: docker/cli#2025.)
    p = cli.run("exec", "cli-exec", "/no/such/path")
    assert p.returncode == 127 and "no such file or directory" in p.stdout + p.stderr, (p.returncode, p.stderr)
    p = cli.run("exec", "cli-exec", "/data")
    assert p.returncode == 126 and "permission denied" in p.stdout + p.stderr, (p.returncode, p.stderr)
    p = cli.run("exec", "-u", "e2e-nosuch", "cli-exec", "true")
    assert p.returncode == 126 and "unable to find user e2e-nosuch" in p.stdout + p.stderr, p.returncode
    # The primary group heads the supplementary groups, as with dockerd.
    assert cli.ok("exec", "-u", "1000:65534", "cli-exec", "id").stdout == \
        "uid=1000(e2e) gid=65534(nogroup) groups=65534(nogroup)\n"
    p = cli.ok("run", "--rm", "-u", "e2e", "--group-add", "nogroup", img, "id")
    assert p.stdout == "uid=1000(e2e) gid=1000(e2e) groups=1000(e2e),65534(nogroup)\n", p.stdout


# --- lifecycle -----------------------------------------------------------------------------

# Each script says "ready" once its traps are set: `run -d` returns when the process has
# started, not when the shell has run its first line, and a signal sent before the trap
# takes the default action (exit 143 / 138 instead of the trap's code).
TRAP = 'trap "echo got-term; exit 7" TERM; trap "echo got-usr1; exit 9" USR1; echo ready; while true; do sleep 0.1; done'
STUBBORN = 'trap "" TERM; echo ready; while true; do sleep 0.1; done'


def wait_ready(cli, name, runs=1):
    """Until the log holds `runs` "ready" lines (the log spans the container's restarts)."""
    wait_until(lambda: cli.ok("logs", name).stdout.split().count("ready") >= runs, 15, interval=0.05,
               what=f"{name} set its traps ({runs} runs)")


def test_stop_start_restart_kill_rm(cli, img, clean):
    run_d(cli, img, "cli-life", "sh", "-c", TRAP)
    wait_ready(cli, "cli-life")
    pid1 = int(insp(cli, "cli-life", "{{.State.Pid}}"))
    t0 = time.monotonic()
    assert cli.ok("stop", "cli-life").stdout.strip() == "cli-life"
    assert time.monotonic() - t0 < 8, "SIGTERM was handled: no need to wait for the timeout"
    assert insp(cli, "cli-life", "{{.State.Status}} {{.State.ExitCode}}") == "exited 7"
    assert not pid_alive(pid1)
    assert "got-term" in cli.ok("logs", "cli-life").stdout
    started = insp(cli, "cli-life", "{{.State.StartedAt}}")
    cli.ok("start", "cli-life")
    assert state(cli, "cli-life") == "running"
    wait_ready(cli, "cli-life", runs=2)
    cli.ok("restart", "-t", "5", "cli-life")
    assert state(cli, "cli-life") == "running"
    assert insp(cli, "cli-life", "{{.State.StartedAt}}") != started
    wait_ready(cli, "cli-life", runs=3)
    cli.ok("kill", "-s", "USR1", "cli-life")
    wait_state(cli, "cli-life", "exited")
    assert insp(cli, "cli-life", "{{.State.ExitCode}}") == "9"
    # A process that ignores SIGTERM is killed after -t.
    run_d(cli, img, "cli-stubborn", "sh", "-c", STUBBORN)
    wait_ready(cli, "cli-stubborn")
    t0 = time.monotonic()
    cli.ok("stop", "-t", "1", "cli-stubborn")
    el = time.monotonic() - t0
    assert 0.9 < el < 8, el
    assert insp(cli, "cli-stubborn", "{{.State.ExitCode}}") == "137"
    cli.ok("start", "cli-stubborn")
    cli.ok("kill", "cli-stubborn")
    wait_state(cli, "cli-stubborn", "exited")
    assert insp(cli, "cli-stubborn", "{{.State.ExitCode}}") == "137"
    run_d(cli, img, "cli-stopsig", "sh", "-c", TRAP, opts=("--stop-signal", "USR1", "--stop-timeout", "3"))
    wait_ready(cli, "cli-stopsig")
    cli.ok("stop", "cli-stopsig")
    assert insp(cli, "cli-stopsig", "{{.State.ExitCode}}") == "9"
    run_d(cli, img, "cli-rmf", "sleep", "300")
    pid = int(insp(cli, "cli-rmf", "{{.State.Pid}}"))
    assert cli.ok("rm", "-f", "cli-rmf").stdout.strip() == "cli-rmf"
    assert "cli-rmf" not in ps_names(cli, "-a")
    wait_until(lambda: not pid_alive(pid), 10, what="rm -f killed the process")
    assert cli.ok("rm", "cli-life", "cli-stubborn").stdout.split() == ["cli-life", "cli-stubborn"]
    # A missing name fails rm, but not rm -f (reported all the same), as in docker.
    p = cli.run("rm", "cli-gone", "cli-stopsig")
    assert p.returncode == 1 and p.stdout.split() == ["cli-stopsig"], (p.stdout, p.stderr)
    assert p.stderr.strip() == "Error response from daemon: No such container: cli-gone", p.stderr
    p = cli.run("rm", "-f", "cli-gone")
    assert p.returncode == 0 and p.stderr.strip() == "Error response from daemon: No such container: cli-gone", (
        p.returncode, p.stderr)


def test_wait_and_rename(cli, img, clean):
    run_d(cli, img, "cli-wait", "sh", "-c", "sleep 1; exit 5")
    p = cli.run("wait", "cli-wait", timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == "5", (p.stdout, p.stderr)
    assert cli.ok("wait", "cli-wait").stdout.strip() == "5"
    cli.ok("rename", "cli-wait", "cli-renamed")
    assert insp(cli, "cli-renamed", "{{.Name}}") == "/cli-renamed"
    assert cli.run("inspect", "cli-wait").returncode != 0
    assert ps_names(cli, "-a") == ["cli-renamed"]


def test_pause_unpause(cli, img, clean):
    run_d(cli, img, "cli-pause", "sh", "-c", "i=0; while true; do echo $i > /tmp/n.t; mv /tmp/n.t /tmp/n; i=$((i+1)); sleep 0.05; done")
    cli.ok("pause", "cli-pause")
    assert insp(cli, "cli-pause", "{{.State.Status}} {{.State.Paused}}") == "paused true"
    assert cli.ok("ps", "--format", "{{.Status}}", "--filter", "name=cli-pause").stdout.strip().endswith("(Paused)")
    assert ps_names(cli, "--filter", "status=paused") == ["cli-pause"]
    p = cli.run("exec", "cli-pause", "true")
    assert p.returncode == 1, p.returncode
    assert "Container cli-pause is paused, unpause the container before exec" in p.stderr, p.stderr
    cli.ok("unpause", "cli-pause")
    assert insp(cli, "cli-pause", "{{.State.Status}} {{.State.Paused}}") == "running false"
    n1 = int(cli.ok("exec", "cli-pause", "cat", "/tmp/n").stdout)
    time.sleep(0.5)
    assert int(cli.ok("exec", "cli-pause", "cat", "/tmp/n").stdout) > n1


def test_top_and_stats(cli, img, clean):
    run_d(cli, img, "cli-top", "sh", "-c", "sleep 300 & sleep 301; true")
    # `run -d` returns once the shell runs; it forks the two sleeps a moment later.
    both = lambda out: any(l.endswith("sleep 300") for l in out) and any(l.endswith("sleep 301") for l in out)
    wait_until(lambda: both(cli.ok("top", "cli-top").stdout.splitlines()), 10, what="both sleeps in top")
    out = cli.ok("top", "cli-top").stdout.splitlines()
    assert re.match(r"UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD", out[0]), out
    assert both(out), out
    out = cli.ok("top", "cli-top", "-o", "pid,comm").stdout.splitlines()
    assert out[0].split() == ["PID", "COMMAND"] and sum("sleep" in l for l in out) == 2, out
    p = cli.run("stats", "--no-stream", "cli-top", timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert re.match(r"CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE / LIMIT\s+MEM %\s+NET I/O\s+BLOCK I/O\s+PIDS", lines[0]), lines
    assert len(lines) == 2 and "cli-top" in lines[1], lines
    assert lines[1].split()[-1] == "3", "sh + two sleeps"
    p = cli.ok("stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", "cli-top", timeout=60)
    name, mem, pids = p.stdout.strip().split("|")
    assert name == "cli-top" and pids == "3" and re.match(r"[\d.]+\w?i?B / [\d.]+\w?i?B", mem), p.stdout
    # No interface but lo: nothing to count (docker prints the same).
    run_d(cli, img, "cli-nonet", "sleep", "300", opts=("--network", "none"))
    p = cli.ok("stats", "--no-stream", "--format", "{{.Name}}|{{.NetIO}}", "cli-nonet", timeout=60)
    assert p.stdout.strip() == "cli-nonet|0B / 0B", p.stdout


# --- files ----------------------------------------------------------------------------------

def test_cp_both_ways_and_symlinks(cli, img, clean, tmp_path):
    run_d(cli, img, "cli-cp", "sleep", "300")
    src = tmp_path / "in.txt"
    src.write_text("from host\n")
    cli.ok("cp", str(src), "cli-cp:/tmp/")
    assert cli.ok("exec", "cli-cp", "cat", "/tmp/in.txt").stdout == "from host\n"
    cli.ok("cp", str(src), "cli-cp:/tmp/renamed.txt")
    assert cli.ok("exec", "cli-cp", "cat", "/tmp/renamed.txt").stdout == "from host\n"
    out = tmp_path / "out"
    out.mkdir()
    cli.ok("cp", "cli-cp:/data/hello.txt", str(out / "h.txt"))
    assert (out / "h.txt").read_text() == "hello from the image\n"
    cli.ok("cp", "cli-cp:/data/sub", str(out))
    assert sorted(os.listdir(out / "sub")) == ["a.txt", "b.txt"]
    cli.ok("cp", "cli-cp:/data/sub/.", str(out / "flat"))
    assert sorted(os.listdir(out / "flat")) == ["a.txt", "b.txt"]
    d = tmp_path / "dir"
    (d / "x").mkdir(parents=True)
    (d / "x" / "y.txt").write_text("y\n")
    cli.ok("cp", str(d), "cli-cp:/tmp/")
    assert cli.ok("exec", "cli-cp", "cat", "/tmp/dir/x/y.txt").stdout == "y\n"
    # stdout/stdin as tar streams
    p = subprocess.run([cli.binary, "cp", "cli-cp:/data/hello.txt", "-"], env=cli.env(), capture_output=True, timeout=60)
    assert p.returncode == 0
    with tarfile.open(fileobj=__import__("io").BytesIO(p.stdout)) as tf:
        assert tf.getnames() == ["hello.txt"]
    # Symlinks pointing out of the container resolve inside it, never on the host.
    cli.ok("exec", "cli-cp", "sh", "-c", "ln -s / /tmp/root; ln -s /etc/passwd /tmp/pw; echo container-only > /tmp/marker")
    cli.ok("cp", "cli-cp:/tmp/root/etc/passwd", str(out / "via-root"))
    assert "e2e:x:1000" in (out / "via-root").read_text()
    cli.ok("cp", "-L", "cli-cp:/tmp/pw", str(out / "pw-followed"))
    assert "e2e:x:1000" in (out / "pw-followed").read_text()
    cli.ok("cp", "cli-cp:/tmp/pw", str(out / "pw-link"))
    assert os.path.islink(out / "pw-link") and os.readlink(out / "pw-link") == "/etc/passwd"
    host_target = tempfile.mkdtemp(prefix="e2e-cp-escape-", dir="/var/tmp")
    try:
        cli.ok("exec", "cli-cp", "sh", "-c", f"ln -s {host_target} /tmp/hostlink; ln -s ../../../../../../{host_target} /tmp/rel")
        cli.run("cp", str(src), "cli-cp:/tmp/hostlink/")
        cli.run("cp", str(src), "cli-cp:/tmp/rel/escaped.txt")
        cli.run("cp", str(src), "cli-cp:/tmp/hostlink")
        assert os.listdir(host_target) == [], "cp followed a container symlink onto the host"
    finally:
        import shutil
        shutil.rmtree(host_target, ignore_errors=True)


def test_diff_export_commit(cli, img, clean, tmp_path):
    run_d(cli, img, "cli-diff", "sh", "-c", "touch /tmp/new; rm /data/hello.txt; mkdir /added; echo z > /added/z; sleep 300")
    wait_until(lambda: cli.run("exec", "cli-diff", "test", "-f", "/added/z").returncode == 0, 10, what="setup")
    lines = set(cli.ok("diff", "cli-diff").stdout.splitlines())
    for want in ("C /tmp", "A /tmp/new", "C /data", "D /data/hello.txt", "A /added", "A /added/z"):
        assert want in lines, (want, lines)
    tar_path = tmp_path / "x.tar"
    cli.ok("export", "-o", str(tar_path), "cli-diff")
    with tarfile.open(tar_path) as tf:
        names = {n.rstrip("/") for n in tf.getnames()}
    assert {"bin/busybox", "added/z", "tmp/new", "data/sub/a.txt"} <= names
    assert "data/hello.txt" not in names
    p = subprocess.run([cli.binary, "export", "cli-diff"], env=cli.env(), capture_output=True, timeout=60)
    assert p.returncode == 0 and len(p.stdout) > 100_000
    p = cli.ok("commit", "-c", "ENV COMMITTED=yes", "-m", "e2e commit", "cli-diff", "e2e/committed:v1")
    new_id = p.stdout.strip()
    assert new_id.startswith("sha256:"), p.stdout
    try:
        p = cli.ok("run", "--rm", "e2e/committed:v1", "sh", "-c", "cat /added/z; echo $COMMITTED; test -e /data/hello.txt || echo gone")
        assert p.stdout == "z\nyes\ngone\n", p.stdout
        hist = cli.ok("history", "--no-trunc", "e2e/committed:v1").stdout
        assert "e2e commit" in hist
    finally:
        cli.run("rmi", "-f", "e2e/committed:v1")


def test_container_prune(cli, img, clean):
    run_d(cli, img, "cli-prune-a", "true")
    run_d(cli, img, "cli-prune-b", "sh", "-c", "exit 1")
    run_d(cli, img, "cli-prune-keep", "sleep", "300")
    p = cli.run("create", "--name", "cli-prune-created", img, "true")
    assert p.returncode == 0
    wait_state(cli, "cli-prune-a", "exited")
    wait_state(cli, "cli-prune-b", "exited")
    # Filters: until (a duration back from now, as docker's CLI sends it), label and label!.
    cli.ok("container", "prune", "-f", "--filter", "until=1h")
    assert "cli-prune-a" in ps_names(cli, "-a")
    cli.ok("rm", "cli-prune-created")
    cli.ok("create", "--name", "cli-prune-created", "--label", "keep=yes", img, "true")
    cli.ok("container", "prune", "-f", "--filter", "until=0s", "--filter", "label!=keep")
    assert sorted(ps_names(cli, "-a")) == ["cli-prune-created", "cli-prune-keep"]
    p = cli.run("container", "prune", "-f", "--filter", "until=soon")
    assert p.returncode != 0 and "until" in p.stderr, p.stderr
    # Not name=value: refused as the flag is parsed (exit 125 and the usage), nothing removed.
    p = cli.run("container", "prune", "-f", "--filter", "bogus")
    assert p.returncode == 125 and "bad format of filter (expected name=value)" in p.stderr, p
    assert "Usage:" in p.stderr and "cli-prune-created" in ps_names(cli, "-a"), p.stderr
    p = cli.ok("container", "prune", "-f")
    assert "Total reclaimed space" in p.stdout
    assert ps_names(cli, "-a") == ["cli-prune-keep"]
    # system prune: containers, networks, dangling images and (docker's CLI) the build cache.
    run_d(cli, img, "cli-prune-c", "true")
    wait_state(cli, "cli-prune-c", "exited")
    p = cli.ok("system", "prune", "-f")
    assert "Total reclaimed space" in p.stdout, p.stdout
    assert ps_names(cli, "-a") == ["cli-prune-keep"]
    assert cli.run("image", "inspect", img).returncode == 0


# --- init and docker's defaults --------------------------------------------------------------

ZOMBIE = '(sh -c "sleep 0.3" &); exec sleep 300'


def _zombies(cli, name):
    out = cli.ok("exec", name, "sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null").stdout
    return [l for l in out.splitlines() if l[l.rfind(")") + 2:].startswith("Z")]


def test_init_reaps_zombies_and_forwards_signals(cli, img, clean):
    run_d(cli, img, "cli-noinit", "sh", "-c", ZOMBIE)
    run_d(cli, img, "cli-init", "sh", "-c", ZOMBIE, opts=("--init",))
    time.sleep(1.5)
    assert _zombies(cli, "cli-noinit"), "control: without --init the orphan stays a zombie"
    assert _zombies(cli, "cli-init") == []
    comm1 = cli.ok("exec", "cli-init", "cat", "/proc/1/comm").stdout.strip()
    assert comm1 != "sleep", comm1
    assert insp(cli, "cli-init", "{{.HostConfig.Init}}") == "true"
    t0 = time.monotonic()
    cli.ok("stop", "-t", "20", "cli-init")
    assert time.monotonic() - t0 < 10, "the init forwards SIGTERM to sleep"
    assert insp(cli, "cli-init", "{{.State.ExitCode}}") == "143"


def test_defaults(cli, img, clean):
    cid = run_d(cli, img, "cli-def", "sleep", "300")
    sh = lambda c: cli.ok("exec", "cli-def", "sh", "-c", c).stdout  # noqa: E731
    assert sh("hostname").strip() == cid[:12]
    assert sh("cat /etc/hostname").strip() == cid[:12]
    hosts = sh("cat /etc/hosts")
    assert re.search(r"^127\.0\.0\.1\s+localhost", hosts, re.M) and re.search(r"^::1\s+localhost", hosts, re.M), hosts
    assert sh("test -f /etc/resolv.conf && echo y").strip() == "y"
    shm = [l for l in sh("cat /proc/mounts").splitlines() if l.split()[1] == "/dev/shm"]
    assert shm and "size=65536k" in shm[0], shm
    status = sh("cat /proc/self/status")
    fields = dict(l.split(":", 1) for l in status.splitlines() if ":" in l)
    assert fields["CapEff"].strip() == "00000000a80425fb", fields["CapEff"]
    assert fields["CapBnd"].strip() == "00000000a80425fb"
    assert fields["Seccomp"].strip() == "2"
    assert fields["NoNewPrivs"].strip() == "0"
    # Masked paths (those this kernel has): nothing readable inside.
    masked = [m for m in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                          "/proc/latency_stats") if os.path.exists(m)]
    assert masked, "this host has none of docker's masked /proc files"
    for m in masked:
        assert sh(f"cat {m} 2>/dev/null | wc -c").strip() == "0", m
    assert sh("ls /proc/acpi 2>/dev/null | wc -l").strip() == "0"
    mounts = {}
    for l in sh("cat /proc/mounts").splitlines():
        mounts[l.split()[1]] = l.split()[3]
    for ro in ("/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger"):
        if os.path.exists(ro):
            assert mounts.get(ro, "").startswith("ro"), (ro, mounts.get(ro))
    assert cli.run("exec", "cli-def", "sh", "-c", "echo x > /proc/sys/kernel/domainname").returncode != 0
    # seccomp: unshare(CLONE_NEWUSER)-style syscalls are refused; mount too (no CAP_SYS_ADMIN).
    assert cli.run("exec", "cli-def", "mount", "-t", "tmpfs", "t", "/mnt").returncode != 0
    assert sh("id -u").strip() == "0"
    # Options change the defaults.
    run_d(cli, img, "cli-def2", "sleep", "300",
          opts=("--hostname", "myhost", "--shm-size", "8m", "--cap-drop", "ALL", "--cap-add", "CHOWN",
                "--security-opt", "no-new-privileges", "--read-only", "--tmpfs", "/scratch",
                "--ulimit", "nofile=256:512", "--sysctl", "net.ipv4.ip_forward=1", "--group-add", "65534"))
    sh2 = lambda c: cli.ok("exec", "cli-def2", "sh", "-c", c).stdout  # noqa: E731
    assert sh2("hostname").strip() == "myhost"
    shm = [l for l in sh2("cat /proc/mounts").splitlines() if l.split()[1] == "/dev/shm"]
    assert "size=8192k" in shm[0], shm
    f2 = dict(l.split(":", 1) for l in sh2("cat /proc/self/status").splitlines() if ":" in l)
    assert f2["CapEff"].strip() == "0000000000000001" and f2["NoNewPrivs"].strip() == "1"
    assert cli.run("exec", "cli-def2", "touch", "/x").returncode != 0, "--read-only"
    assert cli.run("exec", "cli-def2", "touch", "/scratch/x").returncode == 0, "--tmpfs is writable"
    assert _nofile(cli, "cli-def2") == ["256", "512"], _nofile(cli, "cli-def2")
    assert sh2("cat /proc/sys/net/ipv4/ip_forward").strip() == "1"
    assert "65534" in sh2("id -G").split()
    run_d(cli, img, "cli-unconf", "sleep", "300", opts=("--security-opt", "seccomp=unconfined"))
    assert "Seccomp:\t0" in cli.ok("exec", "cli-unconf", "cat", "/proc/self/status").stdout


def _host_capbnd():
    with open("/proc/self/status") as f:
        return next(l.split()[1] for l in f if l.startswith("CapBnd:"))


def test_container_namespace_modes(cli, img, clean):
    # --network/--pid/--ipc container:NAME join another container's namespaces (its current
    # run's); a shareable container's /dev/shm goes with its IPC namespace.
    run_d(cli, img, "cli-donor", "sh", "-c",
          "echo shm-data > /dev/shm/x; echo ready > /tmp/ready; httpd -p 127.0.0.1:80 -h /etc; sleep 300",
          opts=("--ipc", "shareable"))
    wait_until(lambda: cli.run("exec", "cli-donor", "cat", "/tmp/ready").returncode == 0, 30, what="donor")
    donor_net = cli.ok("exec", "cli-donor", "readlink", "/proc/self/ns/net").stdout
    donor_host = cli.ok("exec", "cli-donor", "hostname").stdout
    p = cli.run("run", "--rm", "--network", "container:cli-donor", img, "sh", "-c",
                "readlink /proc/self/ns/net; hostname; cat /etc/hostname; wget -qO- http://127.0.0.1/hostname")
    assert p.returncode == 0, p.stderr
    assert p.stdout == donor_net + donor_host * 3, (p.stdout, donor_net, donor_host)
    p = cli.run("run", "--rm", "--pid", "container:cli-donor", img, "sh", "-c", "ps -o args | grep -c '^sleep 300'")
    assert p.returncode == 0 and p.stdout.strip() == "1", (p.stdout, p.stderr)
    p = cli.run("run", "--rm", "--ipc", "container:cli-donor", img, "sh", "-c",
                "cat /dev/shm/x; readlink /proc/self/ns/ipc")
    donor_ipc = cli.ok("exec", "cli-donor", "readlink", "/proc/self/ns/ipc").stdout
    assert p.returncode == 0 and p.stdout == "shm-data\n" + donor_ipc, (p.stdout, p.stderr)
    # Errors, before anything is made or run.
    run_d(cli, img, "cli-private", "sleep", "300")
    cli.ok("create", "--name", "cli-stopped", img, "true")
    for opts, words in ((("--network", "container:cli-donor", "-h", "x"), "hostname and the network mode"),
                        (("--network", "container:cli-donor", "-p", "80:80"), "port publishing"),
                        (("--network", "container:cli-donor", "--dns", "1.1.1.1"), "dns and the network mode"),
                        (("--pid", "container:cli-nosuch"), "No such container: cli-nosuch"),
                        (("--ipc", "container:cli-private"), "non-shareable IPC"),
                        (("--network", "container:cli-stopped"), "non running container"),
                        (("--pid", "container:cli-stopped"), "non running container"),
                        (("--uts", "host", "-h", "x"), "hostname and the UTS mode")):
        p = cli.run("run", "--rm", *opts, img, "true", timeout=30)
        assert p.returncode == 125 and words in p.stderr, (opts, p.returncode, p.stderr)
    assert set(ps_names(cli, "-a")) == {"cli-donor", "cli-private", "cli-stopped"}
    # The host's name in the host's UTS or network namespace.
    for mode in (("--uts", "host"), ("--network", "host")):
        assert cli.ok("run", "--rm", *mode, img, "hostname").stdout == os.uname().nodename + "\n"
    if is_berthd():
        shm = [l for l in open("/proc/mounts") if l.split()[1].endswith("/shm") and
               cli.ok("inspect", "-f", "{{.Id}}", "cli-donor").stdout.strip() in l]
        assert len(shm) == 1, shm
        cli.ok("rm", "-f", "cli-donor")
        assert not [l for l in open("/proc/mounts") if l.split()[1] == shm[0].split()[1]]


def test_privileged(cli, img, clean):
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    full = format((1 << (last + 1)) - 1, "016x")
    host = _host_capbnd()
    if host != full and not is_berthd():
        pytest.skip(f"this host's bounding set {host} is not full ({full}): dockerd cannot grant --privileged "
                    "('unable to apply caps')")
    # berthd grants what it has: a host (or sandbox) that withholds some capabilities from root
    # still runs privileged containers, with every capability it can give.
    run_d(cli, img, "cli-priv", "sleep", "300", opts=("--privileged",))
    f3 = dict(l.split(":", 1) for l in cli.ok("exec", "cli-priv", "cat", "/proc/self/status").stdout.splitlines() if ":" in l)
    assert f3["Seccomp"].strip() == "0" and f3["CapEff"].strip() == host, f3
    m = cli.run("exec", "cli-priv", "sh", "-c", "mkdir -p /m && mount -t tmpfs t /m && grep ' /m tmpfs' /proc/mounts")
    assert m.returncode == 0 and "t /m tmpfs" in m.stdout, (m.returncode, m.stdout, m.stderr)
    if not is_berthd():
        return
    withheld = [i for i in range(last + 1) if not int(host, 16) >> i & 1]
    if not withheld:
        return  # nothing to refuse here: SpecBuilder.CapabilitiesOutsideTheDaemonsBoundingSet covers it
    # One the host withholds, asked for by name: refused at create with its name, nothing left.
    name = CAPS[withheld[0]]
    p = cli.run("run", "--rm", "--name", "cli-capx", "--cap-add", name, img, "true", timeout=30)
    assert p.returncode == 125 and f"cannot add capability CAP_{name}" in p.stderr, (p.returncode, p.stderr)
    assert "cli-capx" not in cli.ok("ps", "-a", "--format", "{{.Names}}").stdout


def _nofile(cli, name):
    """[soft, hard] of RLIMIT_NOFILE of the container's init (/proc/1/limits: dockerd 20.10 gives
    exec'd processes soft = hard)."""
    out = cli.ok("exec", name, "cat", "/proc/1/limits").stdout
    line = next(l for l in out.splitlines() if l.startswith("Max open files"))
    return line.split()[3:5]


def test_default_ulimit_nofile(cli, img, clean):
    berthd_only("nofile 1024:524288 capped at the host's hard limit (dockerd 20.10 passes its own limit through)")
    run_d(cli, img, "cli-ulimit", "sleep", "300")
    soft, hard = _nofile(cli, "cli-ulimit")
    host_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert soft == "1024"
    assert hard != "unlimited" and int(hard) == min(524288, host_hard), (hard, host_hard)


def test_removed_container_leaves_no_cgroup(cli, img, clean):
    cid = run_d(cli, img, "cli-cg", "sleep", "300")
    assert cgroups_of([cid]), "a running container has cgroups named after its id"
    cli.ok("rm", "-f", "cli-cg")
    wait_until(lambda: not cgroups_of([cid]), 10, what="cgroups removed")
