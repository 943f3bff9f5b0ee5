"""Per-call latencies as log-spaced bin counts: what a serving path's windows carry and the dashboard merges.

A window of batch-1 calls to a small model holds thousands of calls; their latencies go into bins 1 % wide
(bin ``k`` holds [1.01^k, 1.01^(k+1)) seconds), so an event stays small however fast the calls are and a
percentile read from the merged counts is within 1 % of the exact one (the upper edge of its bin is quoted).
Framework-free: both sides import it.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

GROWTH = 1.01
_LOG = math.log(GROWTH)


def bin_of(seconds: float) -> int:
    return math.floor(math.log(max(seconds, 1e-9)) / _LOG)


def upper_edge(k: int) -> float:
    return GROWTH ** (k + 1)


def count(latencies: Iterable[float]) -> dict[str, int]:
    """The bins of these latencies, keyed as JSON keys are (strings)."""
    counts = Counter(bin_of(s) for s in latencies)
    return {str(k): n for k, n in counts.items()}


def merge(into: Counter, bins: dict[str, int]) -> None:
    for k, n in bins.items():
        into[int(k)] += n


def quantile(counts: Counter, q: float) -> float | None:
    """The latency below which a share ``q`` of the calls fell (the upper edge of the bin it lands in)."""
    total = sum(counts.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for k in sorted(counts):
        seen += counts[k]
        if seen >= rank:
            return upper_edge(k)
    return upper_edge(max(counts))


def cumulative(counts: Counter) -> list[tuple[float, float]]:
    """(latency, share of calls at or below it) at each bin's upper edge: the CDF a chart draws."""
    total = sum(counts.values())
    points, seen = [], 0
    for k in sorted(counts):
        seen += counts[k]
        points.append((upper_edge(k), seen / total))
    return points
