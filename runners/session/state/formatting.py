"""How a figure reads, in every view of a run: the dashboard, the console, messages. One place decides."""

from __future__ import annotations


def fmt_bytes(value: int | None) -> str:
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit in ("B", "KiB", "MiB") else f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TiB"


def fmt_duration_ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def fmt_latency(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:  # at most 7 characters: a column's width
        return f"{seconds * 1e3:.2f} ms" if seconds < 0.01 else f"{seconds * 1e3:.1f} ms" if seconds < 0.1 \
            else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_size(size: int | None) -> str:
    """An artifact's size; "–" for none."""
    return fmt_bytes(size) if size else "–"


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_loss(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def fmt_span(seconds: float) -> str:
    """A time to come, in words: "40 s", "4 min", "1.5 h"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def meter(fraction: float | None, width: int = 8) -> str:
    """A bar of full and light blocks: readable without colour (NO_COLOR, 16 colours, a projector)."""
    if fraction is None:
        return "·" * width
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


# Panels are 34 columns wide at 80x24 and a chart border holds four names: "tensorflow" is long.
SHORT_NAMES = {"tensorflow": "tf", "keras_hub": "keras-hub"}


def short_name(runner: str) -> str:
    """keras/tensorflow → k/tf, for legends and narrow tables."""
    framework, _, backend = runner.partition("/")
    if framework == "keras":
        return "k/" + SHORT_NAMES.get(backend, backend)
    return runner


def fmt_steps(state) -> str:
    """A runner's progress (``RunnerState``) in words: "120/200" steps, or "1,234 · 12/20 s" of a --duration budget."""
    if not state.duration_s:
        return f"{state.steps_done}/{state.total_steps}"
    seconds = f"{state.timed_s:.0f} s" if state.phase == "done" else f"{state.timed_s:.0f}/{state.duration_s:g} s"
    return f"{state.steps_done:,} · {seconds}"
