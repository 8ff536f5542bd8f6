"""Live restore under fire: kill -9 the daemon BERTH_E2E_KILL_ROUNDS (default 20) times at random
moments while a loop creates, starts, stops and removes containers (20 slots), a container logs
a numbered line every 10 ms, and each round starts a container that exits with a known code
while the daemon is down.

After each restart (allowing a short settle): every listed container is in a true state (a
"running" one has a live pid, an exited one has its exit code and finish time, nothing stuck in
"removing"); no berth-monitor runs for a container that is neither running nor created (a
created one may have its standby monitor, with its rootfs mounted), no mount under the data
root belongs to a container that is neither, no cgroup remains of a removed or exited
container; the container that exited while the daemon was down shows its real exit code (and,
under berthd, its real finish time). At the end `logs` of the logger holds every line, in order,
without gaps or duplicates, including those written while the daemon was down.

berthd only (its always-on live restore). BERTH_E2E_KILL_DOCKERD=1 runs the same harness
against dockerd with --live-restore, without the berth-specific checks (monitors, data-root
mounts, finish time), to validate the harness itself. BERTH_E2E_SEED replays a run."""

import datetime
import http.client
import os
import random
import re
import threading
import time

import pytest

from conftest import is_berthd
from ctrutil import cbox  # noqa: F401 - fixture
from ctrutil import cgroups_of, container_dirs, leftover_mounts, monitor_pids, proc_cmdline
from e2eutil import pid_alive

ROUNDS = int(os.environ.get("BERTH_E2E_KILL_ROUNDS", "20"))
SLOTS = 20
TIME_BOUND = float(os.environ.get("BERTH_E2E_RELIABILITY_SECONDS", "600"))
ZERO_TIME = "0001-01-01T00:00:00Z"
DOCKERD_LEAKS = set()


def parse_time(s):
    if not s or s.startswith("0001-"):
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
    assert m, s
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = datetime.timezone.utc if m.group(3) == "Z" else datetime.datetime.strptime(m.group(3).replace(":", ""), "%z").tzinfo
    return t.replace(tzinfo=tz).timestamp() + float(m.group(2) or 0)


class Churn(threading.Thread):
    """create -> start -> stop -> rm over SLOTS names, forever until stopped; any failure
    (daemon down, connection reset) resyncs the slot by force-removing whatever has its name."""

    def __init__(self, d, img, seed):
        super().__init__(daemon=True)
        self.d, self.img, self.rng = d, img, random.Random(seed)
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.ids = set()
        self.removed = set()
        self.cycles = 0
        self.errors = 0

    def call(self, method, path, **kw):
        with self.lock:
            return self.d.api.request(method, path, timeout=30, **kw)

    def run(self):
        k = 0
        while not self.stop_flag.is_set():
            name = f"churn-{k % SLOTS}"
            k += 1
            try:
                self.cycle(name)
                self.cycles += 1
            except (OSError, http.client.HTTPException, AssertionError, ValueError):
                self.errors += 1
                time.sleep(0.1)
                self.resync(name)

    def cycle(self, name):
        r = self.call("POST", "/containers/create", query={"name": name},
                      body={"Image": self.img, "Cmd": ["sleep", "300"], "StopSignal": "SIGKILL",
                            "Labels": {"e2e": "churn"}})
        if r.status == 409:
            raise AssertionError("name in use")
        assert r.status == 201, r
        cid = r.json()["Id"]
        self.ids.add(cid)
        assert self.call("POST", f"/containers/{cid}/start").status == 204
        time.sleep(self.rng.uniform(0, 0.3))
        assert self.call("POST", f"/containers/{cid}/stop", query={"t": "1"}).status in (204, 304)
        assert self.call("DELETE", f"/containers/{cid}").status == 204
        self.removed.add(cid)

    def resync(self, name):
        for _ in range(50):
            if self.stop_flag.is_set():
                return
            try:
                r = self.call("GET", f"/containers/{name}/json")
                if r.status == 404:
                    return
                cid = r.json()["Id"]
                self.ids.add(cid)
                r = self.call("DELETE", f"/containers/{cid}", query={"force": "1"})
                if r.status in (204, 404):
                    self.removed.add(cid)
                    return
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                pass
            time.sleep(0.2)


