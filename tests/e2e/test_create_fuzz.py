"""Fuzz POST /containers/create for a bounded time (BERTH_E2E_FUZZ_SECONDS, default 60) from a
seed corpus of valid bodies, mutating types, values and structure (random seed printed; set
BERTH_E2E_SEED to replay).

Pass: the daemon never crashes (its process lives and /_ping answers after every request);
a rejected body leaves nothing behind (ps -a unchanged; under berthd no container directory,
mount or monitor); every error has a message; under berthd no 5xx at all (a malformed body is
the client's fault: 400 naming the field). Status counts are printed (-s shows them); dockerd
20.10 answers JSON type errors with 500, which is counted and reported, not failed."""

import collections
import copy
import http.client
import json
import os
import random
import time

import pytest

from conftest import is_berthd
from ctrutil import cbox, img  # noqa: F401 - fixtures
from ctrutil import container_dirs, leftover_mounts, monitor_pids, ps_all

SECONDS = float(os.environ.get("BERTH_E2E_FUZZ_SECONDS", "60"))


def seed_corpus(img):
    return [
        {"Image": img},
        {"Image": img, "Cmd": ["sleep", "1"], "Env": ["A=B", "C="], "Labels": {"l": "v"}},
        {"Image": img, "Entrypoint": ["sh", "-c"], "Cmd": ["echo hi"], "WorkingDir": "/data", "User": "1000:1000",
         "Tty": True, "OpenStdin": True, "StdinOnce": True, "AttachStdin": True, "StopSignal": "SIGUSR1",
         "StopTimeout": 3, "Hostname": "fuzz", "Domainname": "example"},
        {"Image": img, "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 1000000000, "Timeout": 1000000000,
                                       "Retries": 2, "StartPeriod": 0}},
        {"Image": img, "HostConfig": {"Memory": 64 << 20, "MemorySwap": 128 << 20, "NanoCpus": 500000000,
                                      "CpuShares": 512, "CpusetCpus": "0", "PidsLimit": 64,
                                      "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}],
                                      "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
                                      "CapAdd": ["NET_ADMIN"], "CapDrop": ["MKNOD"], "ReadonlyRootfs": True,
                                      "Tmpfs": {"/scratch": "size=1m"}, "ShmSize": 8 << 20, "Init": True,
                                      "SecurityOpt": ["no-new-privileges"], "Sysctls": {"net.ipv4.ip_forward": "1"},
                                      "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "2"}},
                                      "GroupAdd": ["65534"], "OomScoreAdj": 100, "AutoRemove": False}},
        {"Image": img, "HostConfig": {"RestartPolicy": {"Name": "always"}, "LogConfig": {"Type": "none"},
                                      "NetworkMode": "none", "Privileged": False}},
        {"Image": img, "Cmd": ["true"], "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/v": {}},
         "HostConfig": {"Binds": [], "Mounts": [], "PortBindings": {}}},
    ]


WEIRD = [None, True, False, 0, -1, 1, 2 ** 31, 2 ** 63 - 1, -2 ** 63, 2 ** 64, 1.5, -0.0, 1e308, "", "x",
         "a" * 5000, "\u00e9\u4e2d\U0001f600", "\x00", "../../etc", "/", "${HOME}", "-1", "1e9", "sha256:" + "0" * 64,
         [], [None], [1, "a"], ["a"] * 200, {}, {"": ""}, {"a": {"b": {"c": []}}}]
KEYS = ["Image", "Cmd", "Entrypoint", "Env", "Labels", "WorkingDir", "User", "Tty", "OpenStdin", "Healthcheck",
        "HostConfig", "Memory", "NanoCpus", "CpuShares", "Ulimits", "RestartPolicy", "Name", "MaximumRetryCount",
        "CapAdd", "LogConfig", "Type", "Config", "Tmpfs", "ShmSize", "SecurityOpt", "StopSignal", "StopTimeout",
        "Hostname", "PidsLimit", "Sysctls", "Test", "Interval", "Retries", "Devices", "Mounts", "Binds",
        "ExposedPorts", "Volumes", "NetworkingConfig", "Platform", "Unknown\u00e9", ""]


def paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, prefix + (i,))


def get_parent(obj, path):
    for p in path[:-1]:
        obj = obj[p]
    return obj


