"""The daemon under test, started on its own data root, exec root and socket.

kind "berthd": $BERTHD --data-root D/root --exec-root D/exec -H unix://D/berth.sock
berthd runs berth-monitor and berth-init from its own directory: when $BERTH_MONITOR or
$BERTH_INIT name binaries elsewhere (the build tree keeps each in its own dir), berthd and
both are hard-linked (or copied) into D/bin and started from there.
kind "dockerd": Debian's dockerd 20.10 (spawns its own containerd) with iptables and the
bridge off, so nothing outside D is touched; with docker_bridge=CIDR it keeps its default
bridge (docker0 on that address, still without iptables rules; docker0 is deleted at teardown
and a docker0 that already exists is refused), for benchmarks of docker's defaults.
Stopped by pid (SIGTERM, then SIGKILL after a bound); D is unmounted and removed at teardown.
Before the stop, every container is removed through the API (force), and after it, berth
monitors still running for D (they outlive berthd by design) are killed by pid with their
containers and their cgroups removed.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from apiclient import Api
from e2eutil import descendants_of, pid_alive, remove_tree, stop_pid, wait_until

DOCKERD = "/usr/sbin/dockerd"


class Daemon:
    def __init__(self, kind, binary=None, base_dir=None, data_root=None, extra_args=(), docker_bridge=None):
        self.kind = kind
        self.docker_bridge = docker_bridge if kind == "dockerd" else None
        self._made_docker0 = False
        self.binary = binary or (DOCKERD if kind == "dockerd" else os.environ.get("BERTHD"))
        self.base = base_dir or tempfile.mkdtemp(prefix=f"e2e-{kind}-", dir="/var/tmp")
        self.own_base = base_dir is None
        self.data_root = data_root or os.path.join(self.base, "root")
        self.exec_root = os.path.join(self.base, "exec")
        self.sock = os.path.join(self.base, "docker.sock" if kind == "dockerd" else "berth.sock")
        self.host = "unix://" + self.sock
        self.log_path = os.path.join(self.base, "daemon.log")
        self.extra_args = list(extra_args)
        # Each test berthd gets its own default bridge and nftables table, so
        # two daemons (or a host's berthd) never rewrite each other's rules;
        # cleanup() removes both, and the bridges of the networks it made.
        tag = os.urandom(4).hex()
        self.bridge = "bt" + tag
        self.nft_table = "berth_t" + tag
        self.proc = None
        self.api = Api(self.sock)
        self._log = None
        self.starts = 0

    def argv(self):
        if self.kind == "dockerd":
            return [self.binary, "--data-root", self.data_root, "--exec-root", self.exec_root,
                    "-H", self.host, "--pidfile", os.path.join(self.base, "pid"),
                    "--iptables=false", "--ip6tables=false",
                    *(["--bip", self.docker_bridge] if self.docker_bridge else ["--bridge=none"]),
                    "--config-file", self._empty_config()] + self.extra_args
        # No dashboard unless a test asks for one: concurrent test daemons would all
        # try the default port 9000.
        dash = [] if "--dashboard" in self.extra_args else [
            "--dashboard", "none"]
        return [self.binary, "--data-root", self.data_root, "--exec-root", self.exec_root,
                "-H", self.host, "--config-file", self._empty_config(),
                "--bridge", self.bridge] + dash + self.extra_args

    def _empty_config(self):
        # An explicit empty config so a host /etc/docker/daemon.json (or
        # /etc/berth/daemon.json) cannot leak in.
        p = os.path.join(self.base, "daemon.json")
        if not os.path.exists(p):
            with open(p, "w") as f:
                f.write("{}\n")
        return p

    def _stage_berthd(self):
        """Puts berthd, berth-monitor and berth-init in one directory (berthd finds the other
        two beside itself)."""
        if self.kind != "berthd" or getattr(self, "_staged", False):
            return
        here = os.path.dirname(os.path.abspath(self.binary or "."))
        # Default: the build tree's layout, <build>/cmd/<name>/<name> beside <build>/cmd/berthd/.
        extra = {n: os.environ.get(v) or os.path.join(os.path.dirname(here), n, n)
                 for n, v in (("berth-monitor", "BERTH_MONITOR"), ("berth-init", "BERTH_INIT"))}
        if not any(p and os.path.exists(p) and os.path.dirname(os.path.abspath(p)) != here for p in extra.values()):
            return
        bindir = os.path.join(self.base, "bin")
        os.makedirs(bindir, exist_ok=True)
        for name, src in [("berthd", self.binary)] + list(extra.items()):
            if not src or not os.path.exists(src):
                continue
            dst = os.path.join(bindir, name)
            if os.path.exists(dst):
                os.unlink(dst)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        self.binary = os.path.join(bindir, "berthd")
        self._staged = True

    def start(self, timeout=60):
        self._stage_berthd()
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"{self.kind} binary {self.binary!r} is not an executable file")
        os.makedirs(self.data_root, exist_ok=True)
        os.makedirs(self.exec_root, exist_ok=True)
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        if self.docker_bridge and not self._made_docker0:
            # docker0 is dockerd's fixed name: one that exists belongs to someone else's dockerd.
            if os.path.exists("/sys/class/net/docker0"):
                raise RuntimeError("dockerd with its bridge: docker0 already exists on this host")
            self._made_docker0 = True
        self._log = open(self.log_path, "ab")
        env = dict(os.environ)
        if self.kind == "berthd":
            env["BERTH_NFT_TABLE"] = self.nft_table
        self.proc = subprocess.Popen(self.argv(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        self.starts += 1

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            return os.path.exists(self.sock) and self.api.ping().status == 200

        try:
            wait_until(ready, timeout, interval=0.05, what=f"{self.kind} /_ping")
        except RuntimeError:
            raise
        except TimeoutError as e:
            raise TimeoutError(f"{e}; log:\n{self.log_tail()}") from None
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def _spawned(self):
        """The daemon's descendants that go down with it: for berthd, all but its berth-monitors
        and their containers, which outlive the daemon by design (berthd spawns them as its
        own children and reaps them; a crash or a stop of berthd leaves them running)."""
        kids = descendants_of(self.proc.pid)
        if self.kind != "berthd":
            return kids
        import ctrutil
        keep = set()
        for k in kids:
            argv = ctrutil.proc_cmdline(k)
            if argv and os.path.basename(argv[0]) == "berth-monitor":
                keep.add(k)
                keep.update(descendants_of(k))
        return [k for k in kids if k not in keep]

    def kill9(self):
        """SIGKILL the daemon and whatever it spawned (not berthd's monitors: see _spawned)."""
        if self.proc and self.proc.poll() is None:
            kids = self._spawned()
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            # dockerd's containerd is part of the engine: it dies in the same crash (a
            # surviving one would block the restart's containerd on the same exec root).
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for k in kids:
                wait_gone(k)
            if self.kind == "dockerd":
                # dockerd trusts containerd's pidfile; the pid may linger as a zombie.
                try:
                    os.unlink(os.path.join(self.exec_root, "containerd", "containerd.pid"))
                except FileNotFoundError:
                    pass

    def stop(self, timeout=20):
        if self.proc is None:
            return
        kids = self._spawned() if self.proc.poll() is None else []
        stop_pid(self.proc.pid, term_timeout=timeout, proc=self.proc)
        # dockerd stops its containerd on SIGTERM; only stragglers we saw as its children get
        # killed here, by pid.
        for k in kids:
            if pid_alive(k):
                stop_pid(k, term_timeout=5)
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def remove_containers(self):
        """Best effort: DELETE ?force=1 every container (an image-only daemon answers 404)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            r = self.api.get("/containers/json", query={"all": "1"}, timeout=30)
            if r.status != 200:
                return
            for c in r.json():
                self.api.delete(f"/containers/{c['Id']}", query={"force": "1", "v": "1"}, timeout=60)
        except (OSError, ValueError, KeyError):
            pass

    def kill_leftover_containers(self):
        """After the stop: berth monitors of this data root (and their containers) by pid,
        then the cgroups named after this data root's containers."""
        import ctrutil
        if self.kind == "dockerd":
            # containerd shims outlive a kill -9 of dockerd + containerd (--live-restore runs);
            # ours are those whose -address points into this base directory.
            from e2eutil import descendants_of
            ids = []
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                argv = ctrutil.proc_cmdline(int(d))
                if argv and "containerd-shim" in argv[0] and any(a.startswith(self.base + "/") for a in argv):
                    if "-id" in argv:
                        ids.append(argv[argv.index("-id") + 1])
                    for p in descendants_of(int(d)) + [int(d)]:
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            if ids:
                time.sleep(0.2)
                ctrutil.remove_cgroups(ids)
            return
        ids = ctrutil.container_dirs(self.data_root)
        ctrutil.kill_monitors(self.data_root)
        time.sleep(0.2)
        ctrutil.remove_cgroups(ids)

    def network_leftovers(self):
        """What of this daemon's networking exists on the host: {"links": [...], "netns":
        [...], "nft": bool}. Read from its metadata (bridge names) and the host."""
        import netutil
        return netutil.daemon_leftovers(self)

    def cleanup_network(self):
        import netutil
        netutil.remove_daemon_network(self)

    def cleanup(self):
        self.remove_containers()
        self.stop()
        self.kill_leftover_containers()
        if self.kind == "berthd":
            self.cleanup_network()
        if self._made_docker0:
            subprocess.run(["ip", "link", "del", "docker0"], capture_output=True)
            self._made_docker0 = False
        if self.own_base:
            remove_tree(self.base)

    def restart(self, timeout=60):
        self.stop()
        return self.start(timeout)

    # The blob store (berthd layout: docs/design/ARCHITECTURE.md section 3).
    def blob_dir(self):
        return os.path.join(self.data_root, "content", "blobs", "sha256")

    def blobs(self):
        d = self.blob_dir()
        if not os.path.isdir(d):
            return set()
        return {"sha256:" + n for n in os.listdir(d) if len(n) == 64}

    def ingest_dir(self):
        return os.path.join(self.data_root, "content", "ingest")

    def gc(self):
        """Asks the daemon to collect garbage: image prune with nothing dangling removes no
        image but runs the collector (berthd); returns the response."""
        return self.api.post("/images/prune", query={"filters": '{"dangling":["true"]}'})


def wait_gone(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.05)
