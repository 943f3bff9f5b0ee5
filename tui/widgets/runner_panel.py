"""One runner's live panel: who it is, where it is, how fast and how well it trains."""

from __future__ import annotations

import textwrap

from textual.binding import Binding
from textual.content import Content
from textual.geometry import Region, Size
from textual.markup import escape
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from runners.nvml_monitor import GpuSnapshot
from tui.formatting import (
    SHORT_NAMES,
    fmt_bytes,
    fmt_duration_ms,
    fmt_eta,
    fmt_loss,
    fmt_rate,
    meter,
)
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


SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ACTIVE_PHASES = ("importing", "building", "warmup", "training")


class RunnerPanel(Widget, can_focus=True):
    """Attributes down: the app calls ``show(...)``; the panel only draws.

    Textual's line API: each row is drawn once into a cached strip and only the
    rows whose text changed are repainted. At 200 events/s a runner's step, loss
    and speed change every frame while its device, timing and memory rows do not;
    redrawing (and recompositing) all of them each frame was most of the
    dashboard's CPU time.
    """

    # Here, not on the app: the scrolling body would take the arrows first.
    BINDINGS = [
        Binding("left,up", "app.focus_previous", "Previous runner", show=False),
        Binding("right,down", "app.focus_next", "Next runner", show=False),
    ]

    def __init__(self, runner: str, total_steps: int, colour: str, **kwargs):
        super().__init__(**kwargs)
        self.runner = runner
        self.total_steps = total_steps
        self.colour = colour
        self.lines: dict[str, str] = {}  # line name -> its markup, as last shown
        self._rows: list[str] = []  # the markup of each row on screen
        self._strips: list[Strip] = []  # each row drawn, at ``_strips_width``
        self._strips_width = -1
        self._last: tuple | None = None
        # As set, to compare with: the border_title property reads back re-written markup.
        self._labels = (self._title(sharing=False), "")
        self.border_title = self._labels[0]

    def _title(self, sharing: bool) -> str:
        return f"[{self.colour}]■[/] {self.runner}" + (" ⇄ shares device" if sharing else "")

    def line(self, name: str) -> str:
        """A line as plain text (for tests and the detail screen)."""
        return Content.from_markup(self.lines.get(name, "")).plain

    def show(self, state: RunnerState, gpu: GpuSnapshot | None, host_memory: int | None, frame: int | None,
             compact: bool = False) -> None:
        """``frame`` turns the spinner (None: a still dot, for snapshots); ``compact`` drops detail lines."""
        self._last = (state, gpu, host_memory, frame, compact)
        self.set_class(state.phase == "failed", "-failed")
        self.set_class(state.phase == "done", "-done")
        self.set_class(state.phase in ACTIVE_PHASES, "-active")
        self.set_class(state.phase == "paused", "-paused")
        title = self._title(bool(state.sharing_with))
        label = PHASE_LABELS.get(state.phase, state.phase)
        # Each setter parses markup and redraws the whole border: only when it changed.
        if title != self._labels[0]:
            self.border_title = title
        if label != self._labels[1]:
            self.border_subtitle = label
        self._labels = (title, label)
        on_cpu = state.hello is not None and state.hello.gpu is None
        width = max(20, self.size.width)
        lines = {
            "meta": _meta_line(state),
            "progress": _progress_line(state, width, frame),
            "loss": _loss_line(state),
            "speed": _speed_line(state),
            "timing": _timing_line(state),
            "host": _host_line(state, host_memory),
            "gpu": _gpu_line(state, gpu),
        }
        if compact:  # a short terminal: keep the figures, drop the details
            del lines["meta"], lines["timing"]
            if on_cpu:
                del lines["gpu"]
        if state.error is not None:
            message = f"{state.error.error_type}: {state.error.message}"
            lines["error"] = "\n".join(
                f"[b $error]{escape(part)}[/]" for part in textwrap.wrap(message, width)[:3]
            )
        if lines != self.lines:
            self.lines = lines
            self._show_rows("\n".join(lines.values()).split("\n"))

    def _show_rows(self, rows: list[str]) -> None:
        if len(rows) != len(self._rows):
            # A new layout only when the panel's height changes: re-laying out the screen repaints all of it.
            self._rows, self._strips_width = rows, -1
            self.refresh(layout=True)
            return
        for y, (old, new) in enumerate(zip(self._rows, rows)):
            if old != new:
                self._rows[y] = new
                if self._strips_width >= 0:
                    self._strips[y] = self._draw(new, self._strips_width)
                self.refresh(Region(0, y, self.size.width, 1))

    def _draw(self, row: str, width: int) -> Strip:
        strips = Visual.to_strips(self, Content.from_markup(row), width, 1, self.visual_style)
        return strips[0] if strips else Strip.blank(width, self.visual_style.rich_style)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._strips_width:  # first draw, a resize or a new theme: every row again
            self._strips = [self._draw(row, width) for row in self._rows]
            self._strips_width = width
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rows)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_width = -1  # colours come from the stylesheet and theme

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)  # the progress bar spans the new width


