"""``kvp-dash compare``: each runner's throughput in one run against another (another day, machine or version).

Two runs are not paired turn by turn (their turns did not share the machine's moments), so each runner's
ratio is unpaired: a Welch t-interval (scipy) on the difference of its mean log per-turn throughput between
the runs, taken back with exp. The turns of one process are all the interval sees: the variance from one
process to the next (a few per cent to 13 % here, docs/measurement.md) is in neither run's turns, so two runs of
the same settings can differ by more than their interval says; ``--fail-if-slower`` is the threshold that
absorbs it. A run without turns (parallel or sequential schedule) gives a ratio without an interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runners.session.record.finished_run import FinishedRun
from runners.session.verdict.confidence import LEVEL, MIN_PAIRS, Ratio


@dataclass(frozen=True)
class RunnerChange:
    runner: str
    base: float | None  # steady throughput in the base run
    other: float | None  # ... in the other run
    unit: str
    ratio: Ratio | None  # other ÷ base: below 1 is slower

    def slower_beyond(self, fraction: float) -> bool:
        """Slower than in the base run by more than ``fraction``, at 95 % confidence."""
        return self.ratio is not None and self.ratio.high is not None and self.ratio.high < 1 - fraction

    def words(self) -> str:
        """"12.3 % slower (95 % CI 8.1–16.2 % slower)", "no clear difference: 3.1 % slower (95 % CI 8.0 % slower to
        2.1 % faster)", or why there is no figure."""
        if self.ratio is None:
            return "not in both runs" if self.base is None or self.other is None else "no steady figure"
        change = _percent(self.ratio.value)
        if self.ratio.low is None:
            return f"{change} (no interval: {self.ratio.pairs} turns, fewer than {MIN_PAIRS} in a run)"
        low, high = self.ratio.low, self.ratio.high
        if high < 1:
            interval = f"{(1 - high) * 100:.1f}–{(1 - low) * 100:.1f} % slower"
        elif low > 1:
            interval = f"{(low - 1) * 100:.1f}–{(high - 1) * 100:.1f} % faster"
        else:
            interval = f"{_percent(low)} to {_percent(high)}"
        text = f"{change} (95 % CI {interval})"
        return f"no clear difference: {text}" if low <= 1 <= high else text


def unpaired_ratio(base: dict[int, float], other: dict[int, float], level: float = LEVEL) -> Ratio | None:
    """other ÷ base from each run's own turns; no interval below ``MIN_PAIRS`` turns in either."""
    base_logs = [math.log(v) for v in base.values() if v > 0]
    other_logs = [math.log(v) for v in other.values() if v > 0]
    if not base_logs or not other_logs:
        return None
    mean = sum(other_logs) / len(other_logs) - sum(base_logs) / len(base_logs)
    turns = min(len(base_logs), len(other_logs))
    if turns < MIN_PAIRS:
        return Ratio(math.exp(mean), None, None, turns)
    from scipy import stats

    interval = stats.ttest_ind(other_logs, base_logs, equal_var=False).confidence_interval(level)
    return Ratio(math.exp(mean), math.exp(interval.low), math.exp(interval.high), turns)


def changes(base: FinishedRun, other: FinishedRun) -> list[RunnerChange]:
    """Every runner of either run, the base run's order first."""
    names = list(base.states) + [name for name in other.states if name not in base.states]
    result = []
    for name in names:
        a, b = base.states.get(name), other.states.get(name)
        rate_a, unit = a.throughput if a else (None, "samples/s")
        rate_b, unit_b = b.throughput if b else (None, unit)
        ratio = None
        if rate_a and rate_b:
            ratio = unpaired_ratio(a.turn_rates(), b.turn_rates())
            if ratio is None:  # no turns (a parallel or sequential run): the whole-run figures, no interval
                ratio = Ratio(rate_b / rate_a, None, None, 0)
        result.append(RunnerChange(name, rate_a, rate_b, unit if rate_a else unit_b, ratio))
    return result


# What differs between two runs, from run.json's config and meta.json: (label, where to read it).
_CONFIG = (("batch", ("settings", "batch_size")), ("seed", ("settings", "seed")),
           ("image size", ("settings", "image_size")), ("sequence", ("settings", "seq_len")),
           ("steps", ("settings", "steps")), ("duration", ("duration_s",)), ("precision", ("precision",)),
           ("keras jit", ("keras_jit",)), ("tf32", ("tf32",)), ("device", ("device",)), ("devices", ("devices",)),
           ("hosts", ("hosts",)), ("schedule", ("schedule",)), ("recipe", ("recipe",)))
_META = (("host", ("host",)), ("cpu", ("cpu", "model")), ("cores", ("cpu", "usable")), ("os", ("os",)),
         ("gpus", ("gpus",)), ("revision", ("git_revision",)))


def differences(base: FinishedRun, other: FinishedRun) -> list[str]:
    """"batch 64 → 32", "torch 2.13.0 → 2.12.0": what changed between the runs, settings first."""
    found = []
    for label, keys in _CONFIG:
        _differ(found, label, _dig(base.config, keys), _dig(other.config, keys))
    versions_a, versions_b = base.meta.get("versions", {}), other.meta.get("versions", {})
    for name in sorted(set(versions_a) | set(versions_b)):
        _differ(found, name, versions_a.get(name), versions_b.get(name))
    for label, keys in _META:
        _differ(found, label, _dig(base.meta, keys), _dig(other.meta, keys))
    return found


def _differ(found: list[str], label: str, a, b) -> None:
    if a != b:
        found.append(f"{label} {_shown(a)} → {_shown(b)}")


def _shown(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, str) and len(value) == 40 and all(c in "0123456789abcdef" for c in value):
        return value[:10]  # a git revision
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(item.get("name", item)) if isinstance(item, dict) else str(item) for item in value) or "none"
    return str(value)


def _dig(record: dict, keys: tuple[str, ...]):
    for key in keys:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def _percent(ratio: float) -> str:
    """0.877 → "12.3 % slower", 1.042 → "4.2 % faster"."""
    change = (ratio - 1) * 100
    return f"{abs(change):.1f} % {'slower' if change < 0 else 'faster'}"
