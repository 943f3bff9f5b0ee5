"""How sure a ratio is: paired per-turn throughputs, a t-interval on their log-ratios.

Under the interleaved schedule every runner trains in turns, round-robin, each
turn with the machine to itself. The k-th turns of two runners fall in the same
round, seconds apart, under the same machine conditions (thermal state, other
load, the drift of a shared host): a pair. The ratio of their throughputs in each
pair is a sample of the ratio we want, with the drift that moves both cancelled
out; its logarithm is about symmetric, so the interval is a Student t-interval on
the mean log-ratio (scipy), taken back with exp: a geometric-mean ratio and its
95 % interval. Below three pairs there is no interval: with one degree of freedom
the t-quantile is 12.7 and an "interval" of 0.01–160× says nothing a reader can use.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

LEVEL = 0.95
MIN_PAIRS = 3  # for an interval


@dataclass(frozen=True)
class Ratio:
    """``value``: how many times faster the first runner is than the second (geometric mean over pairs)."""

    value: float
    low: float | None  # the 95 % interval, when there are two pairs or more
    high: float | None
    pairs: int

    @property
    def clear(self) -> bool:
        """The interval leaves out 1.00: one runner is faster, at this confidence."""
        return self.low is not None and (self.low > 1.0 or self.high < 1.0)

    def inverted(self) -> "Ratio":
        """The same comparison read the other way round."""
        return Ratio(1 / self.value, 1 / self.high if self.high else None, 1 / self.low if self.low else None,
                     self.pairs)


def paired_logs(first: dict[int, float], second: dict[int, float]) -> list[float]:
    """log(first ÷ second) of each turn both had (by turn number)."""
    return [math.log(first[k] / second[k]) for k in sorted(set(first) & set(second)) if first[k] > 0 and second[k] > 0]


def t_quantile(level: float, freedom: int) -> float:
    from scipy import stats  # here: the dashboard's start-up does not pay for scipy

    return float(stats.t.ppf(0.5 + level / 2, freedom))


def paired_ratio(first: dict[int, float], second: dict[int, float], level: float = LEVEL) -> Ratio | None:
    """The ratio first ÷ second from the turns both had (by turn number); None when they share none."""
    logs = paired_logs(first, second)
    if not logs:
        return None
    mean = statistics.fmean(logs)
    if len(logs) < MIN_PAIRS:
        return Ratio(math.exp(mean), None, None, len(logs))
    half = t_quantile(level, len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return Ratio(math.exp(mean), math.exp(mean - half), math.exp(mean + half), len(logs))


def spread(rates: dict[int, float]) -> float | None:
    """A runner's turn-to-turn noise: the coefficient of variation of its per-turn throughput."""
    values = list(rates.values())
    if len(values) < 2:
        return None
    return statistics.stdev(values) / statistics.fmean(values)


def describe(ratio: Ratio, over: str = "turn") -> str:
    """"95 % CI 1.31–1.44 over 14 turns" (or repeats), or why there is none."""
    plural = over if ratio.pairs == 1 else plural_of(over)
    if ratio.low is None:
        return f"{ratio.pairs} paired {plural}: too few for an interval"
    return f"95 % CI {ratio.low:.2f}–{ratio.high:.2f} over {ratio.pairs} {plural}"


def plural_of(unit: str) -> str:
    """What the intervals pair, more than one: "turns", "repeats", "processes"."""
    return unit + ("es" if unit.endswith("s") else "s")
