"""One runner's live panel: who it is, where it is, how fast and how well it trains."""

from __future__ import annotations

import textwrap

from textual.binding import Binding
from textual.content import Content

from runners.session.verdict.confidence import spread
from runners.session.planning.device_check import device_kind
from runners.session.state.formatting import (
    SHORT_NAMES,
    fmt_bytes,
    fmt_duration_ms,
    fmt_eta,
    fmt_loss,
    fmt_rate,
    fmt_steps,
    meter,
)
from runners.session.monitoring.nvml_monitor import GpuSnapshot
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.summary import metric_text
from tui.widgets import serving_lines
from tui.widgets.rows_view import RowsView

PHASE_LABELS = {
    "starting": "starting",
    "queued": "queued",
    "waiting": "waiting for its turn",
    "importing": "importing framework",
    "building": "building model",
    "warmup": "compiling / warm-up",
    "training": "training",
    "done": "done",
    "failed": "FAILED",
    "stopped": "stopped",
}


# The same phases in a word, for the two-line panels of a short terminal.
COMPACT_LABELS = {**PHASE_LABELS, "waiting": "waiting", "importing": "importing", "building": "building",
                  "warmup": "compiling"}

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ACTIVE_PHASES = ("importing", "building", "warmup", "training")


class RunnerPanel(RowsView, can_focus=True):
    """Attributes down: the app calls ``show(...)``; the panel only draws.

    A runner's step and loss change every frame while its device, timing and
    memory rows do not: as a ``RowsView`` only the changed rows are repainted.
    """

    # Here, not on the app: the scrolling body would take the arrows first.
    BINDINGS = [
        Binding("left,up", "app.focus_previous", "Previous runner", show=False),
        Binding("right,down", "app.focus_next", "Next runner", show=False),
    ]

    def __init__(self, runner: str, total_steps: int, colour: str, device: str | None = None, target=None,
                 serving: bool = False, **kwargs):
        """``device``: the run's device ("cpu" or "cuda"); a runner whose hello names another kind is marked.
        ``target``: the run's --target (a ``Target``), whose time to reach the panel shows. ``serving``: a serving
        path's panel (`kvp-dash infer`): latencies and the export's cost instead of loss and step time."""
        super().__init__(**kwargs)
        self.serving = serving
        self.runner = runner
        self.target = target
        self.device = device
        self.total_steps = total_steps
        self.colour = colour
        self.lines: dict[str, Content] = {}  # line name -> its content, as last shown
        self._last: tuple | None = None
        self._figures: dict[str, Content] | None = None  # the slow rows, as last worked out
        self.stale = False
        # As set, to compare with: the border_title property reads back re-written markup.
        self._labels = (self._title(sharing=False), "")
        self.border_title = self._labels[0]

    def _title(self, sharing: bool, other_device: bool = False) -> str:
        return (f"[{self.colour}]■[/] {self.runner}" + (" ⇄ shares device" if sharing else "")
                + (" ⚠ other device: not in the verdict" if other_device else ""))

    def line(self, name: str) -> str:
        """A line as plain text (for tests and the detail screen)."""
        return self.lines[name].plain if name in self.lines else ""

    def show(self, state: RunnerState, gpu: GpuSnapshot | None, host_memory: int | None, frame: int | None,
             compact: bool = False, figures: bool = True) -> None:
        """``frame`` turns the spinner (None: a still dot, for snapshots); ``compact`` drops detail lines.

        ``figures`` False keeps every row but progress and loss as last shown: the
        steady-state means move a little with every step, the device, CPU and memory
        rows with each sample, and the app redraws them about once a second rather than
        every frame. ``stale`` then says they are behind the data.
        """
        self._last = (state, gpu, host_memory, frame, compact)
        serving = self.serving
        if figures or self._figures is None:
            self._figures = {
                "meta": _meta_line(state),
                "speed": serving_lines.throughput_line(state) if serving else _speed_line(state),
                "timing": serving_lines.export_line(state) if serving else _timing_line(state),
                "host": _host_line(state, host_memory), "gpu": _gpu_line(state, gpu),
            }
        self.stale = not figures
        self.set_class(state.phase == "failed", "-failed")
        self.set_class(state.phase == "done", "-done")
        self.set_class(state.phase in ACTIVE_PHASES, "-active")
        self.set_class(state.held, "-paused")
        other_device = bool(self.device and state.hello and device_kind(state.hello.device) != device_kind(self.device))
        title = self._title(bool(state.sharing_with), other_device)
        # Its figures average a moving target. A serving path's windows alternate batch sizes: its steady states are
        # found a batch size at a time (runners.session.state.serving), not over them all.
        unsteady = " · no steady state" if not self.serving and not state.steady_state.steady else ""
        # A serving path builds, exports and warms up while "building", and serves while "training".
        words = {"training": "serving", "building": "building, exporting"} if self.serving else {}
        label = words.get(state.phase, PHASE_LABELS.get(state.phase, state.phase)) + unsteady
        # Each setter parses markup and redraws the whole border: only when it changed.
        if title != self._labels[0]:
            self.border_title = title
        if label != self._labels[1]:
            self.border_subtitle = label
        self._labels = (title, label)
        width = max(20, self.size.width)
        self.set_class(compact, "-compact")
        if compact:  # a short terminal: two lines a runner, so every runner's news stays on screen
            compact_label = words.get(state.phase, COMPACT_LABELS.get(state.phase, state.phase)) + unsteady
            lines = _compact_lines(self.runner, self.colour, compact_label, state, gpu, width, frame, self.serving)
            if lines != self.lines:
                self.lines = lines
                self.set_rows(list(lines.values()))
            return
        slow = self._figures
        lines = {
            "meta": slow["meta"],
            "progress": _progress_line(state, width, frame),
            "loss": serving_lines.latency_line(state) if serving else _loss_line(state),
            "validation": _validation_line(state, self.target),
            "speed": slow["speed"],
            "timing": slow["timing"],
            "host": slow["host"],
            "gpu": slow["gpu"],
        }
        if not state.evaluations and self.target is None:
            del lines["validation"]  # nothing evaluated yet: no empty row
        rows = list(lines.values())
        if state.error is not None:
            message = f"{state.error.error_type}: {state.error.message}"
            parts = [Content.styled(part, "bold $error") for part in textwrap.wrap(message, width)[:3]]
            lines["error"] = Content("\n").join(parts)
            rows += parts
        if lines != self.lines:
            self.lines = lines
            self.set_rows(rows)

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)  # the progress bar spans the new width


