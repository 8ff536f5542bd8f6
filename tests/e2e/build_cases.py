"""Image builds (POST /build, docker's classic builder): shared by test_build_cli.py (the berth
CLI) and test_build_docker_cli.py (the real docker CLI, which without buildx falls back to the
classic builder, as it does against any daemon). Contexts are made in tmp_path from the cbox
image (static busybox) in the test registry; nothing leaves the machine.

Each case checks what the built image holds by running it, its config by inspect, and what a
build leaves behind (containers, intermediate images)."""

import json
import os
import tarfile

import pytest

from conftest import is_berthd
from ctrutil import cbox, clean, img  # noqa: F401 - fixtures


def write(d, files):
    for name, data in files.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w" if isinstance(data, str) else "wb") as f:
            f.write(data)


def build(cli, ctx, *args, check=True):
    p = cli.run("build", *args, str(ctx), timeout=600)
    if check:
        assert p.returncode == 0, (f"build -> {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}\n"
                                   f"daemon log:\n{cli.daemon.log_tail(30)}")
    return p


def insp(cli, name):
    return json.loads(cli.ok("image", "inspect", name).stdout)[0]


def all_containers(cli):
    return cli.ok("ps", "-aq").stdout.split()


def image_ids(cli, *args):
    return set(cli.ok("images", "-q", "--no-trunc", *args).stdout.split())


@pytest.fixture
def tags(cli):
    made = []
    yield made
    for t in made:
        cli.run("rmi", "-f", t)


def test_builder_prune(cli, img, clean):
    """`builder prune` (docker's classic-builder API, POST /build/prune): the prompt, the report
    and the refusal of a bad filter, as docker's. berthd keeps no cache apart from images."""
    p = cli.run("builder", "prune", input="n\n")
    assert p.returncode == 0, p
    assert p.stdout.startswith("WARNING! This will remove all dangling build cache."), p.stdout
    assert "Total reclaimed space" not in p.stdout, p.stdout
    for args in (["-f"], ["-a", "-f"], ["-f", "--filter", "until=24h", "--keep-storage", "10m"]):
        p = cli.ok("builder", "prune", *args)
        assert p.stdout.splitlines()[-1].startswith("Total reclaimed space: "), p.stdout
    p = cli.run("builder", "prune", "-f", "--keep-storage", "1x")
    assert p.returncode == 125 and "invalid argument \"1x\" for \"--keep-storage\" flag" in p.stderr, p
    p = cli.run("builder", "prune", "-f", "--filter", "bogus")
    assert p.returncode == 125 and "bad format of filter (expected name=value)" in p.stderr, p


def test_build_basic(cli, img, clean, tags, tmp_path):
    """Every instruction kind once; the image runs with what the steps put in it."""
    write(tmp_path, {
        "hello.txt": "hello from the context\n",
        "dir/a.txt": "a\n",
        "dir/sub/b.txt": "b\n",
        "Dockerfile": (
            f"FROM {img}\n"
            "# a comment\n"
            "ARG GREETING=hello\n"
            "ENV APP_DIR=/app \\\n"
            "    MODE=test\n"
            "WORKDIR $APP_DIR\n"
            "COPY hello.txt .\n"
            "COPY dir/ sub/\n"
            "RUN echo \"$GREETING from run in $(pwd)\" > run.txt && cat hello.txt\n"
            "LABEL org.example.k=\"v 1\" other=2\n"
            "EXPOSE 8080 9000/udp\n"
            "VOLUME /data2\n"
            "STOPSIGNAL SIGINT\n"
            "HEALTHCHECK --interval=5s --retries=2 CMD true\n"
            "USER 1000\n"
            "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
            "CMD [\"cat /app/run.txt /app/sub/a.txt /app/sub/sub/b.txt; id -u\"]\n"),
    })
    tags.append("e2e-built:1")
    p = build(cli, tmp_path, "-t", "e2e-built:1")
    out = p.stdout
    assert "Step 1/15 : FROM" in out, out
    assert "hello from the context" in out, out  # RUN's output is streamed
    assert "Successfully built" in out and "Successfully tagged e2e-built:1" in out, out
    run = cli.ok("run", "--rm", "e2e-built:1").stdout
    assert run.splitlines() == ["hello from run in /app", "a", "b", "1000"], run
    c = insp(cli, "e2e-built:1")["Config"]
    assert c["WorkingDir"] == "/app"
    assert "APP_DIR=/app" in c["Env"] and "MODE=test" in c["Env"]
    assert not any(e.startswith("GREETING=") for e in c["Env"]), c["Env"]  # ARG is not kept
    assert c["Labels"]["org.example.k"] == "v 1" and c["Labels"]["other"] == "2"
    assert set(c["ExposedPorts"]) == {"8080/tcp", "9000/udp"}
    assert "/data2" in c["Volumes"]
    assert c["StopSignal"] == "SIGINT" and c["User"] == "1000"
    assert c["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert c["Healthcheck"]["Interval"] == 5_000_000_000 and c["Healthcheck"]["Retries"] == 2
    assert c["Entrypoint"] == ["/bin/sh", "-c"]
    hist = cli.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "e2e-built:1").stdout
    assert "GREETING=hello" in hist and "echo" in hist, hist
    # The copied files are root's, with the context's modes.
    ls = cli.ok("run", "--rm", "--entrypoint", "ls", "e2e-built:1", "-ln", "/app/hello.txt").stdout
    assert ls.split()[2:4] == ["0", "0"], ls
    if is_berthd():
        # rm (the default): no step container is left.
        assert all_containers(cli) == []


