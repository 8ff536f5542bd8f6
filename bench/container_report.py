"""Statistics and Markdown rendering for bench/container_bench.py (stdlib only), kept apart
from the harness so bench/test_container_bench.py can check them without root or daemons.

Times are seconds (float); rendering converts to ms. A result dict (Bench.run) holds
"run": {"variants": {NET: {client label: [seconds]}}, "rounds", "warmup"},
"many": {"count", "variants": {NET: {client label: row}}}, "ps" and "logs": {"samples": ...},
where NET is a key of NETWORKS.
"""

from __future__ import annotations

from typing import Dict, List, Optional

from benchstats import median, ratio, rotation  # noqa: F401 - rotation: the harness's

MARK_BEGIN = "<!-- BEGIN bench:containers -->"
MARK_END = "<!-- END bench:containers -->"

FLOOR = "docker → instant stub"
# (label, engine whose daemon/storage it uses, client binary key)
CLIENTS = [
    ("berth → berthd", "berthd", "berth"),
    ("docker → berthd", "berthd", "docker"),
    ("docker → dockerd", "dockerd", "docker"),
    ("podman", "podman", "podman"),
    # Not an engine: bench/instant_engine.py answers every request at once, so this row is
    # what the docker CLI spends by itself (the `run` part only).
    (FLOOR, "instant", "docker"),
]
BASELINE = "docker → dockerd"
# Rows of the many part that are no engine: an OCI runtime run bare (bench/bare_runtime.py).
BARE_PREFIX = "bare "

# How the containers of the `run` and `many` parts are networked. "default" is the issue's
# command as written (no network flag: each engine's default bridge); "none" puts every
# engine's container on --network none.
NETWORKS = {
    "default": ("each engine's default network",
                "The issue's commands as written, with no network flag: berthd's containers go on its "
                "bridge, dockerd's on docker0 (dockerd runs with --iptables=false, so the host's firewall "
                "stays untouched). podman is not run here: its bridge needs netavark and iptables rules "
                "on the host."),
    "none": ("`--network none`", "Every engine's containers get `--network none` (podman too)."),
}


# --- pure parts --------------------------------------------------------------------------------

