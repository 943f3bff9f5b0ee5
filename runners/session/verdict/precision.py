"""``--until ±5%``: train until the verdict is that sure, and say meanwhile how far it is and how long the rest takes.

The headline comparisons are the ones the verdict words: the best Keras backend against each native PyTorch
runner (or, with no such pair, the fastest runner against each other one), each paired turn by turn
(``confidence``). An interval's half-width is read as a ratio: ±9 % means the 95 % interval runs from the ratio
÷1.09 to ×1.09. The run is sure when the widest headline half-width is within the target.

The time left: the half-width narrows as t(n-1)·sd/√n over n pairs. With sd the spread of the log-ratios so far,
the pairs the target needs follow, and so the rounds still to go; a round takes, on the wall clock, what the
rounds so far took (each runner's turn starts, a round apart). It is an estimate from the pairs so far: the
spread itself is estimated, so it moves as pairs come (``benchmarks/until_sure.py`` checks it against the time
actually taken).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from runners.session.state.formatting import fmt_span
from runners.session.verdict.confidence import LEVEL, MIN_PAIRS, paired_logs, t_quantile
from runners.session.verdict.sides import is_keras, is_pytorch

MAX_PAIRS = 100_000  # beyond this the answer is "not on this machine at this noise"
# The fewest pairs an --until run may end on. Stopping the first time an interval dips under the target favours
# intervals that came out narrow by chance, and three pairs estimate their own spread poorly (its 95 % range is
# 0.5×–6× the true one); six, as the default run is sized for, bound both.
MIN_SURE_PAIRS = 6


@dataclass(frozen=True)
class Precision:
    target: float  # the wanted half-width: 0.05 for ±5 %
    half_width: float | None  # the widest headline comparison's now; None before any has an interval
    pairs: int  # the paired turns behind it
    comparison: str  # "keras/jax ÷ torch": the widest, the one the run waits for
    seconds_left: float | None  # wall seconds to the target at this pace; None when not known yet

    @property
    def reached(self) -> bool:
        return self.half_width is not None and self.half_width <= self.target and self.pairs >= MIN_SURE_PAIRS

    def describe(self) -> str:
        """"±9.1 % now · about 40 s more to ±5 %", "±4.2 %: within ±5 %", or why there is no figure yet."""
        wanted = plus_minus(self.target)
        if self.half_width is None:
            return f"{wanted} wanted · {self.pairs} paired turn{'s' * (self.pairs != 1)} so far, {MIN_PAIRS} for an interval"
        now = plus_minus(self.half_width, 1)
        if self.reached:
            return f"{now}: within {wanted}"
        if self.half_width <= self.target:
            return f"{now} now · {MIN_SURE_PAIRS - self.pairs} more paired turns before it counts as sure ({wanted})"
        if self.seconds_left is None:
            return f"{now} now · {wanted} wanted"
        return f"{now} now · about {fmt_span(self.seconds_left)} more to {wanted}"


    def outcome(self) -> str:
        """What ended an --until run, for the verdict: the target reached, or how far the cap let it get."""
        wanted = plus_minus(self.target)
        if self.reached:
            return f"sure to {plus_minus(self.half_width, 1)} after {self.pairs} paired turns of one process (--until {wanted})"
        if self.half_width is None:
            return f"--until {wanted} not reached: {self.pairs} paired turns, too few for an interval, when the run ended"
        text = f"--until {wanted} not reached: {plus_minus(self.half_width, 1)} after {self.pairs} paired turns when the run ended"
        if self.seconds_left is not None:
            text += f"; about {fmt_span(self.seconds_left)} more would reach it on this machine"
        return text

    def record(self) -> dict:
        return {"target": self.target, "half_width": self.half_width, "pairs": self.pairs, "reached": self.reached,
                "comparison": self.comparison, "seconds_left": self.seconds_left}


def headline_pairs(states: list) -> list[tuple[object, object]]:
    """(faster-side, other) ``RunnerState`` pairs the verdict words; runners with no throughput yet are left out."""
    going = [s for s in states if s.phase != "failed" and s.throughput[0]]
    keras = sorted((s for s in going if is_keras(s.name)), key=lambda s: -s.throughput[0])
    pytorch = [s for s in going if is_pytorch(s.name)]
    if keras and pytorch:
        return [(keras[0], other) for other in pytorch]
    ranked = sorted(going, key=lambda s: -s.throughput[0])
    return [(ranked[0], other) for other in ranked[1:]]


def side_by_side(names: list[str], rates: dict[str, float]) -> list[str]:
    """The interleaved schedule's order for the next round: each headline comparison's turns next to each other.

    The pairs are the k-th turns of two runners; the farther apart in a round, the more of the machine's drift
    lies between them (about 6 % between adjacent 3-s stretches here, 12 % over 6–24 s). The fastest Keras
    backend goes between the first two PyTorch runners, the other Keras backends before them: [other Keras…,
    torch, fastest Keras, torch/compile]. ``rates``: each runner's throughput so far; until every Keras runner
    has one, the order stays as it is."""
    keras = [n for n in names if is_keras(n)]
    pytorch = [n for n in names if is_pytorch(n)]
    if not keras or not pytorch or any(not rates.get(n) for n in keras):
        return names
    fastest = max(keras, key=lambda n: rates[n])
    rest = [n for n in names if n not in keras and n not in pytorch]
    return [n for n in keras if n != fastest] + pytorch[:1] + [fastest] + pytorch[1:] + rest


def precision_now(states: list, target: float, level: float = LEVEL) -> Precision:
    widest: tuple[float, int, str, float | None] | None = None  # half-width, pairs, name, sd
    fewest = None
    for first, second in headline_pairs(states):
        logs = paired_logs(first.turn_rates(), second.turn_rates())
        name = f"{first.name} ÷ {second.name}"
        if len(logs) < MIN_PAIRS:
            fewest = min(fewest or (len(logs), name), (len(logs), name))
            continue
        sd = statistics.stdev(logs)
        half = math.expm1(t_quantile(level, len(logs) - 1) * sd / math.sqrt(len(logs)))
        if widest is None or half > widest[0]:
            widest = (half, len(logs), name, sd)
    if fewest is not None or widest is None:  # a comparison without its interval yet: nothing is sure
        pairs, name = fewest or (0, "")
        return Precision(target, None, pairs, name, None)
    half, pairs, name, sd = widest
    left = None
    round_s = seconds_per_round(states)
    if half <= target and pairs >= MIN_SURE_PAIRS:
        left = 0.0
    elif round_s is not None:
        left = (max(pairs_needed(sd, target, level), MIN_SURE_PAIRS) - pairs) * round_s
    return Precision(target, half, pairs, name, left)


def pairs_needed(sd: float, target: float, level: float = LEVEL) -> int:
    """The fewest pairs whose interval, at this spread of log-ratios, is within ±target."""
    bound = math.log1p(target)

    def within(n: int) -> bool:
        return t_quantile(level, n - 1) * sd / math.sqrt(n) <= bound

    low = max(MIN_PAIRS, math.ceil((1.96 * sd / bound) ** 2))  # the normal approximation: t only widens it
    if within(low):
        return low
    high = low * 2
    while not within(high) and high < MAX_PAIRS:
        low, high = high, high * 2
    while high - low > 1:  # the fewest within: bisected, a few quantiles
        middle = (low + high) // 2
        low, high = (low, middle) if within(middle) else (middle, high)
    return min(high, MAX_PAIRS)


def seconds_per_round(states: list) -> float | None:
    """Wall seconds from one of a runner's turns to its next, over the rounds so far (mean over runners)."""
    spans = []
    for s in states:
        started = sorted(s.turn_started.items())
        if len(started) >= 2:
            (first_turn, first_t), (last_turn, last_t) = started[0], started[-1]
            spans.append((last_t - first_t) / (last_turn - first_turn))
    return statistics.fmean(spans) if spans else None


def plus_minus(fraction: float, digits: int | None = None) -> str:
    """0.05 → "±5 %"; with ``digits``, 0.0723 → "±7.2 %"."""
    return f"±{fraction * 100:.{digits}f} %" if digits is not None else f"±{fraction * 100:g} %"
