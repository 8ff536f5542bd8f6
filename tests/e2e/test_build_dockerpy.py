"""Builds through docker-py (images.build: a context directory or a file object, buildargs,
labels, target, a failing step as BuildError) and through Debian's docker-compose 1.29
(`build:` in a compose file, then `up -d`), both on POST /build of the module's daemon."""

import io
import os
import subprocess
import time

import docker
import pytest

from ctrutil import cbox, img  # noqa: F401 - fixtures

COMPOSE = "/usr/bin/docker-compose"


@pytest.fixture(scope="module")
def client(daemon):
    c = docker.DockerClient(base_url=daemon.host, version="auto", timeout=300)
    yield c
    c.close()


@pytest.fixture
def cleanup(client):
    tags = []
    yield tags
    for c in client.containers.list(all=True):
        try:
            c.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
    for t in tags:
        try:
            client.images.remove(t, force=True)
        except docker.errors.ImageNotFound:
            pass


def test_images_build_from_directory(client, img, cleanup, tmp_path):
    (tmp_path / "msg.txt").write_text("from docker-py\n")
    (tmp_path / "Dockerfile.custom").write_text(
        f"FROM {img} AS base\nARG V=default\nCOPY msg.txt /msg.txt\n"
        "RUN echo \"v=$V\" >> /msg.txt\nCMD [\"cat\", \"/msg.txt\"]\n"
        "FROM base AS later\nRUN false\n")
    cleanup.append("e2e-py:1")
    image, logs = client.images.build(path=str(tmp_path), dockerfile="Dockerfile.custom",
                                      tag="e2e-py:1", buildargs={"V": "given"},
                                      labels={"built.by": "docker-py"}, target="base", rm=True)
    text = "".join(chunk.get("stream", "") for chunk in logs)
    assert "Successfully built" in text, text
    assert image.labels.get("built.by") == "docker-py"
    assert "e2e-py:1" in image.tags
    out = client.containers.run("e2e-py:1", remove=True)
    assert out == b"from docker-py\nv=given\n"


def test_images_build_fileobj_and_failure(client, img, cleanup):
    df = io.BytesIO(f"FROM {img}\nRUN echo building; exit 7\n".encode())
    with pytest.raises(docker.errors.BuildError) as e:
        client.images.build(fileobj=df, tag="e2e-py-fail:1", forcerm=True)
    assert "returned a non-zero code: 7" in str(e.value), str(e.value)
    log = "".join(chunk.get("stream", "") for chunk in e.value.build_log)
    assert "building" in log, log
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("e2e-py-fail:1")
    assert client.containers.list(all=True) == []


def test_images_build_container_limits(client, img, cleanup):
    """container_limits and shmsize reach the RUN container."""
    df = io.BytesIO((f"FROM {img}\nRUN echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                     "2>/dev/null || cat /sys/fs/cgroup/memory.max) "
                     "shm=$(df -k /dev/shm | tail -1 | awk '{print $2}')\n").encode())
    cleanup.append("e2e-py-limits:1")
    _, logs = client.images.build(fileobj=df, tag="e2e-py-limits:1", nocache=True,
                                  container_limits={"memory": 64 << 20, "cpushares": 512},
                                  shmsize=8 << 20)
    text = "".join(chunk.get("stream", "") for chunk in logs)
    assert f"mem={64 << 20} shm={8 << 10}" in text, text
    with pytest.raises(docker.errors.APIError) as e:
        client.images.build(fileobj=io.BytesIO(f"FROM {img}\nRUN true\n".encode()),
                            container_limits={"memory": 1024})
    assert "Minimum memory limit allowed is 6MB" in str(e.value), str(e.value)


def test_compose_build_and_up(daemon, client, img, cleanup, tmp_path, home):
    if not os.access(COMPOSE, os.X_OK):
        pytest.fail(f"{COMPOSE} is missing (Debian's docker-compose)")
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(
        f"FROM {img}\nARG GREETING\nRUN echo \"$GREETING\" > /greeting\n"
        "CMD [\"sh\", \"-c\", \"cat /greeting; sleep 300\"]\n")
    (tmp_path / "docker-compose.yml").write_text(
        "version: '3.7'\n"
        "services:\n"
        "  app:\n"
        "    build:\n"
        "      context: ./app\n"
        "      args:\n"
        "        GREETING: hello-compose\n"
        "    image: e2e-compose-built:1\n")
    cleanup.append("e2e-compose-built:1")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
    env.update(DOCKER_HOST=daemon.host, HOME=home, NO_COLOR="1")

    def compose(*args):
        p = subprocess.run([COMPOSE, "--ansi", "never", "-p", "e2ebuild", *args], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    try:
        compose("build")
        compose("up", "-d")
        c = client.containers.list(filters={"label": "com.docker.compose.project=e2ebuild"})
        assert len(c) == 1
        for _ in range(50):
            if b"hello-compose" in c[0].logs():
                break
            time.sleep(0.1)
        assert c[0].logs() == b"hello-compose\n"
    finally:
        subprocess.run([COMPOSE, "--ansi", "never", "-p", "e2ebuild", "down"], cwd=tmp_path,
                       env=env, capture_output=True, timeout=300)
