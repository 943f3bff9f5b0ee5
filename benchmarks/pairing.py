"""Paired comparisons for the benchmarks: an ABBA order of runs, and the ratio with its interval.

This machine's speed drifts by several per cent within minutes and by tens of
per cent across hours, so two configurations measured one after the other differ
by the drift as much as by themselves. Runs of the two alternate in ABBA blocks
(A B B A A B B A …: a linear drift moves both alike within each block), and each
adjacent A–B pair gives one ratio; the interval is the t-interval on the log
ratios (``runners.session.verdict.confidence.paired_ratio``), as the dashboard uses for turns.
"""

from __future__ import annotations

import math

from runners.session.verdict.confidence import LEVEL, Ratio, paired_ratio


def abba(pairs: int) -> list[tuple[int, str]]:
    """(pair index, "A" or "B") in the order to run them: A B, B A, A B, …"""
    order = []
    for pair in range(pairs):
        order += [(pair, "A"), (pair, "B")] if pair % 2 == 0 else [(pair, "B"), (pair, "A")]
    return order


def ratio(measured: dict[int, float], reference: dict[int, float]) -> Ratio | None:
    """measured ÷ reference, pair by pair (geometric mean and 95 % interval)."""
    return paired_ratio(measured, reference)


def adjusted_ratio(measured: dict[int, float], reference: dict[int, float], nuisance: dict[int, float],
                   level: float = LEVEL) -> Ratio | None:
    """measured ÷ reference pair by pair, adjusted for a nuisance measured in every pair (``nuisance``: how much
    more of it the measured side met than the reference side): the intercept of the least-squares line of the
    log-ratios on it (scipy's ``linregress``), with its t-interval on n − 2 degrees of freedom. That is the
    ratio the pairs show where both sides met the same amount of it: covariate adjustment, which keeps every
    pair where leaving out the pairs it touched can leave few."""
    keys = sorted(set(measured) & set(reference) & set(nuisance))
    if len(keys) < 4 or len({nuisance[k] for k in keys}) < 2:
        return paired_ratio(measured, reference, level)  # nothing to fit: the plain paired ratio
    from scipy import stats

    fit = stats.linregress([nuisance[k] for k in keys], [math.log(measured[k] / reference[k]) for k in keys])
    half = stats.t.ppf(0.5 + level / 2, len(keys) - 2) * fit.intercept_stderr
    return Ratio(math.exp(fit.intercept), math.exp(fit.intercept - half), math.exp(fit.intercept + half), len(keys))


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
