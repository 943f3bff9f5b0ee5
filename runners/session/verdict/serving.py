"""The outcome of a serving run (`kvp-dash infer`): output parity against PyTorch eager, every path's figures at
every batch size, the fastest path a batch size with its interval, and the Keras-against-PyTorch answer.

Computed from the same per-runner state the dashboard shows, as a training run's summary is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable

from runners.protocol import PARITY_REFERENCE
from runners.serving_paths import PATHS
from runners.session.planning.device_check import device_kind
from runners.session.record.run_folder import RunFolder
from runners.session.state.formatting import fmt_latency, fmt_size
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.confidence import Ratio, describe, paired_ratio
from runners.session.verdict.summary import write_summary_files

SERVING_SCHEMA = 1
REFERENCE = PARITY_REFERENCE  # the "torch" path, PyTorch eager: every path's outputs are judged against its
# Outputs within this share of the reference's largest magnitude agree (fp32: rounding and reordered sums;
# bf16: an 8-bit mantissa through a few layers).
TOLERANCE = {"fp32": 1e-4, "fp16": 5e-3, "bf16": 5e-2}
PARITY_MARKS = {True: "✓", False: "✗", None: "–"}  # agrees, differs, not judged


@dataclass(frozen=True)
class PathParity:
    runner: str
    max_abs: float | None  # the largest difference from the reference's outputs on the probe batch
    tolerance: float | None
    ok: bool | None  # None: not judged (no reference, or no outputs)
    note: str = ""
    precision: str = "fp32"  # what the path computes in: its tolerance's


def judge_parity(states: Iterable[RunnerState]) -> dict[str, PathParity]:
    states = list(states)
    reference = next((s for s in states if s.name == REFERENCE and s.probe is not None), None)
    judged = {}
    for s in states:
        if s.probe is None:
            judged[s.name] = PathParity(s.name, None, None, None, "no outputs")
            continue
        if reference is None:
            judged[s.name] = PathParity(s.name, None, None, None, "not judged: serve the torch path as reference")
            continue
        ref, out = reference.probe.values, s.probe.values
        if reference.probe.shape != s.probe.shape:
            judged[s.name] = PathParity(s.name, None, None, False,
                                        f"output shape {s.probe.shape}, PyTorch's {reference.probe.shape}")
            continue
        precision = s.export.precision if s.export else "fp32"
        scale = max(max((abs(v) for v in ref), default=0.0), 1.0)
        tolerance = TOLERANCE.get(precision, TOLERANCE["fp32"]) * scale
        worst = max((abs(a - b) for a, b in zip(ref, out)), default=0.0)
        ok = math.isfinite(worst) and worst <= tolerance
        judged[s.name] = PathParity(s.name, worst, tolerance, ok,
                                    "" if ok else f"outputs {worst:.1e} from PyTorch eager's ({precision} "
                                                  f"tolerance {tolerance:.0e})", precision)
    return judged


@dataclass(frozen=True)
class ServingRow:
    """One path at one batch size."""

    rank: int | None  # among the paths whose outputs agree; None: failed, no figures, or parity failed
    runner: str
    side: str  # "keras" or "torch": where the weights' model comes from
    batch_size: int
    phase: str
    p50_s: float | None
    p90_s: float | None
    p99_s: float | None
    max_s: float | None
    throughput: float | None  # samples/s over the steady windows' wall time
    calls: int
    slower_by: float | None  # the fastest's throughput ÷ this one's, paired turn by turn
    slower_low: float | None
    slower_high: float | None
    turns: int
    precision: str
    parity: bool | None
    parity_note: str
    export_s: float | None
    load_s: float | None
    warmup_s: float | None
    artifact_bytes: int | None
    artifact: str | None
    peak_rss_bytes: int | None
    route: str | None
    error: str | None


def serving_rows(states: Iterable[RunnerState], batch_sizes: list[int]) -> list[ServingRow]:
    """Every path at every batch size; within a batch size, fastest first."""
    states = list(states)
    parity = judge_parity(states)
    rows = []
    for size in batch_sizes:
        rows.extend(_rows_at(states, size, parity))
    return rows


def _rows_at(states: list[RunnerState], size: int, parity: dict[str, PathParity]) -> list[ServingRow]:
    figures = {s.name: s.serving.at(size) for s in states}
    ranked = sorted((s for s in states if figures[s.name] and figures[s.name].throughput(s.ended)
                     and parity[s.name].ok is not False and s.phase != "failed"),
                    key=lambda s: -figures[s.name].throughput(s.ended))
    fastest = ranked[0] if ranked else None
    rows = []
    for s in ranked + [s for s in states if s not in ranked]:
        f = figures[s.name]
        rank = ranked.index(s) + 1 if s in ranked else None
        ratio = None
        if rank and fastest is not None:
            ratio = (paired_ratio(figures[fastest.name].turn_rates(fastest.ended), f.turn_rates(s.ended))
                     if rank > 1 else Ratio(1.0, None, None, 0))
            if ratio is None:  # no turn in common (a run without turns): the plain ratio, no interval
                ratio = Ratio(figures[fastest.name].throughput(True) / f.throughput(True), None, None, 0)
        e, p = s.export, parity[s.name]
        rows.append(ServingRow(
            rank=rank, runner=s.name, side=_side(s),
            batch_size=size, phase=s.phase,
            p50_s=f.percentile(0.5, s.ended) if f else None, p90_s=f.percentile(0.9, s.ended) if f else None,
            p99_s=f.percentile(0.99, s.ended) if f else None, max_s=f.max_s(s.ended) if f else None,
            throughput=f.throughput(s.ended) if f else None, calls=f.calls(s.ended) if f else 0,
            slower_by=ratio.value if ratio else None, slower_low=ratio.low if ratio else None,
            slower_high=ratio.high if ratio else None, turns=ratio.pairs if ratio else 0,
            precision=e.precision if e else "fp32", parity=p.ok, parity_note=p.note,
            export_s=e.export_s if e else None, load_s=e.load_s if e else None, warmup_s=e.warmup_s if e else None,
            artifact_bytes=e.artifact_bytes if e else None, artifact=e.artifact if e else None,
            peak_rss_bytes=max(s.peak_rss_bytes, e.peak_rss_bytes if e else 0) or None,
            route=e.route if e else None,
            error=f"{s.error.error_type}: {s.error.message}" if s.error else None,
        ))
    return rows


def _side(state: RunnerState) -> str | None:
    """Where the path's model comes from, "keras" or "torch": its registry entry's (a path that failed before its
    hello has one too), else the recording's hello."""
    spec = PATHS.get(state.name)
    return spec.framework if spec else state.hello.framework if state.hello else None