def mutate(rng, body):
    body = copy.deepcopy(body)
    for _ in range(rng.randint(1, 4)):
        ps = [p for p in paths(body) if p]
        if not ps:
            body = {rng.choice(KEYS): rng.choice(WEIRD)}
            continue
        p = rng.choice(ps)
        parent = get_parent(body, p)
        op = rng.randrange(8)
        if op == 0:
            parent[p[-1]] = copy.deepcopy(rng.choice(WEIRD))
        elif op == 1:
            del parent[p[-1]]
        elif op == 2 and isinstance(parent, dict):
            parent[rng.choice(KEYS)] = copy.deepcopy(rng.choice(WEIRD + [rng.choice(seed_corpus("x"))]))
        elif op == 3:
            v = parent[p[-1]]
            parent[p[-1]] = [v] if not isinstance(v, list) else {"k": v}
        elif op == 4:
            v = parent[p[-1]]
            if isinstance(v, int) and not isinstance(v, bool):
                parent[p[-1]] = rng.choice([str(v), -v, v * 10 ** rng.randint(1, 12), float(v) + 0.5])
            elif isinstance(v, str):
                parent[p[-1]] = rng.choice([v * rng.randint(2, 50), v[: len(v) // 2], v.upper(), " " + v, v + "\n",
                                            len(v)])
        elif op == 5:
            v = parent[p[-1]]
            nested = v
            for _ in range(rng.randint(5, 60)):
                nested = [nested]
            parent[p[-1]] = nested
        elif op == 6 and isinstance(parent, list):
            parent.extend(copy.deepcopy(parent) * rng.randint(1, 3))
        else:
            parent[p[-1]] = copy.deepcopy(rng.choice(WEIRD))
    return body


def raw_mutation(rng, body):
    """Byte-level damage: truncation, flipped bytes, duplicate keys, bad UTF-8, odd numbers."""
    s = json.dumps(body).encode()
    op = rng.randrange(6)
    if op == 0 and len(s) > 2:
        return s[: rng.randrange(1, len(s))]
    if op == 1:
        b = bytearray(s)
        for _ in range(rng.randint(1, 5)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if op == 2:
        return s[:-1] + b', "Image": 5, "Image": "x"}'
    if op == 3:
        return s.replace(b'"Image"', b'"Im\xffage"', 1)
    if op == 4:
        return s[:-1] + b', "Memory": 1e999999, "StopTimeout": -0, "Tty": tru}'
    return b"{" * rng.randint(1, 20000)


def snapshot(d):
    return (sorted(c["Id"] for c in ps_all(d.api)),
            container_dirs(d.data_root) if is_berthd() else [],
            sorted(leftover_mounts(d.data_root)) if is_berthd() else [],
            sorted(monitor_pids(d.data_root)) if is_berthd() else [])


def test_fuzz_create(daemon, img):
    seed = int(os.environ.get("BERTH_E2E_SEED", "0")) or random.SystemRandom().randrange(1, 2 ** 31)
    print(f"\nfuzz seed: {seed} (BERTH_E2E_SEED={seed} replays; {SECONDS:.0f} s)")
    rng = random.Random(seed)
    corpus = seed_corpus(img)
    api = daemon.api
    for b in corpus:  # the seeds themselves are valid
        r = api.post("/containers/create", body=b)
        assert r.status == 201, (b, r)
        assert api.delete(f"/containers/{r.json()['Id']}", query={"force": "1"}).status == 204
    base = snapshot(daemon)
    statuses = collections.Counter()
    five = []
    empty_msg = []
    n = 0
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        n += 1
        src = rng.choice(corpus)
        if rng.random() < 0.2:
            payload = raw_mutation(rng, src)
        else:
            payload = json.dumps(mutate(rng, src)).encode()
        q = None
        if rng.random() < 0.1:
            q = {"name": rng.choice(["ok-name", "", "a", "../x", "n" * 300, "\u00e9", "fz_" + str(n)])}
        try:
            r = api.post("/containers/create", body=payload, query=q, headers={"Content-Type": "application/json"},
                         timeout=60)
        except (OSError, http.client.HTTPException) as e:
            alive = daemon.proc.poll() is None
            pytest.fail(f"request {n} (seed {seed}): connection failed ({e}); daemon alive={alive}; "
                        f"payload={payload[:500]!r}\n{daemon.log_tail()}")
        statuses[r.status] += 1
        if r.status == 201:
            cid = r.json()["Id"]
            d = api.delete(f"/containers/{cid}", query={"force": "1", "v": "1"}, timeout=60)
            assert d.status == 204, (cid, d)
        else:
            if not r.message().strip():
                empty_msg.append((r.status, payload[:300]))
            if r.status >= 500:
                five.append((r.status, r.message()[:200], payload[:300]))
            now = snapshot(daemon)
            assert now == base, f"request {n} (seed {seed}) rejected with {r.status} but left {now} vs {base}; payload={payload[:500]!r}"
        if n % 25 == 0:
            assert daemon.proc.poll() is None, f"daemon died (seed {seed})\n{daemon.log_tail()}"
            assert api.ping().status == 200
    assert daemon.proc.poll() is None, f"daemon died (seed {seed})\n{daemon.log_tail()}"
    assert api.ping().status == 200
    print(f"fuzz: {n} requests, statuses {dict(sorted(statuses.items()))}, 5xx {len(five)}, "
          f"errors without a message {len(empty_msg)}")
    for f in five[:10]:
        print("  5xx:", f)
    assert snapshot(daemon) == base
    assert not empty_msg, f"errors without a message (seed {seed}): {empty_msg[:5]}"
    if is_berthd():
        assert not five, f"{len(five)} 5xx answers to create bodies (seed {seed}): {five[:5]}"