def test_build_cache_and_intermediates(cli, img, clean, tags, tmp_path):
    """A second build of the same context uses the cache for every step; changing a copied
    file re-runs from that step. Intermediate images are hidden from `images`, shown by
    `images -a`, and go with the final image's removal."""
    before_all = image_ids(cli, "-a")
    write(tmp_path, {"f.txt": "one\n",
                     "Dockerfile": f"FROM {img}\nRUN echo ran > /ran\nCOPY f.txt /f.txt\n"
                                   "CMD [\"cat\", \"/f.txt\"]\n"})
    tags.append("e2e-cache:1")
    first = build(cli, tmp_path, "-t", "e2e-cache:1").stdout
    assert "Using cache" not in first
    id1 = insp(cli, "e2e-cache:1")["Id"]
    # history names each step's image (the intermediate ones), as docker's does.
    rows = cli.ok("history", "-q", "--no-trunc", "e2e-cache:1").stdout.split()
    assert rows[0] == id1 and "<missing>" not in rows[:4], rows
    assert len(set(rows[:4])) == 4, rows
    second = build(cli, tmp_path, "-t", "e2e-cache:1").stdout
    assert second.count("Using cache") == 3, second
    assert insp(cli, "e2e-cache:1")["Id"] == id1
    write(tmp_path, {"f.txt": "two\n"})
    third = build(cli, tmp_path, "-t", "e2e-cache:1").stdout
    assert third.count("Using cache") == 1, third  # the RUN only
    assert cli.ok("run", "--rm", "e2e-cache:1").stdout == "two\n"
    nocache = build(cli, tmp_path, "--no-cache", "-t", "e2e-cache:1").stdout
    assert "Using cache" not in nocache and "Running in" in nocache, nocache
    # `images` shows no <none> rows for the steps (only earlier builds' final images).
    listed = cli.ok("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    dangling = image_ids(cli, "-f", "dangling=true")
    assert len(image_ids(cli, "-a")) > len(image_ids(cli)), listed
    for t in ("e2e-cache:1",):
        cli.ok("rmi", t)
    tags.clear()
    # The untagged images of the first builds are dangling now; a prune removes them and
    # their intermediate parents: back to what was there before.
    for d in dangling:
        cli.run("rmi", d)
    cli.ok("image", "prune", "-f")
    assert image_ids(cli, "-a") == before_all


def test_build_args_stages_and_target(cli, img, clean, tags, tmp_path):
    """Global ARG in FROM, --build-arg overriding a default, COPY --from a named stage and by
    index, --target stopping early, unused build args named in a warning."""
    write(tmp_path, {"Dockerfile": (
        f"ARG BASE={img}\n"
        "FROM $BASE AS first\n"
        "ARG WHO=nobody\n"
        "RUN mkdir /out && echo \"made by $WHO\" > /out/who.txt\n"
        "FROM ${BASE} AS second\n"
        "COPY --from=first /out/who.txt /who.txt\n"
        "COPY --from=0 /out /out2\n"
        "CMD [\"sh\", \"-c\", \"cat /who.txt /out2/who.txt\"]\n"
        "FROM second AS third\n"
        "RUN false\n")})
    tags.append("e2e-stages:1")
    p = build(cli, tmp_path, "--build-arg", "WHO=tester", "--build-arg", "UNUSED=1",
              "--target", "second", "-t", "e2e-stages:1")
    assert "UNUSED" in p.stdout + p.stderr, p.stdout
    assert cli.ok("run", "--rm", "e2e-stages:1").stdout == "made by tester\nmade by tester\n"
    p = build(cli, tmp_path, "--target", "nosuch", check=False)
    assert p.returncode != 0 and "failed to reach build target nosuch" in p.stderr, p.stderr


def test_build_failures_leave_nothing(cli, img, clean, tmp_path):
    """A failing RUN fails the build with docker's message and exit code; bad Dockerfiles
    and sources are refused by name; no tag is made."""
    cases = [
        ("RUN exit 3", "returned a non-zero code: 3"),
        ("FOOBAR x", "unknown instruction: FOOBAR"),
        ("COPY missing.txt /", "missing.txt"),
        ("COPY ../outside /", "outside the build context"),
        ("COPY a b c", "must be a directory and end with a /"),
    ]
    write(tmp_path, {"a": "a", "b": "b"})
    for line, message in cases:
        write(tmp_path, {"Dockerfile": f"FROM {img}\n{line}\n"})
        p = build(cli, tmp_path, "--force-rm", "-t", "e2e-fail:1", check=False)
        assert p.returncode == 1, (line, p.returncode, p.stdout, p.stderr)
        assert message in p.stderr + p.stdout, (line, p.stdout, p.stderr)
        assert cli.run("image", "inspect", "e2e-fail:1").returncode != 0, line
        if is_berthd():
            assert all_containers(cli) == [], line
    os.remove(tmp_path / "Dockerfile")
    p = build(cli, tmp_path, check=False)
    assert p.returncode != 0 and "Dockerfile" in p.stderr, p.stderr


def test_build_dockerignore_add_archive_and_scratch(cli, img, clean, tags, tmp_path):
    """.dockerignore keeps files out of the context (with an exception); ADD unpacks a local
    tar.gz; FROM scratch with a static binary runs."""
    busybox = open("/bin/busybox", "rb").read()
    write(tmp_path, {"keep.txt": "keep\n", "secret.txt": "secret\n", "logs/a.log": "x\n",
                     "logs/important.log": "y\n", "bin/busybox": busybox,
                     ".dockerignore": "secret.txt\nlogs/*.log\n!logs/important.log\n"})
    os.chmod(tmp_path / "bin" / "busybox", 0o755)
    src = tmp_path / "arch"
    write(src, {"inner/x.txt": "from the archive\n"})
    with tarfile.open(tmp_path / "files.tar.gz", "w:gz") as t:
        t.add(src / "inner", arcname="inner")
    write(tmp_path, {"Dockerfile": (
        "FROM scratch\n"
        "COPY bin/busybox /bin/busybox\n"
        "COPY . /ctx/\n"
        "ADD files.tar.gz /unpacked/\n"
        "ENTRYPOINT [\"/bin/busybox\"]\n"
        "CMD [\"find\", \"/ctx\", \"/unpacked\", \"-type\", \"f\"]\n")})
    tags.append("e2e-scratch:1")
    build(cli, tmp_path, "-t", "e2e-scratch:1")
    files = set(cli.ok("run", "--rm", "e2e-scratch:1").stdout.split())
    assert "/ctx/keep.txt" in files and "/ctx/logs/important.log" in files, files
    assert "/ctx/secret.txt" not in files and "/ctx/logs/a.log" not in files, files
    assert "/unpacked/inner/x.txt" in files, files
    assert cli.ok("run", "--rm", "e2e-scratch:1", "cat",
                  "/unpacked/inner/x.txt").stdout == "from the archive\n"
    assert insp(cli, "e2e-scratch:1")["RootFS"]["Layers"], "no layers"


def test_build_quiet_and_iidfile(cli, img, clean, tags, tmp_path):
    write(tmp_path, {"Dockerfile": f"FROM {img}\nLABEL q=1\n"})
    iid = tmp_path / "iid"
    tags.append("e2e-quiet:1")
    p = build(cli, tmp_path, "-q", "--iidfile", str(iid), "-t", "e2e-quiet:1")
    image_id = insp(cli, "e2e-quiet:1")["Id"]
    assert p.stdout.strip() == image_id, p.stdout
    assert iid.read_text().strip() == image_id


def test_build_step_limits(cli, img, clean, tags, tmp_path):
    """docker build's --memory, --cpu-shares, --ulimit and --shm-size apply to the RUN
    containers (their output is in the build's); a bad value is refused before any step runs
    and leaves no image."""
    write(tmp_path, {"Dockerfile": (
        f"FROM {img}\n"
        "RUN echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
        "cat /sys/fs/cgroup/memory.max) shares=$(cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null "
        "|| cat /sys/fs/cgroup/cpu.weight) nofile=$(ulimit -Sn):$(ulimit -Hn) "
        "shm=$(df -k /dev/shm | tail -1 | awk '{print $2}')\n")})
    tags.append("e2e-limits:1")
    p = build(cli, tmp_path, "--no-cache", "-m", "64m", "--cpu-shares", "512",
              "--ulimit", "nofile=100:200", "--shm-size", "8m", "-t", "e2e-limits:1")
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("mem=")), None)
    assert line is not None, p.stdout
    got = dict(kv.split("=", 1) for kv in line.split())
    assert got["mem"] == str(64 << 20), line
    # cgroup v2 shows shares as cpu.weight: 512 shares -> 1 + (512-2)*9999/262142 = 20.
    assert got["shares"] in ("512", "20"), line
    assert got["nofile"] == "100:200", line
    assert got["shm"] == str(8 << 10), line

    before = image_ids(cli, "-a")
    write(tmp_path, {"Dockerfile": f"FROM {img}\nENV A=1\nRUN true\n"})
    p = build(cli, tmp_path, "-m", "1m", "-t", "e2e-limits:2", check=False)
    assert p.returncode != 0, p.stdout
    assert "Minimum memory limit allowed is 6MB" in p.stderr + p.stdout, (p.stdout, p.stderr)
    if is_berthd():
        # berthd checks the limits first; dockerd fails at the RUN, after the ENV step.
        assert image_ids(cli, "-a") == before
        assert all_containers(cli) == []