def _compact_lines(runner: str, colour: str, label: str, state: RunnerState, gpu: GpuSnapshot | None,
                   width: int, frame: int | None, serving: bool = False) -> dict[str, Content]:
    """Two lines: "■ keras/jax · training · step 120/200 ━━━── 0:12" and "loss 0.41 · 12,345 samples/s ·
    cpu 180% · 1.1 GiB" (a GPU's SM use and memory on a GPU); a failed runner's second line is its error."""
    spinner = _spinner(state, frame)
    fraction, words = state.progress, fmt_steps(state)
    style = "bold $error" if state.phase == "failed" else ("bold $warning" if state.phase in ACTIVE_PHASES else "bold")
    # --input native: the pipeline's name ("tf.data", "DataLoader", "PyDataset"), what the panels differ by.
    pipeline = f" · {state.hello.input_pipeline.split(',')[0]}" if state.hello and state.hello.input_pipeline else ""
    head = Content.assemble(("■ ", colour), (runner, "bold"), pipeline, " · ", (label, style), f" · {spinner}{words} ")
    right = _eta(state)
    room = width - head.cell_length - 1 - right.cell_length
    if room >= 4:
        done = round(room * fraction)
        first = Content.assemble(head, ("━" * done, "$accent"), ("─" * (room - done), "dim"), " ", right)
    else:
        first = head
    if state.error is not None:
        second = Content.styled(f"{state.error.error_type}: {state.error.message}", "bold $error")
        return {"progress": first, "error": second}
    if serving:
        return {"progress": first, "serving": serving_lines.compact_line(state)}
    parts: list = ["loss ", _bold(fmt_loss(state.current_loss))]
    value, unit = state.throughput
    if value:
        rate = f"{value / 1000:.1f}k" if value >= 10_000 else fmt_rate(value)
        parts += [" · ", _bold(rate), f" {unit}"]
    if state.input_wait_share is not None:
        parts.append(f" · input wait {state.input_wait_share:.0%}")
    hello = state.hello
    if hello is not None and hello.gpu is not None and gpu is not None and gpu.available and state.gpu is not None:
        sm, used = state.gpu.sm_utilization, state.gpu.used_bytes
        parts.append(f" · sm {sm.value}%" if sm.ok else " · sm n/a")
        parts.append(f" · {fmt_bytes(used.value)}" if used.ok else "")
    elif state.ended and state.peak_rss_bytes:  # its processes are gone: what it held at most
        parts.append(f" · peak {fmt_bytes(state.peak_rss_bytes)}")
    elif state.host is not None:
        parts.append(f" · cpu {state.host.cpu_percent:.0f}% · {fmt_bytes(state.host.rss_bytes)}")
    elif state.latest is not None and state.latest.rss_bytes:
        parts.append(f" · {fmt_bytes(state.latest.rss_bytes)} (recorded)")
    return {"progress": first, "figures": Content.assemble(*parts)}