def _side_ratio(states: list[RunnerState], rows: list[ServingRow], size: int) -> tuple[ServingRow, ServingRow,
                                                                                         Ratio | None] | None:
    """The fastest fp32 Keras path against the fastest fp32 PyTorch path at this batch size."""
    at = [r for r in rows if r.batch_size == size and r.rank and r.precision == "fp32"]
    keras = next((r for r in at if r.side == "keras"), None)
    torch = next((r for r in at if r.side == "torch"), None)
    if keras is None or torch is None:
        return None
    by_name = {s.name: s for s in states}
    k, t = by_name[keras.runner], by_name[torch.runner]
    ratio = paired_ratio(k.serving.at(size).turn_rates(k.ended), t.serving.at(size).turn_rates(t.ended))
    return keras, torch, ratio


def serving_verdict(states: Iterable[RunnerState], rows: list[ServingRow], workload: str, batch_sizes: list[int],
                    device: str) -> str:
    states = list(states)
    parts = []
    for size in batch_sizes:
        at = [r for r in rows if r.batch_size == size and r.rank]
        if not at:
            parts.append(f"batch {size}: no path served it")
            continue
        best = at[0]
        runner_up = at[1] if len(at) > 1 else None
        text = (f"at batch {size} {best.runner} serves {workload} fastest on {device} "
                f"({best.throughput:,.0f} samples/s, p50 {fmt_latency(best.p50_s)}, p99 {fmt_latency(best.p99_s)})")
        if runner_up is not None:
            interval = (f", 95 % CI {runner_up.slower_low:.2f}–{runner_up.slower_high:.2f} over {runner_up.turns} "
                        "turns" if runner_up.slower_low else "")
            text += f", {runner_up.slower_by:.2f}× ahead of {runner_up.runner}{interval}"
        sides = _side_ratio(states, rows, size)
        if sides is not None:
            keras, torch, ratio = sides
            text += "; " + _sides_sentence(keras, torch, ratio, size, workload)
        parts.append(text)
    elsewhere = sorted({s.name for s in states if s.hello and device_kind(s.hello.device) != device_kind(device)})
    if elsewhere:
        parts.append(f"served on the CPU, not on {device}: {', '.join(elsewhere)} (their runtimes' CPU plugins)")
    failed = [r for r in rows if r.batch_size == batch_sizes[0] and r.parity is False]
    if failed:
        parts.append("left out, outputs differ from PyTorch eager: " + ", ".join(
            f"{r.runner} ({r.parity_note})" for r in failed))
    broken = [r.runner for r in rows if r.batch_size == batch_sizes[0] and r.phase == "failed"]
    if broken:
        parts.append("failed: " + ", ".join(broken))
    return "; ".join(parts)


