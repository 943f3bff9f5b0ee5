"""One runner's live panel: who it is, where it is, how fast and how well it trains."""

from __future__ import annotations

import statistics

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Sparkline, Static

from runners.nvml_monitor import GpuSnapshot
from tui.formatting import fmt_bytes, fmt_count, fmt_duration_ms, fmt_loss, fmt_rate
from tui.state import RunnerState

PHASE_LABELS = {
    "starting": "starting",
    "queued": "queued",
    "importing": "importing framework",
    "building": "building model",
    "warmup": "compiling / warm-up",
    "training": "training",
    "done": "done",
    "failed": "FAILED",
    "stopped": "stopped",
}
# Panels are 34 columns wide at 80x24: long library names would push versions off the edge.
SHORT_NAMES = {"tensorflow": "tf"}


class RunnerPanel(Vertical, can_focus=True):
    """Attributes down: the app calls ``show(state, gpu)``; the panel only draws."""

    def __init__(self, runner: str, total_steps: int, **kwargs):
        super().__init__(**kwargs)
        self.runner = runner
        self.total_steps = total_steps
        self.border_title = runner

    def compose(self) -> ComposeResult:
        yield Static("", classes="meta")
        yield Static("", classes="model")
        with Horizontal(classes="progress"):
            yield Static("", classes="steps")
            yield ProgressBar(total=self.total_steps, show_eta=False)
        yield Static("", classes="phase")
        yield Static("", classes="speed")
        yield Static("", classes="throughput")
        yield Static("", classes="memory")
        yield Static("", classes="gpu")
        yield Static("", classes="loss")
        yield Sparkline([], summary_function=statistics.fmean)
        yield Static("", classes="error")

    def show(self, state: RunnerState, gpu: GpuSnapshot | None) -> None:
        self.set_class(state.phase == "failed", "-failed")
        self.set_class(state.phase == "done", "-done")
        self.set_class(state.phase in ("warmup", "training"), "-active")
        self.set_class(state.hello is not None and state.hello.gpu is None, "-on-cpu")
        self.border_title = self.runner + (" ⇄ shares device" if state.sharing_with else "")
        self.border_subtitle = PHASE_LABELS.get(state.phase, state.phase)
        self.query_one(".meta", Static).update(_meta_line(state))
        self.query_one(".model", Static).update(_model_line(state))
        self.query_one(".steps", Static).update(f"step {state.steps_done}/{state.total_steps}")
        self.query_one(ProgressBar).update(progress=state.steps_done)
        self.query_one(".phase", Static).update(_phase_line(state))
        self.query_one(".speed", Static).update(_speed_line(state))
        self.query_one(".throughput", Static).update(_throughput_line(state))
        self.query_one(".memory", Static).update(_memory_line(state))
        self.query_one(".gpu", Static).update(_gpu_line(state, gpu))
        self.query_one(".loss", Static).update(
            f"loss [b]{fmt_loss(state.loss)}[/b]"
            + (f"  (step 0: {fmt_loss(state.losses[0])})" if state.losses else "")
        )
        # A new list, not the state's own: the reactive only redraws when the value changes identity.
        self.query_one(Sparkline).data = list(state.losses)
        error = self.query_one(".error", Static)
        error.display = state.error is not None
        if state.error is not None:
            error.update(f"{state.error.error_type}: {state.error.message}")


def _meta_line(state: RunnerState) -> str:
    hello = state.hello
    if hello is None:
        return "[dim]waiting for the runner to report…[/dim]"
    libs = " · ".join(
        f"{SHORT_NAMES.get(k, k)} {v}" for k, v in hello.versions.items() if k != "python"
    )
    precision = hello.precision + (" tf32" if hello.tf32 == "on" else "")
    # What decides speed first (device, compiler, precision); versions last, where a narrow panel cuts.
    return f"[b]{hello.device}[/b] · {hello.compiler} · {precision} · {libs}"


def _model_line(state: RunnerState) -> str:
    hello = state.hello
    if hello is None:
        return ""
    cpus = ",".join(map(str, hello.cpus))
    line = f"{fmt_count(hello.params)} params · cpu {cpus} ({hello.threads} thr) · pid {hello.pid}"
    if state.sharing_with:
        line += f" · shares with {', '.join(state.sharing_with)}"
    return line


def _phase_line(state: RunnerState) -> str:
    parts = []
    if state.startup_s is not None:
        parts.append(f"start-up {state.startup_s:.1f} s")
    if state.warmup_s:
        parts.append(f"warm-up {state.warmup_s:.1f} s")
    return " · ".join(parts) or "[dim]start-up –[/dim]"


def _speed_line(state: RunnerState) -> str:
    mean = state.mean_step_time_s
    if mean is None:
        latest = state.latest
        if latest is None:
            return "[dim]step time –[/dim]"
        return f"[dim]warm-up step {fmt_duration_ms(latest.step_time_s)}[/dim]"
    # Steady-state mean, then the spread over windows (median, p90), units once.
    return (
        f"step [b]{fmt_duration_ms(mean)}[/b] · med {fmt_duration_ms(state.median_step_time_s)[:-3]} "
        f"· p90 {fmt_duration_ms(state.p90_step_time_s)[:-3]}"
    )


def _throughput_line(state: RunnerState) -> str:
    if state.samples_per_s is None:
        return "[dim]throughput –[/dim]"
    value, unit = state.throughput
    line = f"[b]{fmt_rate(value)}[/b] {unit}"
    if state.achieved_flops is not None:
        line += f" · {state.achieved_flops / 1e12:.3g} TFLOP/s"
    if state.mfu is not None:
        line += f" · MFU {state.mfu:.0%}"
    return line


def _memory_line(state: RunnerState) -> str:
    host = state.host
    if host is None:
        latest = state.latest
        rss = latest.rss_bytes if latest else None
        return f"RSS {fmt_bytes(rss)}" if rss else "[dim]RSS –[/dim]"
    return f"RSS {fmt_bytes(host.rss_bytes)} · cpu {host.cpu_percent:.0f}% · peak {fmt_bytes(state.peak_rss_bytes)}"


def _gpu_line(state: RunnerState, gpu: GpuSnapshot | None) -> str:
    hello, latest = state.hello, state.latest
    if hello is not None and hello.gpu is None:
        return "[dim]gpu – (runs on the cpu)[/dim]"
    parts = []
    if latest is not None and latest.device_bytes is not None:
        fw = f"fw {fmt_bytes(latest.device_bytes)}"
        if latest.device_peak_bytes is not None:
            fw += f" (peak {fmt_bytes(latest.device_peak_bytes)})"
        if latest.device_reserved_bytes is not None:
            fw += f", pool {fmt_bytes(latest.device_reserved_bytes)}"
        parts.append(fw)
    if gpu is None:
        parts.append("nvml –")
    elif not gpu.available:
        parts.append(f"nvml n/a: {gpu.reason}")
    elif state.gpu is not None:
        used, sm = state.gpu.used_bytes, state.gpu.sm_utilization
        parts.append(f"nvml {fmt_bytes(used.value)}" if used.ok else f"nvml n/a: {used.reason}")
        parts.append(f"sm {sm.value}%" if sm.ok else f"sm n/a: {sm.reason}")
    return "gpu " + " · ".join(parts)
