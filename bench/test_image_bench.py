"""Unit tests of bench/image_bench.py's pure parts (median, ratio, rotation, markdown).

Run: /usr/bin/python3 -m pytest -q bench/test_image_bench.py  (no root, no daemons)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_bench as ib  # noqa: E402


def test_median():
    assert ib.median([3.0, 1.0, 2.0]) == 2.0
    assert ib.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert ib.median([7]) == 7.0
    assert ib.median([]) is None


def test_ratio_and_formatting():
    assert ib.ratio(1.0, 4.0) == 0.25
    assert ib.ratio(None, 4.0) is None
    assert ib.ratio(1.0, None) is None
    assert ib.ratio(1.0, 0.0) is None
    assert ib.fmt_ratio(0.25) == "0.25×"
    assert ib.fmt_ratio(None) == "n/a"
    assert ib.fmt_num(None) == "n/a"
    assert ib.fmt_num(1.234, 1) == "1.2"


def test_rotation_gives_each_engine_each_position():
    engines = ["berthd", "dockerd", "podman"]
    firsts = [ib.rotation(engines, r)[0] for r in range(3)]
    assert sorted(firsts) == sorted(engines)
    for r in range(5):
        assert sorted(ib.rotation(engines, r)) == sorted(engines)
    assert ib.rotation([], 3) == []


def _res():
    return {
        "date": "2026-11-29", "host": "h",
        "pull": {"image": '"big"', "rounds": 3,
                 "samples": {"berthd": [1.0, 2.0, 3.0], "dockerd": [8.0, 10.0, 9.0], "podman": [5.0, 6.0, 7.0]}},
        "images": {"count": 100, "runs": 3, "samples": {"berth": [0.010, 0.012, 0.011], "docker": [0.1, 0.12, 0.11]}},
        "rss": {"berthd": 9.5, "dockerd+containerd": 120.25},
    }


def test_markdown_full():
    md = ib.render_markdown(_res(), "bench/image_bench.sh --rounds 3")
    assert "Reproduce: `bench/image_bench.sh --rounds 3`" in md
    assert "| berthd | 2.00 | 1.00 | 3.00 | 3 | 0.22× |" in md
    assert "| dockerd | 9.00 | 8.00 | 10.00 | 3 | 1.00× |" in md
    assert "| podman | 6.00 | 5.00 | 7.00 | 3 | 0.67× |" in md
    assert "| berth images (berthd) | 11.0 | 10.0 | 0.10× |" in md
    assert "| docker images (dockerd) | 110.0 | 100.0 | 1.00× |" in md
    assert "| berthd | 9.5 |" in md and "| dockerd+containerd | 120.2 |" in md


def test_markdown_without_berthd():
    res = _res()
    res["pull"]["samples"]["berthd"] = []
    res["images"]["samples"]["berth"] = []
    res["rss"]["berthd"] = None
    md = ib.render_markdown(res, "x")
    assert "| berthd | n/a | n/a | n/a | 0 | n/a |" in md
    assert "| berth images (berthd) | n/a | n/a | n/a |" in md
    assert "| berthd | n/a |" in md


def test_markdown_skips_missing_parts():
    md = ib.render_markdown({"date": "d", "host": "h"}, "cmd")
    assert "Cold pull" not in md and "VmRSS" not in md


def test_markdown_names_the_filesystem_of_the_pull():
    res = _res()
    res["pull"]["fs"] = "fresh"
    assert "data root of each run on a new ext4 filesystem" in ib.render_markdown(res, "x")
    res["pull"]["fs"] = "shared"
    assert "data root of each run on a new dir on /var/tmp" in ib.render_markdown(res, "x")
