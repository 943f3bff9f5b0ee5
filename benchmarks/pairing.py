"""Paired comparisons for the benchmarks: an ABBA order of runs, and the ratio with its interval.

This machine's speed drifts by several per cent within minutes and by tens of
per cent across hours, so two configurations measured one after the other differ
by the drift as much as by themselves. Runs of the two alternate in ABBA blocks
(A B B A A B B A …: a linear drift moves both alike within each block), and each
adjacent A–B pair gives one ratio; the interval is the t-interval on the log
ratios (``runners.session.confidence.paired_ratio``), as the dashboard uses for turns.
"""

from __future__ import annotations

from runners.session.confidence import Ratio, paired_ratio


def abba(pairs: int) -> list[tuple[int, str]]:
    """(pair index, "A" or "B") in the order to run them: A B, B A, A B, …"""
    order = []
    for pair in range(pairs):
        order += [(pair, "A"), (pair, "B")] if pair % 2 == 0 else [(pair, "B"), (pair, "A")]
    return order


def ratio(measured: dict[int, float], reference: dict[int, float]) -> Ratio | None:
    """measured ÷ reference, pair by pair (geometric mean and 95 % interval)."""
    return paired_ratio(measured, reference)


def cell(value: Ratio | None) -> str:
    """"1.004 (0.987–1.021)", the interval left out below three pairs."""
    if value is None:
        return "–"
    if value.low is None:
        return f"{value.value:.3f} (n={value.pairs})"
    return f"{value.value:.3f} ({value.low:.3f}–{value.high:.3f})"


def inside(value: Ratio | None, band: float) -> str:
    """Whether the whole interval lies within 1 ± band."""
    if value is None or value.low is None:
        return "no interval"
    return "yes" if 1 - band <= value.low and value.high <= 1 + band else "no"
