"""Unit tests for the pure parts of bench/container_bench.py and bench/container_report.py
(no root, no daemons)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import container_bench  # noqa: E402
import container_report as cb  # noqa: E402


def test_median_and_ratio():
    assert cb.median([]) is None
    assert cb.median([3, 1, 2]) == 2
    assert cb.median([4, 1, 2, 3]) == 2.5
    assert cb.ratio(1, 0) is None
    assert cb.ratio(None, 2) is None
    assert cb.ratio(1, 4) == 0.25


def test_rotation_cycles_every_engine_first():
    items = ["a", "b", "c"]
    firsts = [cb.rotation(items, i)[0] for i in range(3)]
    assert sorted(firsts) == items
    assert cb.rotation(items, 4) == ["b", "c", "a"]
    assert cb.rotation([], 2) == []


def test_goal_lines():
    assert "**met** (0.050×)" in cb.goal_line("x", 0.05, 0.08)
    assert "**not met**" in cb.goal_line("x", 0.2, 0.15)
    assert "**not measured**" in cb.goal_line("x", None, 20, "ms")
    assert "**met** (12.0 ms)" in cb.goal_line("x", 12.0, 20, "ms")


def test_render_and_replace_block():
    res = {"date": "d", "host": "h", "engines": ["dockerd"],
           "run": {"variants": {"none": {"docker → dockerd": [0.3, 0.35, 0.32], "berth → berthd": [0.02, 0.021]}},
                   "rounds": 3, "warmup": 1},
           "many": {"count": 2, "variants": {"none": {"berth → berthd": {
               "ms_per": 10.0, "proc": "berth-monitor", "nprocs": 2, "pss_kb_per": 120.0}}}},
           "errors": ["podman: not installed"]}
    md = cb.render_markdown(res, "bench/container_bench.sh --only dockerd")
    assert md.startswith(cb.MARK_BEGIN) and md.endswith(cb.MARK_END)
    assert "| docker → dockerd | 320.0 |" in md
    assert "0.064×" in md  # 0.0205 / 0.32
    assert "berth-monitor PSS per container ≤ 150 kB: **met** (120.0 kB)" in md
    assert "- podman: not installed" in md
    text = "# results\n\nother section\n"
    once = cb.replace_block(text, md)
    assert once.startswith(text.rstrip("\n")) and once.count(cb.MARK_BEGIN) == 1
    twice = cb.replace_block(once + "\ntrailing\n", md.replace("320.0", "999.0"))
    assert twice.count(cb.MARK_BEGIN) == 1 and "999.0" in twice and "trailing" in twice
    assert "other section" in twice


def test_floor_line_shows_what_the_goal_leaves_the_engine():
    samples = {"docker → dockerd": [0.200], "docker → instant stub": [0.018], "docker → berthd": [0.030]}
    line = cb.docker_cli_floor_line(samples)
    assert "18.0 ms = 0.090× of docker → dockerd" in line
    assert "leaves the engine 2.0 ms" in line
    assert "berthd takes 12.0 ms" in line
    assert cb.docker_cli_floor_line({"docker → dockerd": [0.2]}) is None
    md = cb.render_markdown({"run": {"variants": {"none": samples}, "rounds": 1, "warmup": 0}}, "cmd")
    assert "| docker → instant stub | 18.0 |" in md and "0.090×" in md


def test_each_network_gets_its_own_tables_and_goals():
    res = {"run": {"variants": {
        "default": {"docker → dockerd": [0.400], "docker → berthd": [0.032], "berth → berthd": [0.018]},
        "none": {"docker → dockerd": [0.220], "docker → berthd": [0.031], "berth → berthd": [0.017]}},
        "rounds": 1, "warmup": 0},
        "many": {"count": 50, "variants": {
            "none": {"berth → berthd": {"ms_per": 17.0, "proc": "berth-monitor", "nprocs": 50, "pss_kb_per": 130.0}},
            "default": {"berth → berthd": {"ms_per": 21.0, "proc": "berth-monitor", "nprocs": 50,
                                           "pss_kb_per": 131.0}}}}}
    md = cb.render_markdown(res, "cmd")
    default_at, none_at = md.index("### Containers on each engine's default"), md.index("### Containers on `--network none`")
    assert default_at < none_at
    goals = md[md.index("### Goals"):]
    on_default = goals[goals.index("On each engine's default"):goals.index("On `--network none`")]
    on_none = goals[goals.index("On `--network none`"):]
    assert "docker CLI against berthd vs against dockerd ≤ 0.1×: **met** (0.080×)" in on_default
    assert "docker CLI against berthd vs against dockerd ≤ 0.1×: **not met** (0.141×)" in on_none
    # a goal missed on one network is reported as missed there, whatever the other says
    assert "per container ≤ 20 ms: **not met** (21.0 ms)" in on_default
    assert "per container ≤ 20 ms: **met** (17.0 ms)" in on_none
    assert "### `ps` and `logs`" not in md


def test_podman_is_only_run_without_a_network():
    b = container_bench.Bench.__new__(container_bench.Bench)  # no daemons, no temp dirs
    b.env_base = {}
    b.podman = type("P", (), {"glob": ["podman"], "run_opts": ["--network", "none"]})()
    argv, _ = b.argv(("podman", "podman", "podman"), "run", "--rm", "IMG", "true", net="none")
    assert argv == ["podman", "run", "--network", "none", "--rm", "IMG", "true"]
    try:
        b.argv(("podman", "podman", "podman"), "run", "IMG", net="default")
        raise AssertionError("podman on the default network must be refused")
    except ValueError:
        pass
    b.bin, b.daemons = {"docker": "docker"}, {"dockerd": type("D", (), {"host": "unix://s"})()}
    argv, env = b.argv(("d", "dockerd", "docker"), "run", "--rm", "IMG", "true", net="default")
    assert argv == ["docker", "run", "--rm", "IMG", "true"] and env["DOCKER_HOST"] == "unix://s"
    argv, _ = b.argv(("d", "dockerd", "docker"), "run", "--rm", "IMG", "true", net="none")
    assert argv[:4] == ["docker", "run", "--network", "none"]


def test_bare_runtime_rows_give_the_floor_beside_the_engines():
    rows = {"berth → berthd": {"ms_per": 30.0, "proc": "berth-monitor", "nprocs": 50, "pss_kb_per": 120.0},
            cb.BARE_PREFIX + "crun": {"ms_per": 40.0, "proc": "-", "nprocs": 0, "pss_kb_per": None,
                                      "version": "crun version 1.8.1", "notes": ["bundle: busybox"]},
            cb.BARE_PREFIX + "berth-runtime": {"ms_per": 15.0, "proc": "-", "nprocs": 0, "pss_kb_per": None}}
    md = cb.render_markdown({"many": {"count": 50, "warmup": 2, "variants": {"none": rows}}}, "cmd")
    assert "one after another (after 2 untimed `run --rm IMG true`), then" in md
    assert "| `crun run -d` bare (no engine; crun version 1.8.1) | 40.0 | - | - | - |" in md
    assert "engines' containers still run. Bundle: busybox." in md
    assert "| `berth-runtime run -d` bare (no engine) | 15.0 |" in md
    assert "per container ≤ 20 ms: **not met** (30.0 ms)" in md
    assert "bare `crun run -d` 40.0 ms (`berth run -d` = 0.75× of it)" in md
    assert "bare `berth-runtime run -d` 15.0 ms (`berth run -d` = 2.00× of it)" in md
    # without bare rows nothing is claimed
    del rows[cb.BARE_PREFIX + "crun"], rows[cb.BARE_PREFIX + "berth-runtime"]
    md = cb.render_markdown({"many": {"count": 50, "variants": {"none": rows}}}, "cmd")
    assert "for scale" not in md and "bare (no engine)" not in md
    assert cb.bare_scale_line(None, {"crun": {"ms_per": 40.0}}) == \
        "- for scale, no engine on this machine: bare `crun run -d` 40.0 ms"


def test_bare_runtime_refuses_a_malformed_runtime_argument():
    import bare_runtime
    for argv in (["--runtime", "crun"], ["--runtime", "=/usr/bin/crun"], [], ["--count", "0", "--runtime", "a=b"]):
        try:
            bare_runtime.main(argv)
            raise AssertionError(f"{argv} must be refused")
        except SystemExit as e:
            assert e.code == 2
