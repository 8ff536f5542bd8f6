"""Statistics and Markdown rendering for bench/runtime_bench.py (stdlib only).

Kept apart from the harness so it can be unit-tested with fake samples
(bench/test_runtime_bench.py) without root, runtimes or a bundle.

Units: wall times are seconds (float), RSS values are KiB (int, as Linux
reports ru_maxrss). Rendering converts to ms / MiB.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tempfile
from typing import Dict, List, Optional, Sequence

BERTH = "berth-runtime"
CRUN = "crun"
RUNC = "runc"
HOST = "host /bin/true"  # harness floor: spawn + wait4 of /bin/true, no runtime

# The goals from the issue: berth `run` median wall <= 0.8 x crun's, peak RSS <= crun's.
WALL_GOAL_RATIO = 0.8
RSS_GOAL_RATIO = 1.0

PHASES = ("create", "start", "wait", "delete")


# ---------------------------------------------------------------------------------------------
# Statistics


def percentile(xs: Sequence[float], p: float) -> float:
    """Linear-interpolation percentile (numpy's default method), p in [0, 100].

    Raises ValueError on an empty sequence or p out of range: a statistic of no
    samples is a harness bug, not a value to print.
    """
    if not xs:
        raise ValueError("percentile of an empty sample")
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile p={p} outside [0, 100]")
    s = sorted(xs)
    pos = (len(s) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    if lo == hi:
        return float(s[lo])
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(xs: Sequence[float]) -> float:
    return percentile(xs, 50.0)


def ratio(num: Optional[float], den: Optional[float]) -> Optional[float]:
    """num/den, or None when either side is unknown or den is not positive."""
    if num is None or den is None or den <= 0:
        return None
    return num / den


@dataclasses.dataclass
class Summary:
    n: int
    median: float
    p10: float
    p90: float
    min: float
    max: float


def summarize(xs: Sequence[float]) -> Optional[Summary]:
    if not xs:
        return None
    return Summary(n=len(xs), median=median(xs), p10=percentile(xs, 10), p90=percentile(xs, 90),
                   min=float(min(xs)), max=float(max(xs)))


# ---------------------------------------------------------------------------------------------
# Result model (filled by the harness, or by tests with fake numbers)


@dataclasses.dataclass
class RuntimeResult:
    """Samples of one runtime in one benchmark.

    status is "ok", or a reason the runtime has no (complete) numbers, e.g.
    "not built yet: build/release/... not found" or "failed: <stderr>".
    wall: seconds per `run`. rss: ru_maxrss KiB per `run`.
    phases: phase name -> seconds per iteration; phase_rss: phase -> KiB.
    """
    name: str
    status: str = "ok"
    version: str = ""
    wall: List[float] = dataclasses.field(default_factory=list)
    rss: List[int] = dataclasses.field(default_factory=list)
    phases: Dict[str, List[float]] = dataclasses.field(default_factory=dict)
    phase_rss: Dict[str, List[int]] = dataclasses.field(default_factory=dict)

    def ok(self) -> bool:
        return self.status == "ok"

    def total_create_start_delete(self) -> List[float]:
        """Per-iteration create+start+delete (the wait for exit is not runtime work)."""
        parts = [self.phases.get(p, []) for p in ("create", "start", "delete")]
        n = min(len(p) for p in parts)
        return [parts[0][i] + parts[1][i] + parts[2][i] for i in range(n)]


@dataclasses.dataclass
class Meta:
    date: str
    command: str
    machine: Dict[str, str]
    notes: List[str] = dataclasses.field(default_factory=list)


def _median_or_none(xs: Sequence[float]) -> Optional[float]:
    return median(xs) if xs else None


@dataclasses.dataclass
class Goal:
    text: str
    status: str  # "met", "NOT met", or "not evaluated: <reason>"
    detail: str = ""


def evaluate_goals(results: Dict[str, RuntimeResult]) -> List[Goal]:
    """Computes the issue's two goals from the `run` samples."""
    wall_text = f"{BERTH} median `run` wall time <= {WALL_GOAL_RATIO} x crun's"
    rss_text = f"{BERTH} median peak RSS of `run` <= crun's"
    berth = results.get(BERTH)
    crun = results.get(CRUN)
    reason = None
    if berth is None:
        reason = f"{BERTH} not benchmarked"
    elif not berth.ok() or not berth.wall:
        reason = f"{BERTH}: " + (berth.status if not berth.ok() else "no samples")
    elif crun is None:
        reason = "crun not benchmarked"
    elif not crun.ok() or not crun.wall:
        reason = "crun: " + (crun.status if not crun.ok() else "no samples")
    if reason is not None:
        return [Goal(wall_text, f"not evaluated: {reason}"),
                Goal(rss_text, f"not evaluated: {reason}")]
    wall_r = ratio(median(berth.wall), median(crun.wall))
    rss_r = ratio(median(berth.rss), median(crun.rss)) if berth.rss and crun.rss else None
    wall_met = wall_r is not None and wall_r <= WALL_GOAL_RATIO
    goals = [Goal(wall_text, "met" if wall_met else "NOT met", f"ratio {fmt_ratio(wall_r)}")]
    if rss_r is None:
        goals.append(Goal(rss_text, "not evaluated: no RSS samples"))
    else:
        goals.append(Goal(rss_text, "met" if rss_r <= RSS_GOAL_RATIO else "NOT met",
                          f"ratio {fmt_ratio(rss_r)}"))
    return goals


# ---------------------------------------------------------------------------------------------
# Formatting


def fmt_ms(seconds: Optional[float]) -> str:
    return "-" if seconds is None else f"{seconds * 1000.0:.2f}"


def fmt_mib(kib: Optional[float]) -> str:
    return "-" if kib is None else f"{kib / 1024.0:.2f}"


def fmt_ratio(r: Optional[float]) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _order(results: Dict[str, RuntimeResult]) -> List[RuntimeResult]:
    rank = {BERTH: 0, CRUN: 1, RUNC: 2, HOST: 3}
    return sorted(results.values(), key=lambda r: (rank.get(r.name, 9), r.name))


def _meta_block(meta: Meta, results: Dict[str, RuntimeResult]) -> List[str]:
    lines = [f"- Date: {meta.date}"]
    lines += [f"- {k}: {v}" for k, v in meta.machine.items()]
    for r in _order(results):
        if r.name == HOST:
            continue
        lines.append(f"- {r.name}: {r.version or '-'}"
                     + ("" if r.ok() else f" (**{r.status}**)"))
    lines += [f"- {n}" for n in meta.notes]
    lines += ["", "Reproduce (as root, from the repository root):", "",
              "```sh", meta.command, "```"]
    return lines


def render_run_section(meta: Meta, results: Dict[str, RuntimeResult]) -> str:
    crun = results.get(CRUN)
    runc = results.get(RUNC)
    crun_wall = _median_or_none(crun.wall) if crun and crun.ok() else None
    runc_wall = _median_or_none(runc.wall) if runc and runc.ok() else None
    crun_rss = _median_or_none(crun.rss) if crun and crun.ok() else None
    rows = []
    for r in _order(results):
        if not r.ok():
            rows.append([r.name, r.status] + ["-"] * 8)
            continue
        w = summarize(r.wall)
        m = summarize(r.rss)
        if w is None:
            rows.append([r.name, "no samples"] + ["-"] * 8)
            continue
        rows.append([r.name, str(w.n), fmt_ms(w.median), fmt_ms(w.p10), fmt_ms(w.p90),
                     fmt_mib(m.median if m else None), fmt_mib(m.max if m else None),
                     fmt_ratio(ratio(w.median, crun_wall)), fmt_ratio(ratio(w.median, runc_wall)),
                     fmt_ratio(ratio(m.median if m else None, crun_rss))])
    header = ["runtime", "runs", "median wall ms", "p10 ms", "p90 ms", "median peak RSS MiB",
              "max peak RSS MiB", "wall / crun", "wall / runc", "RSS / crun"]
    lines = ["## `run` of /bin/true (busybox bundle)", ""]
    lines += _meta_block(meta, results)
    lines += ["", _table(header, rows), ""]
    lines += ["Goals (computed from the samples above):", ""]
    for g in evaluate_goals(results):
        lines.append(f"- {g.text}: **{g.status}**" + (f" ({g.detail})" if g.detail else ""))
    return "\n".join(lines) + "\n"


def render_phases_section(meta: Meta, results: Dict[str, RuntimeResult]) -> str:
    crun = results.get(CRUN)
    crun_med = {}
    if crun is not None and crun.ok():
        crun_med = {p: _median_or_none(crun.phases.get(p, [])) for p in PHASES}
        crun_med["total"] = _median_or_none(crun.total_create_start_delete())
    rows = []
    ratio_rows = []
    for r in _order(results):
        if r.name == HOST:
            continue
        if not r.ok():
            rows.append([r.name, r.status] + ["-"] * 6)
            continue
        cells = [r.name, str(len(r.phases.get("create", [])))]
        meds = {}
        for p in PHASES + ("total",):
            xs = r.total_create_start_delete() if p == "total" else r.phases.get(p, [])
            s = summarize(xs)
            meds[p] = s.median if s else None
            cells.append("-" if s is None
                         else f"{fmt_ms(s.median)} ({fmt_ms(s.p10)}-{fmt_ms(s.p90)})")
        create_rss = summarize(r.phase_rss.get("create", []))
        cells.append(fmt_mib(create_rss.median if create_rss else None))
        rows.append(cells)
        if r.name != CRUN and crun_med:
            ratio_rows.append([f"{r.name} / crun"]
                              + [fmt_ratio(ratio(meds[p], crun_med.get(p))) for p in
                                 ("create", "start", "delete", "total")])
    header = ["runtime", "iterations", "create ms", "start ms", "wait-exit ms", "delete ms",
              "create+start+delete ms", "create peak RSS MiB"]
    lines = ["## `create` + `start` + `delete`, timed separately", ""]
    lines += _meta_block(meta, results)
    lines += ["", "Cells: median (p10-p90). `wait-exit` is the time from `start` returning until",
              "the container process has exited (pidfd poll); it is not runtime work and is not",
              "part of the create+start+delete sum.", "", _table(header, rows)]
    if ratio_rows:
        lines += ["", "Ratios of medians:", "",
                  _table(["", "create", "start", "delete", "create+start+delete"], ratio_rows)]
    return "\n".join(lines) + "\n"


def render_hyperfine_section(meta: Meta, hf: Dict[str, Dict[str, float]],
                             versions: Dict[str, str]) -> str:
    """hf: runtime -> {"median","mean","stddev","min","max","runs"} in seconds (from hyperfine)."""
    crun_med = hf.get(CRUN, {}).get("median")
    runc_med = hf.get(RUNC, {}).get("median")
    rows = []
    for name in sorted(hf, key=lambda n: ({BERTH: 0, CRUN: 1, RUNC: 2}.get(n, 9), n)):
        s = hf[name]
        rows.append([name, str(int(s["runs"])), fmt_ms(s["median"]), fmt_ms(s["mean"]),
                     fmt_ms(s["stddev"]), fmt_ms(s["min"]), fmt_ms(s["max"]),
                     fmt_ratio(ratio(s["median"], crun_med)),
                     fmt_ratio(ratio(s["median"], runc_med))])
    lines = ["## Cross-check: hyperfine (not interleaved)", ""]
    lines += [f"- Date: {meta.date}"] + [f"- {k}: {v}" for k, v in meta.machine.items()]
    lines += [f"- {k}: {v}" for k, v in sorted(versions.items())]
    lines += ["- hyperfine runs each command's runs back to back (no interleaving), so drift",
              "  between commands is not cancelled; the interleaved harness is the primary number.",
              "", "Reproduce:", "", "```sh", meta.command, "```", ""]
    lines.append(_table(["runtime", "runs", "median ms", "mean ms", "stddev ms", "min ms", "max ms",
                         "median / crun", "median / runc"], rows))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# RESULTS.md update

HEADER = """# berth-runtime benchmarks

Generated by `bench/runtime_bench.py` (run through `bench/run.sh`). Each section between
`BEGIN bench:` / `END bench:` markers is rewritten by the harness when that benchmark is rerun;
text outside the markers is kept.
"""

_SECTION_RE = re.compile(
    r"<!-- BEGIN bench:(?P<name>[a-z0-9_-]+) -->\n.*?<!-- END bench:(?P=name) -->\n?", re.S)


def merge_sections(existing: Optional[str], sections: Dict[str, str],
                   order: Sequence[str] = ("run", "phases", "hyperfine")) -> str:
    """Replaces the named marked sections in `existing` (or appends them), keeping the rest.

    New sections are appended in `order` (then by name). With no existing text,
    the result starts with HEADER.
    """
    text = existing if existing else HEADER
    done = set()

    def block(name: str) -> str:
        body = sections[name].rstrip("\n")
        return f"<!-- BEGIN bench:{name} -->\n{body}\n<!-- END bench:{name} -->\n"

    def repl(m: "re.Match[str]") -> str:
        name = m.group("name")
        if name in sections:
            done.add(name)
            return block(name)
        return m.group(0)

    text = _SECTION_RE.sub(repl, text)
    rank = {n: i for i, n in enumerate(order)}
    for name in sorted(sections, key=lambda n: (rank.get(n, len(rank)), n)):
        if name not in done:
            if not text.endswith("\n"):
                text += "\n"
            text += "\n" + block(name)
    return text


def write_atomic(path: str, text: str) -> None:
    """Writes text to path via a temp file in the same directory + fsync + rename."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