def check_invariants(d, churn, known_ids):
    """Returns a list of problems (empty = consistent)."""
    problems = []
    r = d.api.get("/containers/json", query={"all": "1"}, timeout=30)
    if r.status != 200:
        return [f"ps -a: {r}"]
    listed = {c["Id"]: c for c in r.json()}
    running = set()
    created = set()  # may have a standby monitor (docs/design/containers.md)
    for cid in listed:
        ri = d.api.get(f"/containers/{cid}/json", timeout=30)
        if ri.status == 404:
            continue  # removed between the two calls by the churn loop
        st = ri.json()["State"]
        status = st["Status"]
        allowed = {"created", "running", "exited", "restarting"} | (set() if is_berthd() else {"dead"})
        if status not in allowed:
            problems.append(f"{cid[:12]} in state {status!r}")
        if status == "created":
            created.add(cid)
        if status == "running":
            running.add(cid)
            if not (st["Pid"] > 0 and pid_alive(st["Pid"])):
                problems.append(f"{cid[:12]} running with dead pid {st['Pid']}")
            if st["Running"] is not True:
                problems.append(f"{cid[:12]} status running but Running={st['Running']}")
        if status == "exited":
            if not isinstance(st.get("ExitCode"), int):
                problems.append(f"{cid[:12]} exited without an exit code: {st}")
            if parse_time(st.get("FinishedAt")) is None:
                problems.append(f"{cid[:12]} exited without a finish time: {st.get('FinishedAt')}")
            if st["Pid"] != 0:
                problems.append(f"{cid[:12]} exited with pid {st['Pid']}")
    gone = (known_ids | churn.ids) - set(listed)
    not_running = (set(listed) - running) | gone
    cg = cgroups_of(sorted(not_running))
    if cg:
        if is_berthd():
            problems.append(f"cgroups of stopped/removed containers: {cg[:5]}")
        else:
            # dockerd --live-restore leaks cgroups of containers that died with their shim
            # (seen on 20.10): reported at the end, not failed, so the rest of the harness is checked.
            DOCKERD_LEAKS.update(cg)
    if is_berthd():
        for m in monitor_pids(d.data_root):
            argv = " ".join(proc_cmdline(m))
            ids = re.findall(r"[0-9a-f]{64}", argv)
            if not ids or ids[0] not in running | created:
                problems.append(f"orphan berth-monitor {m}: {argv}")
        for mp in leftover_mounts(d.data_root):
            ids = re.findall(r"[0-9a-f]{64}", mp)
            if not ids or ids[0] not in running | created:
                problems.append(f"leftover mount {mp}")
        dirs = set(container_dirs(d.data_root))
        stray = dirs & gone
        if stray:
            problems.append(f"directories of removed containers: {sorted(stray)[:5]}")
    return problems


