"""Container cgroup limits through a docker-compatible CLI: `update`, and the block I/O
weights and per-device throttles. Shared like ctr_cli_cases.py by test_containers_cli.py
(the berth CLI) and test_containers_docker_cli.py (the real docker CLI); the importing
module defines the `cli` fixture.

The block I/O cases need a whole-disk block device the container may read: a loop device
over a sparse file in the test's temp dir, detached afterwards (the host's own disks may
not be readable, and their partitions cannot be throttled)."""

import os
import subprocess
import time

import pytest

from conftest import berthd_only, is_berthd
from ctr_cli_cases import insp, run_d
from ctrutil import clean, img, proc_cmdline  # noqa: F401 - fixtures
from e2eutil import children_of


def _cgroup_file(cli, name, v1, v2):
    p = cli.run("exec", name, "sh", "-c", f"cat /sys/fs/cgroup/{v1} 2>/dev/null || cat /sys/fs/cgroup/{v2}")
    return p.stdout.strip()


def test_update_resources(cli, img, clean):
    run_d(cli, img, "cli-upd", "sleep", "300", opts=("--memory", "64m", "--cpus", "0.5", "--pids-limit", "50"))
    h = insp(cli, "cli-upd")["HostConfig"]
    assert h["Memory"] == 64 << 20 and h["NanoCpus"] == 500_000_000 and h["PidsLimit"] == 50
    assert _cgroup_file(cli, "cli-upd", "memory/memory.limit_in_bytes", "memory.max") == str(64 << 20)
    assert _cgroup_file(cli, "cli-upd", "pids/pids.max", "pids.max") == "50"
    cli.ok("update", "--memory", "96m", "--memory-swap", "192m", "--cpus", "1", "--restart", "on-failure:3", "cli-upd")
    h = insp(cli, "cli-upd")["HostConfig"]
    assert h["Memory"] == 96 << 20 and h["MemorySwap"] == 192 << 20 and h["NanoCpus"] == 1_000_000_000
    assert h["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert _cgroup_file(cli, "cli-upd", "memory/memory.limit_in_bytes", "memory.max") == str(96 << 20)
    q = _cgroup_file(cli, "cli-upd", "cpu/cpu.cfs_quota_us", "cpu.max").split()[0]
    assert q == "100000", q
    p = cli.run("update", "--memory", "lots", "cli-upd")
    assert p.returncode != 0 and "lots" in p.stderr, p.stderr


def test_update_cpu_realtime(cli, img, clean):
    """`update --cpu-rt-period/--cpu-rt-runtime` reach the cgroup or fail saying why; they are
    never stored without being applied. dockerd 20.10 accepts a runtime above the period and
    stores a runtime the kernel refused, so this is berthd's behaviour."""
    berthd_only("dockerd 20.10 stores real-time values it could not apply")
    if not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        pytest.skip("no cgroup v1 cpu controller with real-time group scheduling on this host")
    run_d(cli, img, "cli-rt", "sleep", "300")
    p = cli.run("update", "--cpu-rt-period", "500", "--cpu-rt-runtime", "1000", "cli-rt")
    assert p.returncode != 0 and "cpu-rt-runtime cannot be higher than cpu-rt-period" in p.stderr, p
    cli.ok("update", "--cpu-rt-period", "900000", "cli-rt")
    assert _cgroup_file(cli, "cli-rt", "cpu/cpu.rt_period_us", "-") == "900000"
    h = insp(cli, "cli-rt")["HostConfig"]
    assert (h["CpuRealtimePeriod"], h["CpuRealtimeRuntime"]) == (900000, 0), h
    with open("/sys/fs/cgroup/cpu/berth/cpu.rt_runtime_us" if os.path.exists(
            "/sys/fs/cgroup/cpu/berth/cpu.rt_runtime_us") else "/sys/fs/cgroup/cpu/cpu.rt_runtime_us") as f:
        parent_rt = int(f.read())
    if parent_rt == 0:
        # No real-time budget above the container: the kernel refuses, berth says why and
        # keeps the old value.
        p = cli.run("update", "--cpu-rt-runtime", "1000", "cli-rt")
        assert p.returncode != 0 and "parent cgroup's cpu.rt_runtime_us" in p.stderr, p
        assert insp(cli, "cli-rt")["HostConfig"]["CpuRealtimeRuntime"] == 0


def test_cpu_period_quota_and_device_cgroup_rule(cli, img, clean):
    run_d(cli, img, "cli-cfs", "sleep", "300",
          opts=("--cpu-period", "50000", "--cpu-quota", "25000", "--device-cgroup-rule", "c 1:3 rw"))
    h = insp(cli, "cli-cfs")["HostConfig"]
    assert h["CpuPeriod"] == 50000 and h["CpuQuota"] == 25000, h
    assert h["DeviceCgroupRules"] == ["c 1:3 rw"], h["DeviceCgroupRules"]
    v1 = _cgroup_file(cli, "cli-cfs", "cpu/cpu.cfs_period_us", "cpu.max")
    if " " in v1:  # cgroup v2: "QUOTA PERIOD"
        assert v1.split() == ["25000", "50000"], v1
    else:
        assert v1 == "50000" and _cgroup_file(cli, "cli-cfs", "cpu/cpu.cfs_quota_us", "cpu.max") == "25000"
    p = cli.run("run", "--rm", "--device-cgroup-rule", "c 1:3", img, "true")
    assert p.returncode == 125 and "invalid device cgroup format 'c 1:3'" in p.stderr, p.stderr


# --- block I/O ------------------------------------------------------------------------------

def _scheduler(dev):
    """The loop device's queue/scheduler: (selected, offered)."""
    text = open(f"/sys/block/{os.path.basename(dev)}/queue/scheduler").read().split()
    selected = next((t[1:-1] for t in text if t.startswith("[")), "")
    return selected, [t.strip("[]") for t in text]


def _set_scheduler(dev, name):
    with open(f"/sys/block/{os.path.basename(dev)}/queue/scheduler", "w") as f:
        f.write(name)


@pytest.fixture
def loopdev(tmp_path):
    backing = tmp_path / "disk.img"
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    p = subprocess.run(["losetup", "-f", "--show", str(backing)], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        pytest.skip(f"no loop device for the block I/O cases: {p.stderr.strip()}")
    dev = p.stdout.strip()
    selected, _ = _scheduler(dev)
    try:
        yield dev
    finally:
        try:
            if _scheduler(dev)[0] != selected:
                _set_scheduler(dev, selected)
        finally:
            subprocess.run(["losetup", "-d", dev], timeout=30)


def _majmin(dev):
    rdev = os.stat(dev).st_rdev
    return f"{os.major(rdev)}:{os.minor(rdev)}"


def _names(cli):
    return cli.ok("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_block_io_throttles(cli, img, clean, loopdev):
    mm = _majmin(loopdev)
    run_d(cli, img, "cli-bio", "sleep", "300",
          opts=("--device-read-bps", f"{loopdev}:1mb", "--device-write-bps", f"{loopdev}:2mb",
                "--device-read-iops", f"{loopdev}:300", "--device-write-iops", f"{loopdev}:50"))
    h = insp(cli, "cli-bio")["HostConfig"]
    assert h["BlkioDeviceReadBps"] == [{"Path": loopdev, "Rate": 1 << 20}], h["BlkioDeviceReadBps"]
    assert h["BlkioDeviceWriteBps"] == [{"Path": loopdev, "Rate": 2 << 20}]
    assert h["BlkioDeviceReadIOps"] == [{"Path": loopdev, "Rate": 300}]
    assert h["BlkioDeviceWriteIOps"] == [{"Path": loopdev, "Rate": 50}]
    v1 = {f: _cgroup_file(cli, "cli-bio", f"blkio/blkio.throttle.{f}", "/dev/null")
          for f in ("read_bps_device", "write_bps_device", "read_iops_device", "write_iops_device")}
    if any(v1.values()):
        assert v1 == {"read_bps_device": f"{mm} 1048576", "write_bps_device": f"{mm} 2097152",
                      "read_iops_device": f"{mm} 300", "write_iops_device": f"{mm} 50"}, v1
    else:
        io_max = _cgroup_file(cli, "cli-bio", "/dev/null", "io.max")
        assert f"{mm} rbps=1048576 wbps=2097152 riops=300 wiops=50" in io_max, io_max

    # The limit is in force: 2 MiB of direct reads at 1 MiB/s cannot take less than ~2 s.
    t0 = time.monotonic()
    p = cli.run("run", "--rm", "--device", loopdev, "--device-read-bps", f"{loopdev}:1mb", img,
                "dd", f"if={loopdev}", "of=/dev/null", "bs=64k", "count=32", "iflag=direct")
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    assert "32+0 records in" in p.stderr, p.stderr
    assert took >= 1.5, f"2 MiB at 1 MiB/s read in {took:.2f} s: the throttle is not applied"


def test_block_io_weight_device(cli, img, clean, loopdev):
    selected, offered = _scheduler(loopdev)
    if "bfq" not in offered:
        pytest.skip(f"the kernel offers no bfq scheduler ({offered}): per-device weights cannot be set")
    mm = _majmin(loopdev)
    _set_scheduler(loopdev, "bfq")
    run_d(cli, img, "cli-biow", "sleep", "300", opts=("--blkio-weight-device", f"{loopdev}:300"))
    got = _cgroup_file(cli, "cli-biow", "blkio/blkio.bfq.weight_device", "io.bfq.weight")
    if is_berthd():  # dockerd 20.10 knows only cfq's blkio.weight_device and drops the weight
        assert insp(cli, "cli-biow")["HostConfig"]["BlkioWeightDevice"] == [{"Path": loopdev, "Weight": 300}]
        assert f"{mm} 300" in got.splitlines(), got


def test_block_io_bad_values(cli, img, clean, loopdev):
    """Bad values fail before anything is created (the CLI's checks, then berthd's)."""
    before = _names(cli)
    for flag, value, message in [
        ("--device-read-bps", loopdev, f"bad format: {loopdev}"),
        ("--device-read-bps", f"{loopdev}:fast", f"invalid rate for device: {loopdev}:fast"),
        ("--device-write-iops", "sda:5", "bad format for device path: sda:5"),
        ("--blkio-weight-device", f"{loopdev}:5", f"invalid weight for device: {loopdev}:5"),
        ("--blkio-weight", "70000", "value out of range"),
    ]:
        p = cli.run("run", "--rm", flag, value, img, "true")
        assert p.returncode == 125 and message in p.stderr, (flag, value, p.stderr)
    assert _names(cli) == before


def test_block_io_devices_berth_checks(cli, img, clean, loopdev):
    berthd_only("dockerd 20.10 passes these to runc, which fails at start inside the kernel's cgroup write")
    before = _names(cli)
    for value, message in [
        ("/dev/null:1mb", "/dev/null is not a block device"),
        ("/dev/no-such-disk:1mb", "stat /dev/no-such-disk: no such file or directory"),
    ]:
        p = cli.run("run", "--rm", "--device-write-bps", value, img, "true")
        # docker's CLI exits 127 for a message with "no such file or directory".
        assert p.returncode in (125, 127) and message in p.stderr, (value, p.stderr)
        p = cli.run("create", "--name", "cli-biobad", "--device-write-bps", value, img, "true")
        assert p.returncode == 1 and message in p.stderr, (value, p.stderr)  # docker create: 1
    assert _names(cli) == before
    # A weight on a disk whose scheduler cannot weigh is refused, naming the fix.
    selected, offered = _scheduler(loopdev)
    if "bfq" in offered:
        _set_scheduler(loopdev, "none" if "none" in offered else offered[0])
        p = cli.run("run", "--rm", "--blkio-weight-device", f"{loopdev}:300", img, "true")
        assert p.returncode == 125 and "weights need bfq" in p.stderr, p.stderr


def test_oom_kill(cli, img, clean):
    """A container over its memory limit is OOM-killed: exit 137, State.OOMKilled, and one "oom"
    event before "die" (docker's sequence)."""
    since = str(int(time.time()) - 1)
    p = cli.run("run", "--name", "cli-oom", "--memory", "8m", "--memory-swap", "8m", img,
                "sh", "-c", "x=a; while true; do x=$x$x; done", timeout=120)
    assert p.returncode == 137, (p.returncode, p.stderr)
    st = insp(cli, "cli-oom")["State"]
    assert st["OOMKilled"] is True and st["ExitCode"] == 137 and st["Status"] == "exited", st
    ev = cli.ok("events", "--since", since, "--until", str(int(time.time()) + 1),
                "--filter", "container=cli-oom", "--format", "{{.Action}}").stdout.split()
    assert ev == ["create", "attach", "start", "oom", "die"], ev


def _pooled_monitors(daemon_pid):
    """berthd's idle monitors: its children started with --pooled= (monitor/pool.cc)."""
    return [p for p in children_of(daemon_pid)
            if any(a.startswith("--pooled=") for a in proc_cmdline(p))]


def test_containers_run_in_the_normal_scheduling_class(cli, img, clean, daemon):
    # berthd starts its spare monitor as SCHED_IDLE (monitor/pool.cc). Whatever runs a container
    # is back in the normal class at nice 0, as docker's containers are. Several in a row, so
    # that monitors which waited in the pool start some of them.
    for i in range(3):
        run_d(cli, img, f"sched-{i}", "sleep", "300")
        pid = int(insp(cli, f"sched-{i}", "{{.State.Pid}}"))
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER, f"sched-{i}"
        assert os.getpriority(os.PRIO_PROCESS, pid) == 0, f"sched-{i}"
    if not is_berthd():
        return
    # The spare itself leaves SCHED_IDLE once started, before it waits (a bound monitor must
    # not wake up only when the CPUs are idle).
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        spare = [p for p in _pooled_monitors(daemon.pid) if os.sched_getscheduler(p) == os.SCHED_OTHER]
        if spare:
            break
        time.sleep(0.05)
    assert spare, "no idle monitor in the normal class beside berthd"
