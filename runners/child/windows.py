"""Step windows: the unit in which runners time training and report metrics.

A window is a run of consecutive steps between two points where the runner
knows the device has finished (the loss values are on the host). Timing whole
windows lets asynchronous dispatch neither hide work nor force a per-step
sync; it also keeps the event rate low however fast the steps are.
"""

from __future__ import annotations

import time
from typing import Callable

from runners.child import finish, turns
from runners.protocol import SETTLING_S, Metrics, Phase


class WindowReporter:
    def __init__(
        self,
        emit: Callable,
        runner: str,
        batch_size: int,
        steps: int,
        warmup_steps: int,
        interval_s: float,
        memory: Callable,  # () -> (rss bytes, devices.DeviceMemory)
    ):
        self._emit = emit
        self._runner = runner
        self._batch_size = batch_size
        self._last_step = steps - 1
        # Never let warm-up swallow the whole run: keep at least one steady step.
        self._warmup_steps = max(0, min(warmup_steps, steps - 1))
        self._interval_s = interval_s
        self._memory = memory
        self._edge_step = 0
        self._edge_t = 0.0
        self.started_at = 0.0
        self.steady_s = 0.0  # steady training time so far, waits left out: a time-based validation schedule's clock
        # When the process stopped itself for the others' turns, not yet behind a closed window. A timestamp, not a
        # duration: with Keras's asynchronous callbacks the window that holds a wait may be the one after next.
        self._stops: list[float] = []
        self._after_wait = False  # the last window held a wait: the next steady one may be settling
        self._step_s = 0.0  # seconds per step of the last steady window
        # Whether this turn has had a window its timing counts: the turn is not given back before it has.
        self._timed_this_turn = True
        self.forced_edge: Callable[[int], bool] = lambda step: False  # e.g. an evaluation after this step
        # Seconds the loop waited for input since the last edge; None while nothing measures it.
        self._input_wait_s: float | None = None
        self._pull_after_stop = False  # the next pull may hold this process's own stop for the others' turns

    def waited_for_input(self, seconds: float) -> None:
        """The training loop waited this long for its input pipeline's next batch (in the window now open).

        The first pull after the runner stopped itself is left out: SIGSTOP lands a moment after ``killpg``
        returns (``turns.at_window_edge``), so that pull can hold the whole of the others' turns (13 s of "wait"
        in a 0.5-s window, seen on keras/torch)."""
        if self._pull_after_stop:
            self._pull_after_stop = False
            self._input_wait_s = self._input_wait_s or 0.0  # measured, but of unknown length: nothing added
            return
        self._input_wait_s = (self._input_wait_s or 0.0) + seconds

    def take_input_wait(self) -> float | None:
        waited, self._input_wait_s = self._input_wait_s, (0.0 if self._input_wait_s is not None else None)
        return waited

    def begin(self) -> None:
        """Call right before step 0 is dispatched."""
        self._emit(Phase(self._runner, "warmup" if self._warmup_steps else "training"))
        self.started_at = self._edge_t = time.perf_counter()

    def due(self, step: int, now: float) -> bool:
        """Should the window close after ``step``? Warm-up steps get windows of their own."""
        return (
            step == self._last_step
            or step < self._warmup_steps
            or now - self._edge_t >= self._interval_s
            or self.forced_edge(step)
        )

    def close(self, step: int, losses: list[float], now: float, batch_size: int | None = None,
              call_bins: dict[str, int] | None = None, call_max_s: float | None = None,
              may_hand_over: bool = True) -> None:
        """``losses`` holds every step since the last edge; ``now`` is after they are on the host. A serving path's
        window names its batch size and its calls' latencies (``runners.child.serving.runner``), and keeps its turn
        (``may_hand_over`` False) until it has timed every batch size in it."""
        rss, device = self._memory()
        warmup = step < self._warmup_steps
        self._emit(
            Metrics(
                self._runner,
                first_step=self._edge_step,
                step=step,
                losses=[float(v) for v in losses],
                window_s=now - self._edge_t,
                batch_size=batch_size or self._batch_size,
                warmup=warmup,
                rss_bytes=rss,
                device_bytes=device.in_use,
                device_peak_bytes=device.peak,
                device_reserved_bytes=device.reserved,
                input_wait_s=self.take_input_wait(),
                call_bins=call_bins,
                call_max_s=call_max_s,
            )
        )
        # A window that holds a wait counts for nothing, nor does the steady one after it when it began within
        # SETTLING_S of the resume, as on the dashboard (``RunnerState.paused_windows``, ``settling_windows``). The
        # process cannot time its own resume (SIGSTOP may land after killpg returns), but the window that holds
        # the wait ends at its first step after it: the next one began within SETTLING_S when a step is that quick.
        if any(self._edge_t <= stopped <= now for stopped in self._stops):
            self._after_wait = True
        elif not warmup:
            if not (self._after_wait and self._step_s < SETTLING_S):
                self.steady_s += now - self._edge_t
                self._step_s = (now - self._edge_t) / (step + 1 - self._edge_step)
                self._timed_this_turn = True
            self._after_wait = False
        self._stops = [stopped for stopped in self._stops if stopped > now]
        if warmup and step + 1 == self._warmup_steps:
            self._emit(Phase(self._runner, "training"))
        self._edge_step, self._edge_t = step + 1, now
        # The turn is given back only once it has timed something: a turn of a spanning and a settling window (a
        # slice as short as a window) would add nothing to the figures or the --duration budget, and never end.
        if step != self._last_step and not self.finishing and self._timed_this_turn and may_hand_over:
            # A later window spans the wait: the dashboard leaves that window out, the runner's own clock the wait.
            stopped = turns.at_window_edge()
            if stopped is not None:
                self._stops.append(stopped)
                self._timed_this_turn = False
                self._pull_after_stop = True

    @property
    def window_started_at(self) -> float:
        """When the open window began (``time.perf_counter``)."""
        return self._edge_t

    def restart_clock(self) -> None:
        """The next window starts now: what happened since the last edge (an evaluation) is not training."""
        self._edge_t = time.perf_counter()

    @property
    def finishing(self) -> bool:
        """The launcher asked the runner to end here (its --duration is spent)."""
        return finish.requested()
