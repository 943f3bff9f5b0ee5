"""A serving path's rows in its panel: latency percentiles at each batch size, and what its export cost."""

from __future__ import annotations

from textual.content import Content

from runners.session.state.formatting import fmt_bytes, fmt_latency
from runners.session.state.runner_state import RunnerState


def latency_line(state: RunnerState) -> Content:
    """"p50/p99 · b1 30 µs/68 µs · b8 42 µs/83 µs"."""
    by_batch = state.serving.by_batch
    if not by_batch:
        return Content.styled("p50/p99 –", "dim")
    parts = [f"b{size} {fmt_latency(f.percentile(0.5, state.ended))}/{fmt_latency(f.percentile(0.99, state.ended))}"
             for size, f in sorted(by_batch.items())]
    return Content("p50/p99 · " + " · ".join(parts))


def throughput_line(state: RunnerState) -> Content:
    by_batch = state.serving.by_batch
    if not by_batch:
        return Content.styled("samples/s –", "dim")
    parts = [f"b{size} {rate:,.0f}" for size, f in sorted(by_batch.items())
             if (rate := f.throughput(state.ended))]
    return Content("samples/s · " + " · ".join(parts))


def export_line(state: RunnerState) -> Content:
    e = state.export
    if e is None:
        return Content.styled("export –", "dim")
    parts = []
    if e.artifact:
        parts.append(f"export {e.export_s:.1f} s · {fmt_bytes(e.artifact_bytes)}")
    else:
        parts.append("served as built")
    parts.append(f"load {e.load_s:.2f} s · warm-up {e.warmup_s:.2f} s · {e.precision}")
    return Content(" · ".join(parts))


def compact_line(state: RunnerState) -> Content:
    """One line for a short terminal: the smallest batch's p50, the largest's throughput, the artifact."""
    by_batch = state.serving.by_batch
    if not by_batch:
        return export_line(state)
    small, large = by_batch[min(by_batch)], by_batch[max(by_batch)]
    rate = large.throughput(state.ended)
    parts = [f"p50 {fmt_latency(small.percentile(0.5, state.ended))} @{small.batch_size}",
             f"{rate:,.0f}/s @{large.batch_size}" if rate else "–"]
    if state.export is not None and state.export.artifact_bytes:
        parts.append(fmt_bytes(state.export.artifact_bytes))
    return Content(" · ".join(parts))