def test_build_cache_from(cli, img, clean, tags, tmp_path):
    """--cache-from: an image that came from elsewhere (saved, removed with its intermediate
    images, loaded back: no local cache left) stands in for the cache, so its RUN output is
    reused; without the flag the step runs again."""
    write(tmp_path, {"Dockerfile": (
        f"FROM {img}\n"
        "ENV STAGE=one\n"
        "RUN cat /proc/sys/kernel/random/uuid > /stamp\n"
        "CMD [\"cat\", \"/stamp\"]\n")})
    tags.extend(["e2e-cachefrom:1", "e2e-cachefrom:2", "e2e-cachefrom:3"])
    build(cli, tmp_path, "-t", "e2e-cachefrom:1")
    stamp = cli.ok("run", "--rm", "e2e-cachefrom:1").stdout
    saved = tmp_path / "saved.tar"
    cli.ok("save", "-o", str(saved), "e2e-cachefrom:1")
    cli.ok("rmi", "e2e-cachefrom:1")
    cli.ok("load", "-i", str(saved))

    p = build(cli, tmp_path, "--cache-from", "e2e-cachefrom:1,e2e-missing:1",
              "-t", "e2e-cachefrom:2")
    assert p.stdout.count("Using cache") == 3, p.stdout
    assert cli.ok("run", "--rm", "e2e-cachefrom:2").stdout == stamp
    assert insp(cli, "e2e-cachefrom:2")["Id"] == insp(cli, "e2e-cachefrom:1")["Id"]

    # A changed step stops the reuse there; the steps before it still come from the source.
    write(tmp_path, {"Dockerfile": (
        f"FROM {img}\n"
        "ENV STAGE=one\n"
        "RUN cat /proc/sys/kernel/random/uuid > /stamp\n"
        "CMD [\"cat\", \"/stamp\", \"/etc/hostname\"]\n")})
    p = build(cli, tmp_path, "--cache-from", "e2e-cachefrom:1", "-t", "e2e-cachefrom:3")
    assert p.stdout.count("Using cache") == 2, p.stdout
    assert cli.ok("run", "--rm", "e2e-cachefrom:3").stdout.startswith(stamp)


def test_build_compressed_context(cli, img, clean, tags, tmp_path):
    """--compress: the context goes gzip-compressed; the daemon reads it like a plain tar."""
    write(tmp_path, {"data.txt": "compressed context\n",
                     "Dockerfile": f"FROM {img}\nCOPY data.txt /\nCMD [\"cat\", \"/data.txt\"]\n"})
    tags.append("e2e-compress:1")
    build(cli, tmp_path, "--compress", "-t", "e2e-compress:1")
    assert cli.ok("run", "--rm", "e2e-compress:1").stdout == "compressed context\n"
