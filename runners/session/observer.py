"""One observer of a run for every view (the dashboard, headless, attach, serve): it folds the events into each
runner's state and the parity judge, samples the runners' processes and GPUs, and says when to quit on a
signal. The views only draw what it holds, so they cannot drift apart (as nvitop's views all read one
collector)."""

from __future__ import annotations

import asyncio
import importlib
import signal
import threading
from dataclasses import dataclass
from typing import Callable

from runners.protocol import Event, Phase
from runners.session.monitoring.process_monitor import HostMonitor, HostSample
from runners.session.monitoring.nvml_monitor import GpuSnapshot, NvmlMonitor
from runners.session.verdict.parity import ParityContext, ParityReport, ParityTracker, judge
from runners.session.verdict.precision import Precision, precision_now
from runners.session.state.runner_state import RunnerState

# `kill` sends SIGTERM; a dropped SSH session SIGHUP: both end the run as q does.
QUIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Sample:
    """One look at the machine: each runner's processes, the GPUs, and who shares a device with whom."""

    host: dict[str, HostSample]
    gpu: GpuSnapshot | None
    sharing: dict[str, list[str]]


class RunObserver:
    def __init__(self, source, parity: ParityContext = ParityContext(), gpu_monitor: NvmlMonitor | None = None):
        self.source = source
        self.parity_context = parity
        self.states: dict[str, RunnerState] = {name: source.new_state(name) for name in source.runner_names}
        self.parity = ParityTracker(source.runner_names)
        self.host_monitor = HostMonitor()
        self.gpu_monitor = gpu_monitor or NvmlMonitor()  # without a GPU it says so once and samples nothing
        self.gpu: GpuSnapshot | None = None
        self._precision: tuple[tuple, Precision] | None = None  # the last, with the turns it was judged at
        # The intervals need scipy.stats and the steady state ruptures, seconds to import on a busy machine:
        # imported now, off the view's loop, not in the frame that shows the first interval.
        threading.Thread(target=_import_statistics, daemon=True).start()

    def fold(self, event: Event) -> tuple[RunnerState | None, bool]:
        """Take in one event: the runner's state it changed (None: no such runner), and whether parity moved."""
        if isinstance(event, Phase) and event.phase == "restarting":
            # A new run of the runner: nothing it said before counts any more.
            self.states[event.runner] = self.source.new_state(event.runner)
            self.parity.forget(event.runner)
        state = self.states.get(event.runner)
        if state is None:
            return None, False
        state.apply(event)
        return state, self.parity.observe(event)

    def measure(self) -> Sample:
        """Sample the runners' processes and GPUs (psutil and NVML can block: call it off the view's loop)."""
        pids = self.source.pids()
        return Sample(self.host_monitor.sample(pids), self.gpu_monitor.sample(pids), self.source.sharing())

    def take(self, sample: Sample) -> list[str]:
        """Hand a sample to the runners still going (a finished one keeps its last figures); who was sampled."""
        if sample.gpu is not None:
            self.gpu = sample.gpu
        sampled = [name for name, state in self.states.items() if not state.ended]
        for name in sampled:
            gpu = sample.gpu.runners.get(name) if sample.gpu is not None else None
            self.states[name].sampled(sample.host.get(name), gpu, sample.sharing.get(name, []))
        return sampled

    @property
    def failed(self) -> list[str]:
        return [name for name, state in self.states.items() if state.phase == "failed"]

    def precision(self) -> Precision | None:
        """With --until: how sure the headline ratios are now, and the time left to the target (None without)."""
        until = self.source.until
        if not until:
            return None
        turns = tuple((state.turn, state.phase) for state in self.states.values())
        if self._precision is None or self._precision[0] != turns:  # a new pair can only come with a turn's end
            self._precision = (turns, precision_now(list(self.states.values()), until))
        return self._precision[1]

    def parity_report(self) -> ParityReport:
        """Parity among the runners still standing: a crashed runner proves nothing either way."""
        return judge(self.parity, self.parity_context, self.failed)

    def close(self) -> None:
        self.gpu_monitor.close()


def _import_statistics() -> None:
    for module in ("scipy.stats", "ruptures"):
        importlib.import_module(module)


def on_quit_signals(quit: Callable[[], None]) -> Callable[[], None]:
    """Call ``quit`` on SIGTERM or SIGHUP, on the running loop; returns what takes the handlers away."""
    loop = asyncio.get_running_loop()
    for sig in QUIT_SIGNALS:
        loop.add_signal_handler(sig, quit)

    def remove() -> None:
        for sig in QUIT_SIGNALS:
            loop.remove_signal_handler(sig)
    return remove
