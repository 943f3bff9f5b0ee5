"""Where a runner's steady state starts, found in its per-window step times rather than assumed.

As Barrett et al. ("Virtual Machine Warmup Blows Hot and Cold", OOPSLA 2017) do for VM benchmarks: the
series is cut into segments of equal mean by changepoint analysis (ruptures' PELT on the log step times, a
penalty scaled to the series' own window-to-window noise), adjacent segments within ``SAME_WITHIN`` of each
other are merged (a shared machine's drift moves a stretch of windows that much without the runner changing),
and the last segment is the steady state:

- **flat**: one segment; every window counts;
- **warm-up then flat**: the last segment is faster than the one before it; the windows before it were still
  warming up (caches, autotuning, retracing) and leave the figures;
- **slow-down**: the last segment is slower (thermal limits, memory growth, a data pipeline falling behind);
  the figures are the slower steady state's;
- **no steady state**: the last segment is under ``LAST_SEGMENT_SHARE`` of the series, or its own robust trend
  moves the step time by more than ``SAME_WITHIN``: the step time kept changing to the end. The figures are then averages over a moving target, and every view says so.

Isolated spikes are set aside first (a Hampel filter). Runs of thousands of windows are classified on block
means of at most ``MAX_POINTS`` points.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

BLOCK_S = 0.5  # windows are joined into blocks of at least this much timed time: a turn's short last window
# (a few steps before the hand-over) would weigh as much as a full one
MIN_BLOCKS = 30  # fewer (15 s of timed training): too few to tell a change from noise; every window counts
MAX_POINTS = 400
# Segments whose mean step times differ by less are one: this VM drifts about 12 % over tens of seconds, and a
# change the size of the drift cannot be told from it.
SAME_WITHIN = 0.10
LAST_SEGMENT_SHARE = 0.25
PENALTY = 6.0  # × noise variance × log(points): a BIC-like penalty, on the cautious side

FLAT, WARMUP, SLOWDOWN, NONE, TOO_FEW = "flat", "warm-up then flat", "slow-down", "no steady state", "too short"


def classify_windows(windows: list[tuple[int, float]]) -> SteadyState:
    """(steps, seconds) of each timed window, in order: joined into ``BLOCK_S`` blocks, classified, and the
    steady state's start given as a window index."""
    blocks, firsts = [], []
    steps = seconds = 0.0
    first = 0
    for index, (window_steps, window_s) in enumerate(windows):
        if not steps:
            first = index
        steps += window_steps
        seconds += window_s
        if seconds >= BLOCK_S and steps:
            blocks.append(seconds / steps)
            firsts.append(first)
            steps = seconds = 0.0
    found = classify(blocks)
    start = firsts[found.start] if found.start < len(firsts) and found.start else 0
    return SteadyState(found.kind, start, len(windows))


@dataclass(frozen=True)
class SteadyState:
    kind: str
    start: int  # the first window (or block, from ``classify``) of the steady state: 0, all of them
    windows: int  # the windows (or blocks) classified

    @property
    def steady(self) -> bool:
        return self.kind != NONE


def classify(step_times: list[float]) -> SteadyState:
    n = len(step_times)
    if n < MIN_BLOCKS:
        return SteadyState(TOO_FEW, 0, n)
    import numpy as np
    import ruptures

    block = math.ceil(n / MAX_POINTS)
    logs = np.log(np.asarray(step_times, dtype=float))
    points = logs[: n - n % block].reshape(-1, block).mean(axis=1) if block > 1 else logs
    if block > 1 and n % block:
        points = np.append(points, logs[n - n % block:].mean())
    points = _without_spikes(points)
    m = len(points)
    noise = _noise(points)
    ends = ruptures.Pelt(model="l2", min_size=max(4, m // 10), jump=1).fit(points).predict(
        pen=PENALTY * noise**2 * math.log(m))
    segments = _merged([(start, end, float(points[start:end].mean())) for start, end in zip([0] + ends[:-1], ends)],
                       SAME_WITHIN)
    start, _, last = segments[-1]
    first_window = min(n, start * block)
    if (m - start) < LAST_SEGMENT_SHARE * m or _drifts(points[start:]):
        return SteadyState(NONE, 0, n)
    if len(segments) == 1:
        return SteadyState(FLAT, 0, n)
    before = segments[-2][2]
    return SteadyState(WARMUP if last < before else SLOWDOWN, first_window, n)


def _without_spikes(points, half_window: int = 3, threshold: float = 4.0):
    """Isolated spikes (a stall of one block: an epoch start, a page fault burst) replaced by their
    neighbourhood's median, a Hampel filter, as Barrett et al. set outliers aside before looking for changes; a
    shift that lasts beyond the window moves the median with it and stays."""
    import numpy as np

    filtered = points.copy()
    noise = _noise(points)
    for index in range(len(points)):
        around = points[max(0, index - half_window): index + half_window + 1]
        middle = float(np.median(around))
        if abs(points[index] - middle) > threshold * max(noise, float(np.median(np.abs(around - middle))) * 1.4826):
            filtered[index] = middle
    return filtered


def _noise(points) -> float:
    """The points' own window-to-window noise, robust to the shifts being looked for: the MAD of successive
    differences."""
    differences = [abs(b - a) for a, b in zip(points[:-1], points[1:])]
    mad = statistics.median(differences) if differences else 0.0
    return max(mad / 0.6745 / math.sqrt(2), 1e-3)


def _drifts(points) -> bool:
    """The steady candidate still moves: its robust (Theil–Sen, scipy) trend changes the step time by more
    than ``SAME_WITHIN`` from its start to its end (a gradual change PELT cuts into small steps)."""
    from scipy.stats import theilslopes

    slope = theilslopes(points).slope
    return abs(math.expm1(slope * (len(points) - 1))) > SAME_WITHIN


def _merged(segments: list[tuple[int, int, float]], same_within: float) -> list[tuple[int, int, float]]:
    """Adjacent segments within ``same_within`` of each other joined (means weighted by length)."""
    merged = [segments[0]]
    for start, end, mean in segments[1:]:
        a_start, a_end, a_mean = merged[-1]
        if abs(math.expm1(mean - a_mean)) < same_within:
            length_a, length_b = a_end - a_start, end - start
            merged[-1] = (a_start, end, (a_mean * length_a + mean * length_b) / (length_a + length_b))
        else:
            merged.append((start, end, mean))
    return merged
