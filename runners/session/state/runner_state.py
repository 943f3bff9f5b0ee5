"""What the dashboard knows about each runner, folded from its events.

Widgets read this; only events write it. Metrics are placed by step, never by
arrival order, in bounded series (``runners.session.state.series``): a million events cost what a
thousand do. A runner is *held* while its processes are stopped: paused by the
user, or waiting for its turn (the interleaved schedule). Steady windows a hold
fell into count for progress and loss, never for timing, and so does the steady
window right after such a window when it began within ``SETTLING_S`` of the hold's
end: a runner just continued runs slow for a moment (caches the others' turns
evicted, thread pools waking up; keras/torch measured +4.7 % in its first 0.5 s
window after a hand-over, ``benchmarks/schedule_agreement.py``), which a runner
alone never sees. A slow step (resnet18 on a CPU) has settled inside the window
that spans the hold, so the window after it counts. The rule needs nothing but the
events: replay, attach and serve apply it alike. Start-up, warm-up and
time-to-loss leave the held time out. Steady windows are also kept per turn
(the time between two holds), for the paired confidence intervals
(``runners.session.verdict.confidence``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runners.protocol import (
    FINAL_PHASES,
    HELD_PHASES,
    SETTLING_S,
    Done,
    Error,
    Evaluation,
    Event,
    Export,
    Hello,
    Metrics,
    NoiseFloor,
    Phase,
    Probe,
    Rank,
)
from runners.session.monitoring.process_monitor import HostSample
from runners.session.monitoring.nvml_monitor import ProcessSample
from runners.session.monitoring.peaks import peak_flops
from runners.session.state.series import Quantiles, StepSeries
from runners.session.state.serving import ServingFigures
from runners.session.state.steady_state import SteadyState
from runners.session.state.timed_windows import TimedWindows

# Steps in the running mean behind "who reached loss X first".
LOSS_SPAN = 10


@dataclass
class RunnerState:
    name: str
    total_steps: int  # with a duration budget: the step cap
    duration_s: float | None = None  # --duration: steady training seconds the runner trains for
    phase: str = "starting"
    hello: Hello | None = None
    error: Error | None = None
    done: Done | None = None
    latest: Metrics | None = None  # the window with the highest step
    # By step, bounded: batch loss, and each steady window's seconds per step and samples per second.
    loss: StepSeries = field(default_factory=StepSeries)
    step_time: StepSeries = field(default_factory=StepSeries)
    rate: StepSeries = field(default_factory=StepSeries)
    warmup_s: float = 0.0  # time of the warm-up windows (compilation / tracing)
    # Timed windows (steady by the runner's own flag, no hold, not settling), and the steady state among them.
    timed: TimedWindows = field(default_factory=TimedWindows)
    paused_windows: int = 0  # steady windows a hold fell into: left out of every timing figure
    settling_windows: int = 0  # steady windows begun within SETTLING_S of a hold's end: left out as well
    # --input native: seconds the loop waited for its input pipeline in steady windows, and those windows' seconds
    input_wait_s: float = 0.0
    input_seen_s: float = 0.0
    phase_since: dict[str, float] = field(default_factory=dict)
    # [start, end or None]: paused, waiting, or measuring the parity floor: time that is not the runner's own.
    holds: list[list[float | None]] = field(default_factory=list)
    turn: int = 0  # the turns the rotation gave it (a user's pause and resume starts no new turn)
    turn_started: dict[int, float] = field(default_factory=dict)  # when each turn began (wall clock)
    # Sampled by the dashboard itself, not sent by the runner.
    host: HostSample | None = None
    peak_rss_bytes: int = 0
    gpu: ProcessSample | None = None
    peak_gpu_bytes: int = 0  # the most GPU memory NVML saw its processes hold (the framework's pools included)
    sharing_with: list[str] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)  # in step order
    val_loss: StepSeries = field(default_factory=StepSeries)  # validation loss by step, for its chart
    ranks: dict[int, Rank] = field(default_factory=dict)  # a data-parallel runner's processes: the latest of each
    # A serving path (`kvp-dash infer`): what its export cost, and its timed calls by batch size.
    export: Export | None = None
    probe: Probe | None = None  # its outputs on the probe batch (serving parity is judged from them)
    serving: ServingFigures = field(default_factory=ServingFigures)
    _resume_phase: str = "starting"
    _hold_is_wait: bool = False
    _settle_until: float | None = None  # the next steady window settles if it begins before this (wall time)

    def apply(self, event: Event) -> None:
        if isinstance(event, Metrics):
            self._apply_metrics(event)
        elif isinstance(event, Phase):
            self._apply_phase(event)
        elif isinstance(event, Hello):
            self.hello = event
        elif isinstance(event, Error):
            self.error = event
        elif isinstance(event, Done):
            self.done = event
        elif isinstance(event, Evaluation):
            self.evaluations.append(event)
            self.val_loss.add(event.step, event.loss, event.t)
        elif isinstance(event, Rank):
            self.ranks[event.rank] = event
        elif isinstance(event, Export):
            self.export = event
        elif isinstance(event, Probe):
            self.probe = event
        elif isinstance(event, NoiseFloor) and event.seconds > 0 and not self.held:
            # The parity floor's extra model is kvp-dash's work, not the runner's: set aside like a hold, so
            # start-up, time-to-loss and time-to-target leave it out.
            self.holds.append([event.t - event.seconds, event.t])

    def _apply_phase(self, event: Phase) -> None:
        phase = event.phase
        if self.ended:
            # An end is final (a restart starts a new state): a data-parallel runner's other ranks may still say
            # where they were after the launcher failed it for a dropped host.
            return
        if phase in HELD_PHASES:
            if not self.held:
                # Never before the last hold's end: a runner stopped by a pause between saying "waiting" and
                # writing it says it after the resume, with the earlier time, and the pause would count twice.
                self.holds.append([max(event.t, self.holds[-1][1]) if self.holds else event.t, None])
                self._resume_phase = self.phase
            self._hold_is_wait |= phase == "waiting"
            self.phase = phase  # paused while waiting (or the other way): still one hold
            return
        if self.held and phase not in FINAL_PHASES:
            if phase == "resumed":
                self.holds[-1][1] = event.t
                self.phase = self._resume_phase
                if self._hold_is_wait:
                    self.turn += 1
                    self.turn_started[self.turn] = event.t
                self._hold_is_wait = False
            else:
                self._resume_phase = phase  # said just before the stop, read just after it
            return
        if self.held:
            self.holds[-1][1] = event.t  # ended while held
        self.phase = phase
        self.phase_since.setdefault(phase, event.t)

    def _apply_metrics(self, event: Metrics) -> None:
        if self.latest is None or event.step > self.latest.step:
            self.latest = event
        for step, loss in enumerate(event.losses, start=event.first_step):
            # Each step of the window ended this long before the window closed.
            t_end = event.t - (event.step - step) * event.step_time_s
            self.loss.add(step, loss, t_end)
        started = event.t - event.window_s
        held_s = self.held_seconds(started, event.t)
        if held_s:  # a warm-up window too: the first steady one after it may be settling
            self._settle_until = (self.holds[-1][1] or event.t) + SETTLING_S
        if event.warmup:
            self.warmup_s += max(0.0, event.window_s - held_s)  # compilation, without the wait
        elif held_s:
            self.paused_windows += 1
        elif self._settle_until is not None and started < self._settle_until:
            self._settle_until = None
            self.settling_windows += 1
        else:
            self._settle_until = None
            # Charted like the figures: steady windows only (a compile step would flatten the scale).
            self.step_time.add(event.step, event.step_time_s, event.t)
            self.rate.add(event.step, event.samples_per_s, event.t)
            self.timed.add(self.turn, event.steps, event.window_s, event.step_time_s)
            if event.input_wait_s is not None:
                self.input_wait_s += event.input_wait_s
                self.input_seen_s += event.window_s
            if event.call_bins is not None:
                self.serving.add(self.turn, event)

    # The figures come from the steady state (runners.session.state.timed_windows); --duration counts every
    # timed window.

    @property
    def steady_state(self) -> SteadyState:
        return self.timed.steady_state(self.ended)

    @property
    def input_wait_share(self) -> float | None:
        """The share of steady training time spent waiting for the next batch (--input native, where the training
        loop is the runner's own); None where nothing measured it."""
        return self.input_wait_s / self.input_seen_s if self.input_seen_s > 0 else None

    @property
    def timed_s(self) -> float:
        return self.timed.seconds

    @property
    def steady_steps(self) -> int:
        return self.timed.steady_steps(self.ended)

    @property
    def steady_s(self) -> float:
        return self.timed.steady_seconds(self.ended)

    @property
    def turn_steps(self) -> dict[int, list[float]]:
        """Steady steps and seconds of each turn (the time between two holds), by turn number."""
        return self.timed.steady_per_turn(self.ended)

    @property
    def steady_windows(self) -> Quantiles:
        """Seconds per step of each steady window."""
        return self.timed.steady_quantiles(self.ended)

    def held_seconds(self, start: float, end: float) -> float:
        """How much of [start, end] the runner was held (paused or waiting for its turn)."""
        if not self.holds:  # asked for every window of every runner
            return 0.0
        return sum(max(0.0, min(end, h1 if h1 is not None else end) - max(start, h0)) for h0, h1 in self.holds)

    @property
    def held(self) -> bool:
        """Its processes are stopped: paused by the user, or waiting for its turn."""
        return self.phase in HELD_PHASES

    @property
    def paused(self) -> bool:
        return self.phase == "paused"

    def turn_rates(self) -> dict[int, float]:
        """Steady throughput (its headline unit) in each turn that had steady windows, by turn number.

        Turn 0 is the time before the rotation's first hand-over: a run that took no turns (parallel,
        sequential) has only it, and nothing to pair."""
        batch = self.latest.batch_size if self.latest else 0
        tokens = self.hello.tokens_per_sample if self.hello and self.hello.tokens_per_sample > 1 else 1
        return {turn: steps * batch * tokens / seconds
                for turn, (steps, seconds) in self.turn_steps.items() if turn and seconds > 0 and steps}

    @property
    def started_at(self) -> float | None:
        """Wall time of the runner's first word."""
        return min(self.phase_since.values()) if self.phase_since else None

    def smoothed_losses(self, span: int = LOSS_SPAN) -> list[float]:
        """Mean of about the last ``span`` batch losses at each bucket: batch noise would decide races."""
        return [mean for _, mean in self.loss.running_means(span)]

    def time_to_loss(self, level: float) -> float | None:
        """Seconds from the runner's first word until its smoothed loss first reached ``level``."""
        start = self.started_at
        if start is None:
            return None
        for bucket, mean in self.loss.running_means(LOSS_SPAN):
            if mean <= level:
                return bucket.t_end - start - self.held_seconds(start, bucket.t_end)
        return None

    @property
    def evaluation(self) -> Evaluation | None:
        """The latest validation result."""
        return self.evaluations[-1] if self.evaluations else None

    def time_to_target(self, target) -> float | None:
        """Seconds from the runner's first word until an evaluation first met ``target`` (a ``Target``):
        start-up and compilation count, as for a user; waiting turns, pauses and evaluations do not."""
        start = self.started_at
        if start is None:
            return None
        for ev in self.evaluations:
            if target.reached(ev.loss, ev.metric):
                trained_until = ev.t - ev.eval_s  # the evaluation began when the step it judges had ended
                earlier_evals = ev.eval_total_s - ev.eval_s
                return trained_until - start - self.held_seconds(start, trained_until) - earlier_evals
        return None

    @property
    def first_loss(self) -> float | None:
        return self.loss.first[1] if self.loss.first else None

    @property
    def current_loss(self) -> float | None:
        return self.loss.last[1] if self.loss.last else None

    @property
    def smoothed_loss(self) -> float | None:
        return self.loss.tail_mean(LOSS_SPAN)

    @property
    def eta_s(self) -> float | None:
        """Seconds of its own training left: to the last step at the latest window's pace, or of the
        --duration budget (None before steps are timed)."""
        if self.latest is None or self.ended:
            return None
        if self.duration_s:
            return max(0.0, self.duration_s - self.timed_s)
        pace = self.mean_step_time_s or self.latest.step_time_s
        return max(0, self.total_steps - self.steps_done) * pace

    @property
    def progress(self) -> float:
        """How far the run is, 0 to 1: of its steps, or of its --duration budget."""
        if self.duration_s:
            return 1.0 if self.phase == "done" else min(1.0, self.timed_s / self.duration_s)
        return min(1.0, self.steps_done / self.total_steps) if self.total_steps else 0.0

    @property
    def ended(self) -> bool:
        return self.phase in FINAL_PHASES

    @property
    def steps_done(self) -> int:
        return self.latest.step + 1 if self.latest else 0

    def sampled(self, host: HostSample | None, gpu: ProcessSample | None, sharing_with: list[str] | None = None) -> None:
        """The dashboard's sample of the runner's processes, and the runners training beside it now. A runner whose
        process has just gone (it leaves the moment its last event is written, which the dashboard may not have
        read yet) keeps its last sample: "no sample" must not wipe the figures it ends with."""
        if host is not None:
            self.host = host
            self.peak_rss_bytes = max(self.peak_rss_bytes, host.rss_bytes)
        self.gpu = gpu
        if gpu is not None and gpu.used_bytes.ok:
            self.peak_gpu_bytes = max(self.peak_gpu_bytes, gpu.used_bytes.value)
        if sharing_with is not None:
            self.sharing_with = sharing_with

    @property
    def mean_step_time_s(self) -> float | None:
        """Steady-state time over steady-state steps: the figure throughput and FLOP/s follow."""
        return self.steady_s / self.steady_steps if self.steady_steps else None

    @property
    def median_step_time_s(self) -> float | None:
        """Median over steady-state windows; warm-up and pauses never count."""
        return self.steady_windows.quantile(0.5)

    @property
    def p90_step_time_s(self) -> float | None:
        return self.steady_windows.quantile(0.9)

    def phase_seconds(self, start: str, end: str) -> float | None:
        if start in self.phase_since and end in self.phase_since:
            return self.phase_since[end] - self.phase_since[start]
        return None

    @property
    def startup_s(self) -> float | None:
        """Framework import plus model build: from the runner's first word to its first step, holds left out."""
        seconds = self.phase_seconds("importing", "warmup")
        if seconds is None:
            return None
        return seconds - self.held_seconds(self.phase_since["importing"], self.phase_since["warmup"])

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
