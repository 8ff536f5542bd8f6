"""The container process: args, env, cwd, user and groups, umask, rlimits,
capabilities, no_new_privs, oom_score_adj, and a terminal via a console socket."""

import json
import os

from caps import mask, names, probe_masks
from console import ConsoleSocket
from runtime import run_probe_json


def test_args_env_cwd(rt, bundle):
    bundle.probe("all").env("FOO=bar", "SPACES=a b  c", replace=True).env("PATH=/bin")
    bundle.process["cwd"] = "/tmp"
    data = run_probe_json(rt, bundle)
    assert "FOO=bar" in data["env"]
    assert "SPACES=a b  c" in data["env"]
    assert "PATH=/bin" in data["env"]
    assert data["cwd"] == "/tmp"


def test_args_passed_verbatim(rt, bundle):
    bundle.args("/bin/sh", "-c", 'printf "%s|" "$@"', "sh", "a b", "", "--x=1")
    cid, r = rt.run(bundle)
    assert r.returncode == 0, r
    assert r.stdout == "a b||--x=1|"


def test_cwd_created_if_missing(rt, bundle):
    bundle.config["root"]["readonly"] = False
    bundle.process["cwd"] = "/work/dir"
    data = run_probe_json(rt, bundle)
    assert data["cwd"] == "/work/dir"


def test_cwd_that_is_a_file_fails_the_create(rt, bundle):
    # runc reports it from its init before `create` returns; the container
    # never reaches start (docker shows it as the start's error, exit 125).
    bundle.process["cwd"] = "/etc/passwd"
    cid, r = rt.create(bundle, check=False)
    assert r.returncode != 0, r
    assert "not a directory" in r.stderr, r.stderr
    assert rt.state_or_none(cid) is None, rt.state_or_none(cid)


def test_user_and_additional_gids(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 29]}
    data = run_probe_json(rt, bundle)
    assert (data["uid"], data["euid"], data["gid"], data["egid"]) == (1000, 1000, 1000, 1000)
    assert sorted(data["groups"]) == [10, 29]


def test_user_root_has_no_extra_groups(rt, bundle):
    bundle.process["user"] = {"uid": 0, "gid": 0}
    data = run_probe_json(rt, bundle)
    assert set(data["groups"]) <= {0}


def test_umask(rt, bundle):
    bundle.process["user"]["umask"] = 0o027
    data = run_probe_json(rt, bundle)
    assert data["umask"] == 0o027


def test_rlimits(rt, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 500, "hard": 1000},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
    ]
    data = run_probe_json(rt, bundle)
    assert data["rlimits"]["NOFILE"] == {"soft": 500, "hard": 1000}
    assert data["rlimits"]["CORE"] == {"soft": 0, "hard": 0}
    assert data["rlimits"]["NPROC"] == {"soft": 300, "hard": 400}


def test_rlimit_above_host_hard_limit_fails(rt, bundle):
    # Raising a hard limit needs CAP_SYS_RESOURCE, which root here lacks; the
    # runtime must report the failure rather than run with other limits.
    with open("/proc/self/status") as f:
        bnd = int(next(line for line in f if line.startswith("CapBnd")).split()[1], 16)
    if bnd & mask(["SYS_RESOURCE"]):
        bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1 << 30,
                                      "hard": 1 << 30}]
    else:
        bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 30000, "hard": 30000}]
    cid, r = rt.run(bundle)
    assert r.returncode != 0, r
    assert r.stderr.strip()


def test_capabilities_root(rt, bundle):
    want = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"]
    bundle.process["capabilities"] = {"bounding": want, "effective": want, "permitted": want,
                                      "inheritable": [], "ambient": []}
    m = probe_masks(run_probe_json(rt, bundle))
    assert names(m["bnd"]) == sorted(want)
    assert names(m["eff"]) == sorted(want)
    assert names(m["prm"]) == sorted(want)
    assert m["inh"] == 0 and m["amb"] == 0


def test_capabilities_non_root_ambient(rt, bundle):
    # For a non-root user only ambient capabilities survive execve into
    # permitted/effective (capabilities(7)); bounding and inheritable stay as set.
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_NET_BIND_SERVICE"]}
    m = probe_masks(run_probe_json(rt, bundle))
    assert m["bnd"] == mask(["CHOWN", "KILL", "NET_BIND_SERVICE"])
    assert m["inh"] == mask(["KILL", "NET_BIND_SERVICE"])
    assert m["amb"] == mask(["NET_BIND_SERVICE"])
    assert m["prm"] == mask(["NET_BIND_SERVICE"])
    assert m["eff"] == mask(["NET_BIND_SERVICE"])


def test_no_capabilities(rt, bundle):
    bundle.process["capabilities"] = {}
    m = probe_masks(run_probe_json(rt, bundle))
    assert m == {"inh": 0, "prm": 0, "eff": 0, "bnd": 0, "amb": 0}