def _sides_sentence(keras: ServingRow, torch: ServingRow, ratio: Ratio | None, size: int, workload: str) -> str:
    if ratio is None:
        return f"the fastest Keras path is {keras.runner}, the fastest PyTorch path {torch.runner} (no paired turns)"
    faster, slower, value = (keras, torch, ratio.value) if ratio.value >= 1 else (torch, keras, 1 / ratio.value)
    shown = ratio if ratio.value >= 1 else ratio.inverted()
    side = {"keras": "Keras", "torch": "PyTorch"}
    if ratio.low is not None and not ratio.clear:
        return (f"no clear difference between the fastest Keras path ({keras.runner}) and the fastest PyTorch path "
                f"({torch.runner}): {value:.2f}× ({describe(shown)})")
    return (f"the fastest {side[faster.side]} path ({faster.runner}) serves {workload} at batch {size} {value:.2f}× "
            f"faster than the fastest {side[slower.side]} path ({slower.runner}) ({describe(shown)})")


def finish_serving(folder: RunFolder, states: Iterable[RunnerState], header: str, workload: str,
                   batch_sizes: list[int], device: str) -> tuple[list[ServingRow], str]:
    states = list(states)
    rows = serving_rows(states, batch_sizes)
    text = serving_verdict(states, rows, workload, batch_sizes, device)
    try:
        write_serving_summary(folder, rows, text, header)
    except OSError as exc:
        text += f" (summary not saved: {exc.strerror or exc})"
    return rows, text


def write_serving_summary(folder: RunFolder, rows: list[ServingRow], verdict_text: str, header: str) -> None:
    """summary.json (docs/summary-json.md: its serving form), summary.csv (a row a path a batch size), summary.md."""
    records = [asdict(r) for r in rows]
    write_summary_files(folder, {"schema": SERVING_SCHEMA, "kind": "infer", "run": header, "verdict": verdict_text,
                                 "paths": records}, records, serving_markdown(rows, verdict_text, header))


def serving_markdown(rows: list[ServingRow], verdict_text: str, header: str) -> str:
    lines = [f"# {header}", "", f"**Verdict:** {verdict_text}", "",
             "| batch | # | path | p50 | p90 | p99 | max | samples/s | relative | parity | export | load + warm-up "
             "| artifact | peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.batch_size} | {r.rank or '–'} | {r.runner} ({r.phase}, {r.precision}) | {fmt_latency(r.p50_s)} | "
            f"{fmt_latency(r.p90_s)} | {fmt_latency(r.p99_s)} | {fmt_latency(r.max_s)} | "
            f"{f'{r.throughput:,.0f}' if r.throughput else '–'} | {relative_cell(r)} | "
            f"{PARITY_MARKS[r.parity]}{' ' + r.parity_note if r.parity is False else ''} | "
            f"{f'{r.export_s:.2f} s' if r.export_s is not None else '–'} | "
            f"{f'{r.load_s + r.warmup_s:.2f} s' if r.load_s is not None else '–'} | {fmt_size(r.artifact_bytes)} | "
            f"{fmt_size(r.peak_rss_bytes)} |")
    return "\n".join(lines) + "\n"


def relative_cell(r: ServingRow) -> str:
    if r.slower_by is None:
        return "–"
    if r.rank == 1:
        return "1.00×"
    if not r.slower_low:
        return f"{r.slower_by:.2f}×"
    return f"{r.slower_by:.2f}× ({r.slower_low:.2f}–{r.slower_high:.2f})"