def _dim(text: str) -> Content:
    return Content.styled(text, "dim")


def _bold(text: str) -> tuple[str, str]:
    return text, "bold"


# Rows are assembled from pieces, not written as markup: parsing markup for every
# row of every panel each frame cost more than drawing them.


def _progress_line(state: RunnerState, width: int, frame: int | None) -> Content:
    """"⠹ step 120/200 ━━━━━━━━━━━───── ETA 0:12": the bar takes what the figures leave.

    The spinner sits on this row, not in the border: the row changes every frame
    anyway, while a new border title redraws the whole panel.
    """
    spinner = _spinner(state, frame)
    fraction, words = state.progress, f"step {fmt_steps(state)}"
    left, right = f"{spinner}{words} ", _eta(state)
    room = max(4, width - len(left) - 1 - right.cell_length)
    done = round(room * fraction)
    # Two glyphs, not only two colours: the bar reads without colour too.
    return Content.assemble(left, ("━" * done, "$accent"), ("─" * (room - done), "dim"), " ", right)


def _spinner(state: RunnerState, frame: int | None) -> str:
    """A turning spinner while the runner works (a still dot for snapshots), nothing otherwise."""
    if state.phase not in ACTIVE_PHASES:
        return ""
    return (SPINNER[frame % len(SPINNER)] if frame is not None else "●") + " "


def _eta(state: RunnerState) -> Content:
    if state.phase == "done":
        return Content.styled("✓", "bold")
    if state.held:
        return Content(state.phase)  # paused, or waiting for its turn
    eta = state.eta_s
    return Content(f"ETA {fmt_eta(eta)}" if eta is not None else "ETA –")


def _loss_line(state: RunnerState) -> Content:
    if state.current_loss is None:
        return _dim("loss –")
    return Content.assemble(
        "loss ", _bold(fmt_loss(state.current_loss)),
        f" · smoothed {fmt_loss(state.smoothed_loss)} · start {fmt_loss(state.first_loss)}",
    )


def _validation_line(state: RunnerState, target) -> Content:
    """"val loss 0.412 · acc 87.5% · target 12.3 s": evaluated apart from training, short enough for a
    narrow panel (the step it was taken after is on the detail screen's chart and in the summary)."""
    ev = state.evaluation
    parts: list = []
    if ev is None:
        parts.append(_dim("val –"))
    else:
        parts += ["val loss ", _bold(f"{ev.loss:.3f}"), " · ", _bold(metric_text(ev.metric_name, ev.metric, short=True))]
    if target is not None:
        seconds = state.time_to_target(target)
        if seconds is not None:
            parts += [" · target ", _bold(f"{seconds:.1f} s")]
        else:
            parts.append(_dim(" · target not hit" if state.ended else " · target –"))
    return Content.assemble(*parts)


