"""One runner's live panel: who it is, where it is, how fast and how well it trains."""

from __future__ import annotations

import statistics

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Sparkline, Static

from tui.formatting import fmt_bytes, fmt_count, fmt_duration_ms, fmt_loss, fmt_rate
from tui.state import RunnerState

PHASE_LABELS = {
    "starting": "starting",
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
    """Attributes down: the app calls ``show(state)``; the panel only draws."""

    def __init__(self, runner: str, total_steps: int, **kwargs):
        super().__init__(**kwargs)
        self.runner = runner
        self.total_steps = total_steps
        self.border_title = runner

    def compose(self) -> ComposeResult:
        yield Static("", classes="meta")
        yield Static("", classes="model")
        yield Static("", classes="phase")
        yield ProgressBar(total=self.total_steps, show_eta=False)
        yield Static("", classes="speed")
        yield Static("", classes="memory")
        yield Static("", classes="loss")
        yield Sparkline([], summary_function=statistics.fmean)
        yield Static("", classes="error")

    def show(self, state: RunnerState) -> None:
        self.set_class(state.phase == "failed", "-failed")
        self.set_class(state.phase == "done", "-done")
        self.set_class(state.phase in ("warmup", "training"), "-active")
        self.border_subtitle = PHASE_LABELS.get(state.phase, state.phase)
        self.query_one(".meta", Static).update(_meta_line(state))
        self.query_one(".model", Static).update(_model_line(state))
        self.query_one(".phase", Static).update(_phase_line(state))
        self.query_one(ProgressBar).update(progress=state.steps_done)
        self.query_one(".loss", Static).update(
            f"loss [b]{fmt_loss(state.loss)}[/b]"
            + (f"  (step 0: {fmt_loss(state.losses[0])})" if state.losses else "")
        )
        # A new list, not the state's own: the reactive only redraws when the value changes identity.
        self.query_one(Sparkline).data = list(state.losses)
        self.query_one(".speed", Static).update(_speed_line(state))
        self.query_one(".memory", Static).update(_memory_line(state))
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
    return f"[b]{hello.device}[/b] · {libs}"


def _model_line(state: RunnerState) -> str:
    hello = state.hello
    if hello is None:
        return ""
    cpus = ",".join(map(str, hello.cpus))
    return f"{fmt_count(hello.params)} params · cpu {cpus} ({hello.threads} thr) · pid {hello.pid}"


def _phase_line(state: RunnerState) -> str:
    line = f"step {state.steps_done}/{state.total_steps}"
    if state.warmup_s:
        line += f" · warm-up {state.warmup_s:.1f} s"
    return line


def _speed_line(state: RunnerState) -> str:
    median = state.median_step_time_s
    if median is None:
        latest = state.latest
        if latest is None:
            return "[dim]step time –[/dim]"
        return f"[dim]warm-up step {fmt_duration_ms(latest.step_time_s)}[/dim]"
    return (
        f"med [b]{fmt_duration_ms(median)}[/b]/step · "
        f"[b]{fmt_rate(state.samples_per_s)}[/b] samples/s"
    )


def _memory_line(state: RunnerState) -> str:
    latest = state.latest
    if latest is None:
        return "[dim]memory –[/dim]"
    parts = []
    if latest.device_bytes is not None:
        parts.append(f"device {fmt_bytes(latest.device_bytes)} (framework)")
    parts.append(f"RSS {fmt_bytes(latest.rss_bytes)}")
    return "mem " + " · ".join(parts)
