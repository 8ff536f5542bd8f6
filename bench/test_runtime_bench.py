"""Unit tests of the benchmark's statistics and report code, with fake samples.

Run: /usr/bin/python3 -m pytest -q bench/test_runtime_bench.py
Needs no root, runtime or bundle.
"""

import os
import stat
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_report as rep  # noqa: E402
import runtime_bench  # noqa: E402


# --- statistics ---------------------------------------------------------------------------------


def test_median_odd_and_even_and_unsorted():
    assert rep.median([3.0, 1.0, 2.0]) == 2.0
    assert rep.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert rep.median([7]) == 7.0


def test_percentile_linear_interpolation_matches_numpy_default():
    xs = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert rep.percentile(xs, 0) == 10.0
    assert rep.percentile(xs, 100) == 50.0
    assert rep.percentile(xs, 10) == pytest.approx(14.0)  # pos 0.4 between 10 and 20
    assert rep.percentile(xs, 90) == pytest.approx(46.0)
    assert rep.percentile(list(range(1, 11)), 25) == pytest.approx(3.25)


def test_percentile_rejects_empty_and_out_of_range():
    with pytest.raises(ValueError):
        rep.percentile([], 50)
    with pytest.raises(ValueError):
        rep.percentile([1.0], 101)
    with pytest.raises(ValueError):
        rep.percentile([1.0], -1)


def test_ratio_handles_unknowns_and_zero():
    assert rep.ratio(8.0, 10.0) == pytest.approx(0.8)
    assert rep.ratio(None, 10.0) is None
    assert rep.ratio(1.0, None) is None
    assert rep.ratio(1.0, 0.0) is None


def test_summarize():
    s = rep.summarize([0.5, 0.1, 0.3, 0.2, 0.4])
    assert (s.n, s.median, s.min, s.max) == (5, 0.3, 0.1, 0.5)
    assert s.p10 == pytest.approx(0.14)
    assert s.p90 == pytest.approx(0.46)
    assert rep.summarize([]) is None


def test_total_create_start_delete_sums_per_iteration_without_wait():
    r = rep.RuntimeResult("x", phases={"create": [1.0, 2.0], "start": [0.5, 0.5],
                                       "wait": [9.0, 9.0], "delete": [0.25, 0.125]})
    assert r.total_create_start_delete() == [1.75, 2.625]


# --- goals --------------------------------------------------------------------------------------


def _res(name, wall_ms, rss_kib):
    return rep.RuntimeResult(name, wall=[w / 1000.0 for w in wall_ms], rss=list(rss_kib))


def test_goals_met_at_exactly_point_eight_and_equal_rss():
    results = {rep.BERTH: _res(rep.BERTH, [8, 8, 8], [3000] * 3),
               rep.CRUN: _res(rep.CRUN, [10, 10, 10], [3000] * 3)}
    goals = rep.evaluate_goals(results)
    assert [g.status for g in goals] == ["met", "met"]
    assert "0.80x" in goals[0].detail and "1.00x" in goals[1].detail


def test_goals_not_met_uses_medians_not_means():
    # berth mean is low (one fast outlier) but its median is 9 ms > 0.8 * 10 ms.
    results = {rep.BERTH: _res(rep.BERTH, [1, 9, 9], [3001] * 3),
               rep.CRUN: _res(rep.CRUN, [10, 10, 10], [3000] * 3)}
    goals = rep.evaluate_goals(results)
    assert [g.status for g in goals] == ["NOT met", "NOT met"]


def test_goals_not_evaluated_without_berth_or_crun():
    missing = rep.RuntimeResult(rep.BERTH, status="not built yet: /x/berth-runtime")
    goals = rep.evaluate_goals({rep.BERTH: missing, rep.CRUN: _res(rep.CRUN, [10], [1])})
    assert all(g.status.startswith("not evaluated") and "not built yet" in g.status for g in goals)
    goals = rep.evaluate_goals({rep.BERTH: _res(rep.BERTH, [1], [1])})
    assert all(g.status == "not evaluated: crun not benchmarked" for g in goals)
    goals = rep.evaluate_goals({rep.CRUN: _res(rep.CRUN, [1], [1])})
    assert all("berth-runtime not benchmarked" in g.status for g in goals)


# --- rendering ----------------------------------------------------------------------------------


META = rep.Meta(date="2026-01-02 03:04 UTC", command="bench/run.sh --runs 3",
                machine={"Machine": "nproc 2, kernel 6.1", "cgroup mode": "cgroup v2 (unified)"},
                notes=["a note"])


def _rows(md):
    return [line for line in md.splitlines() if line.startswith("| ")]


