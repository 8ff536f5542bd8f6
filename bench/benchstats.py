"""The statistics the engine benchmarks share (stdlib only): medians, ratios, and the rotating
order of interleaved runs. Times and sizes are plain floats; None stands for "not measured"."""

from __future__ import annotations

from typing import List, Optional, Sequence, TypeVar

T = TypeVar("T")


def median(xs: Sequence[float]) -> Optional[float]:
    if not xs:
        return None
    s = sorted(xs)
    n = len(s)
    return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """a / b, or None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def rotation(items: Sequence[T], k: int) -> List[T]:
    """The order of round k: items rotated by k, so each comes first as often as the others."""
    if not items:
        return []
    k %= len(items)
    return list(items[k:]) + list(items[:k])