def _meta_line(state: RunnerState) -> Content:
    hello = state.hello
    if hello is None:
        return _dim("waiting for the runner to report…")
    libs = " · ".join(
        f"{SHORT_NAMES.get(k, k)} {v}" for k, v in hello.versions.items() if k != "python"
    )
    precision = hello.precision + (" tf32" if hello.tf32 == "on" else "")
    # What decides speed first (device, compiler, precision); versions last, where a narrow panel cuts.
    device = hello.device + (f" ×{hello.devices}" if hello.devices > 1 else "")
    engine = f" · {engine_name(hello)}" if hello.distribution else ""
    pipeline = f" · {hello.input_pipeline}" if hello.input_pipeline else ""
    return Content.assemble(_bold(device), f"{engine} · {hello.compiler} · {precision}{pipeline} · {libs}")


def engine_name(hello) -> str:
    """The data-parallel engine's short name, for a narrow panel: "DDP via torchrun", "MirroredStrategy",
    "DataParallel" (the detail screen has it whole, with its settings)."""
    return (hello.distribution or "").split(" · ")[0].rsplit(".", 1)[-1]


def _timing_line(state: RunnerState) -> Content:
    parts = []
    if state.startup_s is not None:
        parts.append(f"start-up {state.startup_s:.1f} s")
    if state.warmup_s:
        parts.append(f"compile/warm-up {state.warmup_s:.1f} s")
    rates = state.turn_rates()
    noise = spread(rates)
    if noise is not None:  # its own noise floor: a ratio to another runner means little inside it
        parts.append(f"turns ±{noise:.1%} ({len(rates)})")
    if state.achieved_flops is not None:
        parts.append(f"{state.achieved_flops / 1e12:.3g} TFLOP/s")
    if state.mfu is not None:
        parts.append(f"MFU {state.mfu:.0%}")
    return Content(" · ".join(parts)) if parts else _dim("start-up –")


def _speed_line(state: RunnerState) -> Content:
    mean = state.mean_step_time_s
    if mean is None:
        latest = state.latest
        if latest is None:
            return _dim("step time –")
        return _dim(f"warm-up step {fmt_duration_ms(latest.step_time_s)}")
    value, unit = state.throughput
    # The rate, the steady-state mean step it follows, then the spread over windows.
    return Content.assemble(
        _bold(fmt_rate(value)), f" {unit} · step ", _bold(fmt_duration_ms(mean)),
        f" (med {fmt_duration_ms(state.median_step_time_s)[:-3]} · p90 {fmt_duration_ms(state.p90_step_time_s)[:-3]})",
    )


def _host_line(state: RunnerState, host_memory: int | None) -> Content:
    """CPU against the threads the runner was given; RSS against the machine's memory."""
    host, hello = state.host, state.hello
    if host is None:
        latest = state.latest
        rss = latest.rss_bytes if latest else None
        return Content(f"cpu n/a · RSS {fmt_bytes(rss)} (recorded)") if rss else _dim("cpu – · RSS –")
    threads = hello.threads if hello else 1
    cpu = f"cpu {meter(host.cpu_percent / (100 * threads), 6)} {host.cpu_percent:.0f}%"
    rss_share = host.rss_bytes / host_memory if host_memory else None
    return Content(
        f"{cpu} · RSS {meter(rss_share, 6)} {fmt_bytes(host.rss_bytes)} (peak {fmt_bytes(state.peak_rss_bytes)})"
        + _input_wait(state)
    )


def _input_wait(state: RunnerState) -> str:
    """" · input wait 12%": a runner fed by its input pipeline (--input native); where the batch is fetched inside
    tf.data's graph the wait is not seen, and it says so."""
    if state.hello is None or not state.hello.input_pipeline:
        return ""
    share = state.input_wait_share
    return f" · input wait {share:.0%}" if share is not None else " · input wait not seen inside tf.data"


def _gpu_line(state: RunnerState, gpu: GpuSnapshot | None) -> Content:
    hello, latest = state.hello, state.latest
    if hello is not None and hello.gpu is None:
        return _dim("gpu – (runs on the cpu)")
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
    return Content("gpu " + " · ".join(parts))


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
