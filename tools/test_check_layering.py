"""Tests for tools/check_layering.py: it must pass on the tree and fail on a
module that includes one it may not use."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "check_layering.py")


def run(src=None):
    args = [sys.executable, TOOL] + (["--src", src] if src else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_project_tree_is_clean():
    r = run()
    assert r.returncode == 0, r.stdout + r.stderr


def test_forbidden_include_fails_and_is_named():
    with tempfile.TemporaryDirectory() as d:
        write(d, "base/a.h", '#include "sys/syscalls.h"\n')  # base may use nothing
        write(d, "oci/b.cc", '#include "base/result.h"\n')   # allowed
        r = run(d)
        assert r.returncode == 1
        assert "base/a.h:1" in r.stdout and "sys/syscalls.h" in r.stdout
        assert "oci/b.cc" not in r.stdout


def test_engine_reaches_monitor_only_through_protocol():
    with tempfile.TemporaryDirectory() as d:
        write(d, "engine/ok.cc", '#include "monitor/protocol.h"\n')
        write(d, "engine/bad.cc", '#include "monitor/monitor.h"\n')
        r = run(d)
        assert r.returncode == 1
        assert "engine/bad.cc" in r.stdout and "engine/ok.cc" not in r.stdout


def test_unknown_module_fails():
    with tempfile.TemporaryDirectory() as d:
        write(d, "mystery/x.h", "#pragma once\n")
        r = run(d)
        assert r.returncode == 1 and "mystery" in r.stdout