def fmt(x: Optional[float], digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def fmt_ratio(r: Optional[float]) -> str:
    return "n/a" if r is None else f"{r:.3f}×"


def goal_line(what: str, value: Optional[float], limit: float, unit: str = "×") -> str:
    if value is None:
        return f"- {what} ≤ {limit}{unit}: **not measured**"
    ok = value <= limit
    shown = f"{value:.3f}×" if unit == "×" else f"{value:.1f} {unit}"
    return f"- {what} ≤ {limit}{'' if unit == '×' else ' '}{unit}: **{'met' if ok else 'not met'}** ({shown})"


def timing_table(samples: Dict[str, List[float]], title: str) -> List[str]:
    base = median(samples.get(BASELINE) or [])
    out = [title, "", "| client → engine | median ms | min ms | max ms | runs | vs docker → dockerd |",
           "|---|---|---|---|---|---|"]
    for label, _, _ in CLIENTS:
        if label not in samples:
            continue
        xs = samples[label]
        m = median(xs)
        out.append(f"| {label} | {fmt(m * 1000 if m is not None else None)} | "
                   f"{fmt(min(xs) * 1000 if xs else None)} | {fmt(max(xs) * 1000 if xs else None)} | "
                   f"{len(xs)} | {fmt_ratio(ratio(m, base))} |")
    out.append("")
    return out


def docker_cli_floor_line(samples: Dict[str, List[float]]) -> Optional[str]:
    """What the docker CLI costs by itself in `run --rm`, and what the 0.1× goal leaves berthd."""
    floor = median(samples.get(FLOOR) or [])
    base = median(samples.get(BASELINE) or [])
    ours = median(samples.get("docker → berthd") or [])
    if floor is None or base is None or not base:
        return None
    line = (f"- docker CLI floor (`{FLOOR}`: bench/instant_engine.py answers every request at once, "
            f"no container): {floor * 1000:.1f} ms = {floor / base:.3f}× of docker → dockerd; the 0.1× "
            f"goal leaves the engine {(0.1 * base - floor) * 1000:.1f} ms")
    if ours is not None:
        line += f", berthd takes {(ours - floor) * 1000:.1f} ms (docker → berthd minus the floor)"
    return line


def bare_scale_line(berth_ms: Optional[float], bare: Dict[str, Dict]) -> Optional[str]:
    """How `berth run -d` compares with the OCI runtimes run bare on the same machine."""
    if not bare:
        return None
    parts = []
    for name, r in bare.items():
        part = f"bare `{name} run -d` {r['ms_per']:.1f} ms"
        if berth_ms is not None and r["ms_per"]:
            part += f" (`berth run -d` = {berth_ms / r['ms_per']:.2f}× of it)"
        parts.append(part)
    return "- for scale, no engine on this machine: " + "; ".join(parts)


def render_markdown(res: Dict, command: str) -> str:
    out = [MARK_BEGIN, f"## Container benchmarks ({res.get('date', '?')}, {res.get('host', '?')})", "",
           f"Reproduce (as root, from the repository root): `{command}`", "",
           f"Engines: {', '.join(res.get('engines', []))}; load average (1 min) before/after: "
           f"{res.get('load_before', '?')} / {res.get('load_after', '?')}. Image: busybox-static "
           "(one layer, built offline by tests/e2e/imagebuild.py), loaded into every engine.", ""]
    if res.get("dying_memcgs"):
        out += ["Page cache dropped before each part; dying memory cgroups before → after: "
                + ", ".join(res["dying_memcgs"]) + ".", ""]
    goals = []
    run = res.get("run")
    many = res.get("many")
    for net, (what, detail) in NETWORKS.items():
        samples = (run or {}).get("variants", {}).get(net)
        rows = (many or {}).get("variants", {}).get(net)
        if not samples and not rows:
            continue
        out += [f"### Containers on {what}", "", detail, ""]
        goals.append(f"On {what}:")
        if samples:
            out += timing_table(samples, f"`run --rm IMG true`, {run['warmup']} warm-up + {run['rounds']} "
                                "interleaved rounds (whole CLI process, wall clock):")
            base = median(samples.get(BASELINE) or [])
            goals.append(goal_line("`berth run --rm` vs `docker run --rm` against dockerd",
                                   ratio(median(samples.get("berth → berthd") or []), base), 0.08))
            goals.append(goal_line("docker CLI against berthd vs against dockerd",
                                   ratio(median(samples.get("docker → berthd") or []), base), 0.1))
            floor_line = docker_cli_floor_line(samples)
            if floor_line:
                goals.append(floor_line)
        if rows:
            warm = (f" (after {many['warmup']} untimed `run --rm IMG true`)" if many.get("warmup") else "")
            out += [f"{many['count']} × `run -d IMG sleep 1000000`, one after another{warm}, then the PSS of the "
                    "per-container processes (sum of Pss from /proc/PID/smaps_rollup):", "",
                    "| client → engine | ms per container | per-container process | processes | PSS kB per container |",
                    "|---|---|---|---|---|"]
            for label, _, _ in CLIENTS:
                r = rows.get(label)
                if r:
                    out.append(f"| {label} | {fmt(r['ms_per'])} | {r['proc']} | {r['nprocs']} | "
                               f"{fmt(r['pss_kb_per'])} |")
            bare = {k[len(BARE_PREFIX):]: r for k, r in rows.items() if k.startswith(BARE_PREFIX)}
            for name, r in bare.items():
                version = f"; {r['version']}" if r.get("version") else ""
                out.append(f"| `{name} run -d` bare (no engine{version}) | {fmt(r['ms_per'])} | - | - | - |")
            out.append("")
            if bare:
                notes = next(iter(bare.values())).get("notes") or []
                out += ["The bare rows create and start the same busybox `sleep` from a prepared bundle with "
                        "the runtime alone (bench/bare_runtime.py: no image store, daemon, request, log or "
                        "network setup), in the same session, while the engines' containers still run."
                        + "".join(f" {n[0].upper() + n[1:].rstrip('.')}." for n in notes if n), ""]
            b = rows.get("berth → berthd")
            goals.append(goal_line(f"{many['count']} × `berth run -d`, per container", b and b["ms_per"], 20, "ms"))
            scale = bare_scale_line(b and b["ms_per"], bare)
            if scale:
                goals.append(scale)
            goals.append(goal_line("berth-monitor PSS per container", b and b["pss_kb_per"], 150, "kB"))
        goals.append("")
    ps = res.get("ps")
    logs = res.get("logs")
    if ps or logs:
        out += ["### `ps` and `logs`", ""]
        goals.append("`ps` and `logs`:")
    if ps:
        out += timing_table(ps["samples"], f"`ps -a` with {ps['count']} containers, {ps['warmup']} warm-up + "
                            f"{ps['runs']} interleaved runs:")
        goals.append(goal_line("`berth ps -a` vs `docker ps -a` against dockerd",
                               ratio(median(ps["samples"].get("berth → berthd") or []),
                                     median(ps["samples"].get(BASELINE) or [])), 0.15))
    if logs:
        out += timing_table(logs["samples"], f"`logs CTR > /dev/null` of {logs['lines']:,} lines "
                            f"(`seq 1 {logs['lines']}`), {logs['runs']} interleaved runs:")
        if logs.get("counts"):
            out += ["Lines each client printed (checked once): " +
                    ", ".join(f"{k}: {v:,}" for k, v in logs["counts"].items()), ""]
        goals.append(goal_line("`berth logs` vs `docker logs` against dockerd",
                               ratio(median(logs["samples"].get("berth → berthd") or []),
                                     median(logs["samples"].get(BASELINE) or [])), 0.15))
    if res.get("errors"):
        out += ["Errors (parts or clients that could not be measured):", ""]
        out += [f"- {e}" for e in res["errors"]]
        out.append("")
    if goals:
        out += ["### Goals (issue 4)", ""] + goals + [""]
    out.append(MARK_END)
    return "\n".join(out)


def replace_block(text: str, block: str) -> str:
    """Replaces the marked block in text, or appends it."""
    b, e = text.find(MARK_BEGIN), text.find(MARK_END)
    if b >= 0 and e > b:
        return text[:b] + block + text[e + len(MARK_END):]
    return text.rstrip("\n") + "\n\n" + block + "\n"