def test_no_new_privileges(rt, bundle):
    bundle.process["noNewPrivileges"] = True
    assert run_probe_json(rt, bundle)["no_new_privs"] == 1
    bundle.process["noNewPrivileges"] = False
    assert run_probe_json(rt, bundle)["no_new_privs"] == 0


def test_oom_score_adj(rt, bundle):
    bundle.process["oomScoreAdj"] = 500
    assert run_probe_json(rt, bundle)["oom_score_adj"] == 500


def test_stdio_not_a_tty_without_terminal(rt, bundle):
    assert run_probe_json(rt, bundle)["isatty"] == [False, False, False]


def _json_from_tty(data):
    lines = [x for x in data.decode(errors="replace").replace("\r", "").splitlines()]
    return [json.loads(x) for x in lines if x.startswith("{")]


def test_terminal_console_socket(rt, bundle, workdir):
    sock = ConsoleSocket(os.path.join(workdir, "console.sock"))
    try:
        bundle.terminal(True).args("/bin/sh", "-c", "/probe all; /probe stat /dev/console")
        cid, _ = rt.create(bundle, console_socket=sock.path)
        sock.wait_master()
        rt.start(cid)
        rt.wait_status(cid, "stopped")
        out = sock.wait_output(b'"type"')
        results = _json_from_tty(out)
        assert len(results) == 2, out
        assert results[0]["isatty"] == [True, True, True]
        assert results[0]["fds"][0]["target"].startswith("/dev/pts/")
        console = results[1]
        assert console["ok"] and console["type"] == "char", console
        assert console["major"] == 136, console  # a pts slave bound at /dev/console
    finally:
        sock.close()


def test_exec_with_terminal(rt, bundle, workdir):
    bundle.probe("sleep", "60")
    cid, _ = rt.run(bundle, detach=True, check=True)
    sock = ConsoleSocket(os.path.join(workdir, "exec.sock"))
    try:
        # A console socket needs a detached exec (the caller does not own the pty).
        r = rt.cmd("exec", "-t", "-d", "--console-socket", sock.path, cid, "/probe", "all")
        assert r.returncode == 0, r
        sock.wait_master()
        # The whole line (a tty ends it with CRLF): "sysctl" alone can arrive mid-line.
        results = _json_from_tty(sock.wait_output(b"}\r\n"))
        assert results and results[0]["isatty"] == [True, True, True]
    finally:
        sock.close()


def _stat_fields(data):
    # /proc/self/stat: fields after "(comm)"; nice is field 19, policy field 41.
    rest = data["data"].rsplit(")", 1)[1].split()
    return {"nice": int(rest[16]), "policy": int(rest[38])}


def test_scheduler_policy_and_nice(rt, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    bundle.probe("readfile", "/proc/self/stat").write()
    fields = _stat_fields(run_probe_json(rt, bundle))
    assert fields == {"nice": 7, "policy": 3}  # SCHED_BATCH


def test_io_priority_accepted_and_bad_class_refused(rt, bundle):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
    bundle.probe("exit", "0").write()
    _, r = rt.run(bundle)
    assert r.returncode == 0, r
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_NOPE", "priority": 0}
    bundle.write()
    _, r = rt.run(bundle)
    assert r.returncode != 0 and "ioPriority" in r.stderr, r


def test_apparmor_and_selinux_warn_not_fail(rt, bundle):
    # This host has neither AppArmor nor SELinux: the runtime-spec lets the
    # runtime ignore the fields; berth warns instead of failing the container.
    bundle.process["apparmorProfile"] = "docker-default"
    bundle.process["selinuxLabel"] = "system_u:system_r:container_t:s0"
    bundle.probe("exit", "0").write()
    _, r = rt.run(bundle)
    assert r.returncode == 0, r
    if "berth-runtime" in os.path.basename(rt.binary):
        assert "AppArmor" in r.stderr and "SELinux" in r.stderr, r


def test_intel_rdt_and_rdma_warn_not_fail(rt, bundle):
    bundle.linux["intelRdt"] = {"closID": "berth"}
    bundle.resources()["rdma"] = {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}
    bundle.probe("exit", "0").write()
    _, r = rt.run(bundle)
    assert r.returncode == 0, r
    if "berth-runtime" in os.path.basename(rt.binary):
        assert "intelRdt" in r.stderr and "rdma" in r.stderr, r


def test_foreground_terminal_without_console_socket(rt, bundle):
    # `run` in the foreground with process.terminal and no --console-socket:
    # the runtime serves the pty itself and copies its output.
    bundle.process["terminal"] = True
    bundle.args("/bin/sh", "-c", "tty; echo term-ok").write()
    _, r = rt.run(bundle)
    assert r.returncode == 0, r
    assert "/dev/pts/" in r.stdout and "term-ok" in r.stdout, r