def _progress_line(state: RunnerState, width: int, frame: int | None) -> str:
    """"⠹ step 120/200 ━━━━━━━╺━━━━ ETA 0:12": the bar takes what the figures leave.

    The spinner sits on this row, not in the border: the row changes every frame
    anyway, while a new border title redraws the whole panel.
    """
    spinner = ""
    if state.phase in ACTIVE_PHASES:
        spinner = (SPINNER[frame % len(SPINNER)] if frame is not None else "●") + " "
    left, right = f"{spinner}step {state.steps_done}/{state.total_steps} ", f" {_eta(state)}"
    room = max(4, width - len(left) - len(Content.from_markup(right).plain))
    done = round(room * min(1.0, state.steps_done / state.total_steps)) if state.total_steps else 0
    # Two glyphs, not only two colours: the bar reads without colour too.
    return f"{left}[$accent]{'━' * done}[/][dim]{'─' * (room - done)}[/dim]{right}"


def _eta(state: RunnerState) -> str:
    if state.phase == "done":
        return "[b]✓[/b]"
    if state.phase == "paused":
        return "paused"
    eta = state.eta_s
    return f"ETA {fmt_eta(eta)}" if eta is not None else "ETA –"


def _loss_line(state: RunnerState) -> str:
    if state.current_loss is None:
        return "[dim]loss –[/dim]"
    return (
        f"loss [b]{fmt_loss(state.current_loss)}[/b] · smoothed {fmt_loss(state.smoothed_loss)}"
        f" · start {fmt_loss(state.first_loss)}"
    )


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


def _timing_line(state: RunnerState) -> str:
    parts = []
    if state.startup_s is not None:
        parts.append(f"start-up {state.startup_s:.1f} s")
    if state.warmup_s:
        parts.append(f"compile/warm-up {state.warmup_s:.1f} s")
    if state.achieved_flops is not None:
        parts.append(f"{state.achieved_flops / 1e12:.3g} TFLOP/s")
    if state.mfu is not None:
        parts.append(f"MFU {state.mfu:.0%}")
    return " · ".join(parts) or "[dim]start-up –[/dim]"


def _speed_line(state: RunnerState) -> str:
    mean = state.mean_step_time_s
    if mean is None:
        latest = state.latest
        if latest is None:
            return "[dim]step time –[/dim]"
        return f"[dim]warm-up step {fmt_duration_ms(latest.step_time_s)}[/dim]"
    value, unit = state.throughput
    # The rate, the steady-state mean step it follows, then the spread over windows.
    return (
        f"[b]{fmt_rate(value)}[/b] {unit} · step [b]{fmt_duration_ms(mean)}[/b]"
        f" (med {fmt_duration_ms(state.median_step_time_s)[:-3]} · p90 {fmt_duration_ms(state.p90_step_time_s)[:-3]})"
    )


def _host_line(state: RunnerState, host_memory: int | None) -> str:
    """CPU against the threads the runner was given; RSS against the machine's memory."""
    host, hello = state.host, state.hello
    if host is None:
        latest = state.latest
        rss = latest.rss_bytes if latest else None
        return f"cpu n/a · RSS {fmt_bytes(rss)} (recorded)" if rss else "[dim]cpu – · RSS –[/dim]"
    threads = hello.threads if hello else 1
    cpu = f"cpu {meter(host.cpu_percent / (100 * threads), 6)} {host.cpu_percent:.0f}%"
    rss_share = host.rss_bytes / host_memory if host_memory else None
    return f"{cpu} · RSS {meter(rss_share, 6)} {fmt_bytes(host.rss_bytes)} (peak {fmt_bytes(state.peak_rss_bytes)})"


def _gpu_line(state: RunnerState, gpu: GpuSnapshot | None) -> str:
    hello, latest = state.hello, state.latest
    if hello is not None and hello.gpu is None:
        return "[dim]gpu – (runs on the cpu)[/dim]"
    parts = []
    if gpu is not None and gpu.available and state.gpu is not None:
        parts.append(_gpu_meters(state, gpu))
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
    return "gpu " + " · ".join(parts)


def _gpu_meters(state: RunnerState, gpu: GpuSnapshot) -> str:
    """NVML's view: the runner's memory against its device's, and its SM utilisation."""
    used, sm = state.gpu.used_bytes, state.gpu.sm_utilization
    totals = {d.index: d.memory_total for d in gpu.devices}
    total = totals.get(state.gpu.devices[0]) if state.gpu.devices else None
    if used.ok:
        share = used.value / total.value if total is not None and total.ok and total.value else None
        memory = f"mem {meter(share, 6)} {fmt_bytes(used.value)}"
    else:
        memory = f"mem n/a: {used.reason}"
    util = f"sm {meter(sm.value / 100, 6)} {sm.value}%" if sm.ok else f"sm n/a: {sm.reason}"
    return f"{memory} · {util}"