def test_run_section_table_ratios_and_goals():
    results = {rep.CRUN: _res(rep.CRUN, [20, 10, 30], [2048, 2048, 4096]),
               rep.RUNC: _res(rep.RUNC, [40, 40, 40], [10240] * 3),
               rep.BERTH: _res(rep.BERTH, [5, 5, 5], [1024] * 3),
               rep.HOST: _res(rep.HOST, [1, 1, 1], [1024] * 3)}
    for r in results.values():
        r.version = f"{r.name} 1.0"
    md = rep.render_run_section(META, results)
    rows = _rows(md)
    assert [r.split("|")[1].strip() for r in rows[1:]] == [rep.BERTH, rep.CRUN, rep.RUNC, rep.HOST]
    crun_row = [c.strip() for c in rows[2].split("|")[1:-1]]
    # runtime, runs, median, p10, p90, median RSS, max RSS, /crun, /runc, RSS/crun
    assert crun_row == ["crun", "3", "20.00", "12.00", "28.00", "2.00", "4.00", "1.00x", "0.50x",
                        "1.00x"]
    berth_row = [c.strip() for c in rows[1].split("|")[1:-1]]
    assert berth_row[7:] == ["0.25x", "0.12x", "0.50x"]
    assert "berth-runtime median `run` wall time <= 0.8 x crun's: **met** (ratio 0.25x)" in md
    assert "- crun: crun 1.0" in md and "- Date: 2026-01-02 03:04 UTC" in md
    assert "```sh\nbench/run.sh --runs 3\n```" in md
    assert "- a note" in md


def test_run_section_shows_missing_berth_as_not_built():
    results = {rep.BERTH: rep.RuntimeResult(rep.BERTH, status="not built yet: /p/berth-runtime"),
               rep.CRUN: _res(rep.CRUN, [10], [1024])}
    md = rep.render_run_section(META, results)
    berth_row = _rows(md)[1]
    assert "not built yet: /p/berth-runtime" in berth_row
    assert "**not evaluated: berth-runtime: not built yet: /p/berth-runtime**" in md


def test_phases_section_medians_and_ratio_table():
    def ph(name, c, s, d):
        phases = {"create": [c / 1000.0] * 3, "start": [s / 1000.0] * 3, "wait": [0.001] * 3,
                  "delete": [d / 1000.0] * 3}
        return rep.RuntimeResult(name, phases=phases, phase_rss={"create": [2048] * 3})
    results = {rep.CRUN: ph(rep.CRUN, 10, 4, 6), rep.RUNC: ph(rep.RUNC, 30, 8, 6)}
    md = rep.render_phases_section(META, results)
    rows = _rows(md)
    crun = [c.strip() for c in rows[1].split("|")[1:-1]]
    assert crun[0] == "crun" and crun[2] == "10.00 (10.00-10.00)"
    assert crun[6] == "20.00 (20.00-20.00)"  # create+start+delete, wait excluded
    assert crun[7] == "2.00"
    ratio_row = [c.strip() for c in rows[-1].split("|")[1:-1]]
    assert ratio_row == ["runc / crun", "3.00x", "2.00x", "1.00x", "2.20x"]


def test_hyperfine_section():
    hf = {rep.CRUN: {"median": 0.02, "mean": 0.021, "stddev": 0.001, "min": 0.019, "max": 0.03,
                     "runs": 30},
          rep.RUNC: {"median": 0.05, "mean": 0.05, "stddev": 0.002, "min": 0.04, "max": 0.06,
                     "runs": 30}}
    md = rep.render_hyperfine_section(META, hf, {"crun": "crun version 1.8.1"})
    rows = _rows(md)
    assert [c.strip() for c in rows[2].split("|")[1:-1]][-2:] == ["2.50x", "1.00x"]
    assert "not interleaved" in md


# --- RESULTS.md merging and writing --------------------------------------------------------------


def test_merge_creates_header_and_orders_sections():
    text = rep.merge_sections(None, {"phases": "P1\n", "run": "R1\n"})
    assert text.startswith(rep.HEADER)
    assert text.index("BEGIN bench:run") < text.index("BEGIN bench:phases")
    assert "<!-- BEGIN bench:run -->\nR1\n<!-- END bench:run -->\n" in text


def test_merge_replaces_only_named_sections_and_keeps_other_text():
    first = rep.merge_sections(None, {"run": "R1\n", "hyperfine": "H1\n"})
    first += "\nHand-written note.\n"
    second = rep.merge_sections(first, {"run": "R2\n"})
    assert "R1" not in second and "R2" in second
    assert "H1" in second and "Hand-written note." in second
    assert second.count("BEGIN bench:run") == 1
    third = rep.merge_sections(second, {"run": "R3\n", "phases": "P\n"})
    assert third.count("BEGIN bench:phases") == 1 and "R3" in third and "H1" in third


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "RESULTS.md"
    target.write_text("old")
    rep.write_atomic(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RESULTS.md"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


# --- harness helpers that need no root -----------------------------------------------------------


def test_repro_command_names_wrapper(monkeypatch):
    monkeypatch.setenv("BERTH_BENCH_WRAPPER", "1")
    assert runtime_bench.repro_command(["--runtimes", "crun,runc"]) == \
        "bench/run.sh --runtimes crun,runc"
    monkeypatch.delenv("BERTH_BENCH_WRAPPER")
    assert runtime_bench.repro_command(["--runs", "5"]) == "python3 bench/runtime_bench.py --runs 5"


def test_has_elf_interpreter(tmp_path):
    assert runtime_bench.has_elf_interpreter(sys.executable) is True
    junk = tmp_path / "junk"
    junk.write_bytes(b"#!/bin/sh\n")
    with pytest.raises(runtime_bench.BenchError):
        runtime_bench.has_elf_interpreter(str(junk))
