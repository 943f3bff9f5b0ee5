"""What the dashboard knows about each runner, folded from its events.

Widgets read this; only events write it. Metrics are placed by step, never by
arrival order.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field

from runners.host_monitor import HostSample
from runners.nvml_monitor import ProcessSample
from runners.peaks import peak_flops
from runners.protocol import FINAL_PHASES, Done, Error, Event, Hello, Metrics, Phase


# Steps in the running mean behind "who reached loss X first".
LOSS_SPAN = 10


@dataclass
class RunnerState:
    name: str
    total_steps: int
    phase: str = "starting"
    hello: Hello | None = None
    error: Error | None = None
    done: Done | None = None
    loss_steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    latest: Metrics | None = None  # the window with the highest step
    # (wall time the window closed, its last step, seconds per step in it): when each step ended.
    window_clock: list[tuple[float, int, float]] = field(default_factory=list)
    warmup_s: float = 0.0  # time of the warm-up windows (compilation / tracing)
    steady_step_times_s: list[float] = field(default_factory=list)  # one per steady window
    steady_steps: int = 0
    steady_s: float = 0.0
    phase_since: dict[str, float] = field(default_factory=dict)
    # Sampled by the dashboard itself, not sent by the runner.
    host: HostSample | None = None
    peak_rss_bytes: int = 0
    gpu: ProcessSample | None = None
    sharing_with: list[str] = field(default_factory=list)

    def apply(self, event: Event) -> None:
        if isinstance(event, Metrics):
            self._apply_metrics(event)
        elif isinstance(event, Phase):
            self.phase = event.phase
            self.phase_since.setdefault(event.phase, event.t)
        elif isinstance(event, Hello):
            self.hello = event
        elif isinstance(event, Error):
            self.error = event
        elif isinstance(event, Done):
            self.done = event

    def _apply_metrics(self, event: Metrics) -> None:
        at = bisect.bisect_left(self.loss_steps, event.first_step)
        self.loss_steps[at:at] = range(event.first_step, event.step + 1)
        self.losses[at:at] = event.losses
        if self.latest is None or event.step > self.latest.step:
            self.latest = event
        self.window_clock.append((event.t, event.step, event.step_time_s))
        if event.warmup:
            self.warmup_s += event.window_s
        else:
            self.steady_step_times_s.append(event.step_time_s)
            self.steady_steps += event.steps
            self.steady_s += event.window_s

    @property
    def started_at(self) -> float | None:
        """Wall time of the runner's first word."""
        return min(self.phase_since.values()) if self.phase_since else None

    def smoothed_losses(self, span: int = LOSS_SPAN) -> list[float]:
        """Mean of the last ``span`` batch losses at each step: batch noise would decide races."""
        out, total = [], 0.0
        for i, loss in enumerate(self.losses):
            total += loss - (self.losses[i - span] if i >= span else 0.0)
            out.append(total / min(i + 1, span))
        return out

    def time_to_loss(self, level: float) -> float | None:
        """Seconds from the runner's first word until its smoothed loss first reached ``level``."""
        start = self.started_at
        if start is None:
            return None
        for index, loss in enumerate(self.smoothed_losses()):
            if loss <= level:
                step = self.loss_steps[index]
                # The step ended this long before the end of the window that holds it.
                for t_end, last, step_s in sorted(self.window_clock, key=lambda w: w[1]):
                    if last >= step:
                        return t_end - (last - step) * step_s - start
        return None

    @property
    def ended(self) -> bool:
        return self.phase in FINAL_PHASES

    @property
    def steps_done(self) -> int:
        return self.latest.step + 1 if self.latest else 0

    @property
    def loss(self) -> float | None:
        return self.losses[-1] if self.losses else None

    def sampled(self, host: HostSample | None, gpu: ProcessSample | None) -> None:
        self.host = host
        if host is not None:
            self.peak_rss_bytes = max(self.peak_rss_bytes, host.rss_bytes)
        self.gpu = gpu

    @property
    def mean_step_time_s(self) -> float | None:
        """Steady-state time over steady-state steps: the figure throughput and FLOP/s follow."""
        return self.steady_s / self.steady_steps if self.steady_steps else None

    @property
    def median_step_time_s(self) -> float | None:
        """Median over steady-state windows; warm-up never counts."""
        return statistics.median(self.steady_step_times_s) if self.steady_step_times_s else None

    @property
    def p90_step_time_s(self) -> float | None:
        times = self.steady_step_times_s
        if not times:
            return None
        return statistics.quantiles(times, n=10, method="inclusive")[-1] if len(times) > 1 else times[0]

    def phase_seconds(self, start: str, end: str) -> float | None:
        if start in self.phase_since and end in self.phase_since:
            return self.phase_since[end] - self.phase_since[start]
        return None

    @property
    def startup_s(self) -> float | None:
        """Framework import plus model build: from the runner's first word to its first step."""
        return self.phase_seconds("importing", "warmup")

    @property
    def tokens_per_s(self) -> float | None:
        if self.hello is None or self.hello.tokens_per_sample <= 1 or self.samples_per_s is None:
            return None
        return self.samples_per_s * self.hello.tokens_per_sample

    @property
    def throughput(self) -> tuple[float | None, str]:
        """The headline rate and its unit: tokens/s for language models, samples/s otherwise."""
        tokens = self.tokens_per_s
        return (tokens, "tokens/s") if tokens is not None else (self.samples_per_s, "samples/s")

    @property
    def achieved_flops(self) -> float | None:
        """Training FLOP/s at the steady-state step time, from the workload's analytic FLOPs."""
        step = self.mean_step_time_s
        if self.hello is None or not self.hello.flops_per_step or not step:
            return None
        return self.hello.flops_per_step / step

    @property
    def mfu(self) -> float | None:
        achieved, hello = self.achieved_flops, self.hello
        if achieved is None:
            return None
        peak = peak_flops(hello.device, hello.precision, hello.tf32)
        return achieved / peak if peak else None

    @property
    def samples_per_s(self) -> float | None:
        """Steady-state throughput: samples over the time of all steady windows."""
        if not self.steady_s or self.latest is None:
            return None
        return self.steady_steps * self.latest.batch_size / self.steady_s
