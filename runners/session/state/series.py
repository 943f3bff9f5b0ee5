"""Bounded series for long runs: memory and drawing cost stay flat however many steps arrive.

``StepSeries`` keeps values by step in at most ``capacity`` buckets of equal
width; when a new bucket would exceed the capacity, the width doubles and
neighbouring buckets merge, keeping each bucket's min, max, sum and count (the
min/max envelope is what a chart of a noisy loss needs). Until the first merge
every step has its own bucket, so short runs are exact. Buckets are keyed by
step, so values may arrive in any order.

``Quantiles`` keeps counts in log-spaced bins 0.5 % wide: median and p90 of
any number of windows in bounded memory, within 0.25 % of the exact figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_CAPACITY = 1024


@dataclass
class Bucket:
    first: int  # lowest and highest step seen in the bucket
    last: int
    low: float
    high: float
    total: float
    count: int
    t_end: float  # wall time the bucket's latest step ended

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def middle(self) -> float:
        return (self.first + self.last) / 2

    def merge(self, other: "Bucket") -> None:
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        self.total += other.total
        self.count += other.count
        self.t_end = max(self.t_end, other.t_end)


class StepSeries:
    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self.width = 1  # steps per bucket
        self._buckets: dict[int, Bucket] = {}
        self._sorted: list[Bucket] | None = None
        self.first: tuple[int, float] | None = None  # (step, value) of the lowest step
        self.last: tuple[int, float] | None = None  # (step, value) of the highest step
        self.count = 0

    def add(self, step: int, value: float, t_end: float) -> None:
        self.count += 1
        if self.first is None or step <= self.first[0]:
            self.first = (step, value)
        if self.last is None or step >= self.last[0]:
            self.last = (step, value)
        key = step // self.width
        bucket = self._buckets.get(key)
        if bucket is not None:  # merged in place: this runs for every step of every runner
            if step < bucket.first:
                bucket.first = step
            elif step > bucket.last:
                bucket.last = step
            if value < bucket.low:
                bucket.low = value
            elif value > bucket.high:
                bucket.high = value
            bucket.total += value
            bucket.count += 1
            if t_end > bucket.t_end:
                bucket.t_end = t_end
            return
        bucket = self._buckets[key] = Bucket(step, step, value, value, value, 1, t_end)
        if len(self._buckets) > self.capacity:
            self._coarsen()
        elif self._sorted is not None and (not self._sorted or key > self._sorted[-1].first // self.width):
            self._sorted.append(bucket)  # steps arrive in order: the order kept stays valid
        else:
            self._sorted = None

    def _coarsen(self) -> None:
        self.width *= 2
        merged: dict[int, Bucket] = {}
        for key, bucket in self._buckets.items():
            into = merged.get(key // 2)
            if into is None:
                merged[key // 2] = bucket
            else:
                into.merge(bucket)
        self._buckets = merged
        self._sorted = None

    def buckets(self) -> list[Bucket]:
        """In step order."""
        if self._sorted is None:
            self._sorted = [self._buckets[key] for key in sorted(self._buckets)]
        return self._sorted

    def __len__(self) -> int:
        return self.count

    def running_means(self, span: int) -> list[tuple[Bucket, float]]:
        """Each bucket with the mean of about the last ``span`` steps' values up to it."""
        buckets = self.buckets()
        out, total, count, start = [], 0.0, 0, 0
        for bucket in buckets:
            total += bucket.total
            count += bucket.count
            # Drop whole buckets from the front while the rest still covers the span.
            while count - buckets[start].count >= span:
                total -= buckets[start].total
                count -= buckets[start].count
                start += 1
            out.append((bucket, total / count))
        return out

    def tail_mean(self, span: int) -> float | None:
        """The last entry of ``running_means(span)``, from the last buckets only (a panel asks every frame)."""
        total, count = 0.0, 0
        for bucket in reversed(self.buckets()):
            total += bucket.total
            count += bucket.count
            if count >= span:
                break
        return total / count if count else None


class Quantiles:
    RATIO = 1.005
    _LOG_RATIO = math.log(RATIO)

    def __init__(self):
        self._counts: dict[int, int] = {}
        self.count = 0
        self._answers: dict[float, float] = {}  # quantiles asked since the last add

    def add(self, value: float) -> None:
        if value <= 0:
            return
        key = round(math.log(value) / self._LOG_RATIO)
        self._counts[key] = self._counts.get(key, 0) + 1
        self.count += 1
        self._answers.clear()

    def quantile(self, q: float) -> float | None:
        if not self.count:
            return None
        if q not in self._answers:
            self._answers[q] = self._quantile(q)
        return self._answers[q]

    def _quantile(self, q: float) -> float:
        wanted = max(1, math.ceil(q * self.count))
        seen = 0
        for key in sorted(self._counts):
            seen += self._counts[key]
            if seen >= wanted:
                break
        return self.RATIO ** key