def settle(d, churn, known_ids, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        with churn.lock:
            problems = check_invariants(d, churn, known_ids)
        if not problems or time.monotonic() > deadline:
            return problems
        time.sleep(0.3)


def test_kill9_under_container_churn(make_daemon, cbox):
    on_dockerd = os.environ.get("BERTH_E2E_KILL_DOCKERD") == "1"
    if not is_berthd() and not on_dockerd:
        pytest.skip("berthd only: live restore is always on in berth (BERTH_E2E_KILL_DOCKERD=1 runs the harness "
                    "on dockerd --live-restore)")
    seed = int(os.environ.get("BERTH_E2E_SEED", "0")) or random.SystemRandom().randrange(1, 2 ** 31)
    print(f"\nreliability seed: {seed}")
    rng = random.Random(seed)
    d = make_daemon(extra_args=[] if is_berthd() else ["--live-restore"]).start()
    r, err = d.api.pull(cbox.ref, timeout=300)
    assert r.status == 200 and not err, (r, err)
    img = cbox.ref
    t_end = time.monotonic() + TIME_BOUND

    # The logger: line-0, line-1, ... every 10 ms, for longer than the rounds take.
    r = d.api.post("/containers/create", query={"name": "logger"},
                   body={"Image": img, "Cmd": ["sh", "-c", 'i=0; while true; do echo "line-$i"; i=$((i+1)); usleep 10000; done']})
    assert r.status == 201, r
    logger = r.json()["Id"]
    assert d.api.post(f"/containers/{logger}/start").status == 204
    known = {logger}
    churn = Churn(d, img, rng.randrange(2 ** 31))
    try:
        _rounds(d, img, rng, seed, churn, logger, known, t_end)
    finally:
        churn.stop_flag.set()
        if churn.is_alive():
            churn.join(timeout=60)
        d.remove_containers()
        # A failed round may leave cgroups of containers whose directories are gone already.
        from ctrutil import remove_cgroups
        time.sleep(0.3)
        remove_cgroups(sorted(known | churn.ids))


def _rounds(d, img, rng, seed, churn, logger, known, t_end):
    churn.start()
    down_windows = []
    exits = []
    try:
        for rnd in range(ROUNDS):
            assert time.monotonic() < t_end, f"time bound {TIME_BOUND}s reached after {rnd} rounds"
            code = 10 + rnd
            r = d.api.post("/containers/create", query={"name": f"exiter-{rnd}"},
                           body={"Image": img, "Cmd": ["sh", "-c", f"sleep 0.3; exit {code}"]})
            assert r.status == 201, r
            ex = r.json()["Id"]
            known.add(ex)
            assert d.api.post(f"/containers/{ex}/start").status == 204
            time.sleep(rng.uniform(0.0, 0.25))
            t_kill = time.time()
            d.kill9()
            time.sleep(rng.uniform(0.8, 2.0))  # the exiter exits and the logger logs while down
            t_up = time.time()
            d.start()
            down_windows.append((t_kill, t_up))
            problems = settle(d, churn, known)
            assert not problems, f"round {rnd} (seed {seed}): {problems}\n{d.log_tail()}"
            st = d.api.get(f"/containers/{ex}/json").json()["State"]
            exits.append((rnd, st["Status"], st["ExitCode"], st["FinishedAt"]))
            assert st["Status"] == "exited" and st["ExitCode"] == code, f"round {rnd} (seed {seed}): exiter {st}"
            if is_berthd():
                fin = parse_time(st["FinishedAt"])
                assert t_kill - 1 <= fin <= t_up + 0.5, \
                    f"round {rnd}: FinishedAt {st['FinishedAt']} outside the down window ({t_kill:.3f}, {t_up:.3f})"
            lst = d.api.get(f"/containers/{logger}/json").json()["State"]
            assert lst["Status"] == "running" and lst["Pid"] > 0, f"round {rnd}: logger {lst}"
            time.sleep(rng.uniform(0.1, 1.2))  # random moment of the next kill, churn going on
    finally:
        churn.stop_flag.set()
        churn.join(timeout=60)
    print(f"churn: {churn.cycles} full cycles, {churn.errors} interrupted, {len(churn.ids)} containers created")
    assert churn.cycles > 0
    problems = settle(d, churn, known)
    assert not problems, f"after the rounds (seed {seed}): {problems}"

    # Every line the logger wrote is in `logs`, once, in order, including while the daemon was down.
    assert d.api.post(f"/containers/{logger}/kill").status == 204
    r = d.api.post(f"/containers/{logger}/wait", timeout=60)
    assert r.status == 200, r
    r = d.api.get(f"/containers/{logger}/logs", query={"stdout": "1", "stderr": "1", "timestamps": "1"}, timeout=120)
    assert r.status == 200, r
    from ctrutil import demux
    out, err = demux(r.body)
    assert err == b""
    lines = out.decode().splitlines()
    nums, stamps = [], []
    for l in lines:
        ts, _, text = l.partition(" ")
        m = re.fullmatch(r"line-(\d+)", text)
        assert m, f"unexpected log line {l!r}"
        nums.append(int(m.group(1)))
        stamps.append(parse_time(ts))
    assert nums == list(range(len(nums))), \
        f"gaps or duplicates in the logger's lines: first problem near {next(i for i, n in enumerate(nums) if n != i)}"
    during_down = sum(1 for t in stamps if any(a <= t <= b for a, b in down_windows))
    print(f"logger: {len(nums)} lines, {during_down} written while the daemon was down; exiters: {exits}")
    if DOCKERD_LEAKS:
        print(f"dockerd leaked {len(DOCKERD_LEAKS)} cgroups of stopped/removed containers: {sorted(DOCKERD_LEAKS)[:4]}")
    assert len(nums) > 50 * ROUNDS, f"only {len(nums)} lines"
    if is_berthd():
        # The monitor stamps each line when the container writes it (dockerd stamps lines when it
        # reads them back from the fifo after its restart, so this holds only for berth).
        assert during_down > 50 * len(down_windows) // 2, f"only {during_down} lines were logged while the daemon was down"
    d.remove_containers()
    if not is_berthd():
        from ctrutil import remove_cgroups
        time.sleep(0.5)
        remove_cgroups(sorted(known | churn.ids))  # what dockerd leaked (see DOCKERD_LEAKS)
    if is_berthd():
        time.sleep(0.5)
        assert monitor_pids(d.data_root) == []
        assert leftover_mounts(d.data_root) == []
        assert cgroups_of(sorted(known | churn.ids)) == []


def test_live_restore_features(make_daemon, cbox):
    """After a kill -9 and restart: ps, logs -f, exec, attach, stop and stats work on a container
    that kept running; a container that exited while the daemon was down shows its real exit
    code and its restart policy applies."""
    on_dockerd = os.environ.get("BERTH_E2E_KILL_DOCKERD") == "1"
    if not is_berthd() and not on_dockerd:
        pytest.skip("berthd only: live restore is always on in berth (BERTH_E2E_KILL_DOCKERD=1 runs it on dockerd "
                    "--live-restore)")
    from ctrutil import attach_socket, demux, read_until, run_detached
    d = make_daemon(extra_args=[] if is_berthd() else ["--live-restore"]).start()
    r, err = d.api.pull(cbox.ref, timeout=300)
    assert r.status == 200 and not err, (r, err)
    img = cbox.ref
    survivor = run_detached(d.api, img, ["sh", "-c", 'echo started; while read l; do echo "echo:$l"; done; sleep 300'],
                            name="survivor", OpenStdin=True)
    onfail = run_detached(d.api, img, ["sh", "-c", "sleep 1; exit 3"], name="onfail",
                          HostConfig={"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 1}})
    always = run_detached(d.api, img, ["sleep", "300"], name="always", HostConfig={"RestartPolicy": {"Name": "always"}})
    pid_before = d.api.get(f"/containers/{survivor}/json").json()["State"]["Pid"]
    d.kill9()
    time.sleep(2.0)
    assert pid_alive(pid_before), "the container keeps running while the daemon is down"
    d.start()
    st = d.api.get(f"/containers/{survivor}/json").json()["State"]
    assert st["Status"] == "running" and st["Pid"] == pid_before, st
    names = {c["Names"][0]: c for c in d.api.get("/containers/json").json()}
    assert "/survivor" in names and names["/survivor"]["State"] == "running", names
    # The on-failure container exited (code 3) while down, and is restarted once (then exits 3 again).
    def onfail_done():
        s = d.api.get(f"/containers/{onfail}/json").json()
        return s["State"]["Status"] == "exited" and s["RestartCount"] == 1 and s
    from e2eutil import wait_until
    s = wait_until(onfail_done, 30, interval=0.2, what="on-failure restart after live restore")
    assert s["State"]["ExitCode"] == 3
    r = d.api.get(f"/containers/{onfail}/logs", query={"stdout": "1"})
    assert r.status == 200
    assert d.api.get(f"/containers/{always}/json").json()["State"]["Status"] == "running"
    # exec
    r = d.api.post(f"/containers/{survivor}/exec", body={"Cmd": ["echo", "exec-ok"], "AttachStdout": True})
    assert r.status == 201, r
    eid = r.json()["Id"]
    r = d.api.post(f"/exec/{eid}/start", body={"Detach": False, "Tty": False}, timeout=30)
    assert r.status == 200 and demux(r.body)[0] == b"exec-ok\n", r
    # attach (stdin in, stdout out)
    sock, rest = attach_socket(d.sock, survivor)
    try:
        sock.sendall(b"ping\n")
        got = read_until(sock, lambda b: b"echo:ping" in demux(b)[0], initial=rest)
        assert b"echo:ping\n" in demux(got)[0], got
    finally:
        sock.close()
    # stats (one-shot)
    r = d.api.get(f"/containers/{survivor}/stats", query={"stream": "0"}, timeout=30)
    assert r.status == 200 and r.json()["pids_stats"].get("current", 0) >= 1, r
    # logs -f: follows the live container after the restart
    import threading
    got = {}
    def follow():
        got["r"] = d.api.get(f"/containers/{survivor}/logs", query={"stdout": "1", "follow": "1"}, timeout=60)
    t = threading.Thread(target=follow)
    t.start()
    time.sleep(1.0)
    sock, rest = attach_socket(d.sock, survivor, query="stream=1&stdin=1")
    sock.sendall(b"after\n")
    time.sleep(0.5)
    sock.close()
    r = d.api.post(f"/containers/{survivor}/stop", query={"t": "1"}, timeout=60)
    assert r.status == 204, r
    t.join(timeout=60)
    assert not t.is_alive(), "logs -f did not end when the container stopped"
    out = demux(got["r"].body)[0]
    assert out.startswith(b"started\n") and b"echo:ping\n" in out and b"echo:after\n" in out, out
    assert not pid_alive(pid_before)
    st = d.api.get(f"/containers/{survivor}/json").json()["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 137, st
    d.remove_containers()
