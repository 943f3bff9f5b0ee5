"""``--repeats N``: whole runs again in fresh processes, their figures combined with intervals across runs.

Turns pair samples inside one run; they cannot show how much start-up, compilation
and a run's luck (where its process landed, what the machine did meanwhile) move a
result. Repeats can: each repeat is a complete run session, its runners started in
a rotated order (the first runner of one repeat is the last of the next, so no
runner always goes first), and each repeat gives one paired sample of every ratio.
The interval is the same t-interval on log-ratios as for turns
(``runners.session.verdict.confidence``), over repeats.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Callable

from runners.session.verdict.confidence import Ratio, paired_ratio, spread
from runners.session.verdict.summary import Standing, ranked_by_pairs


def rotated(items: list, repeat: int) -> list:
    """The runners' order in repeat ``repeat`` (0-based): shifted by one each repeat."""
    shift = repeat % len(items) if items else 0
    return items[shift:] + items[:shift]


def _geometric_mean(values: list[float]) -> float | None:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def combine(repeats: list[list[Standing]]) -> tuple[list[Standing], dict[str, dict[int, float]]]:
    """Each runner's figures over the repeats (throughput and step time: geometric means; the rest: means),
    ranked, with every ratio to the fastest paired repeat by repeat; and each runner's throughput by repeat."""
    names = list(dict.fromkeys(s.runner for table in repeats for s in table))
    by_repeat = {name: {i: s.throughput for i, table in enumerate(repeats) for s in table
                        if s.runner == name and s.throughput and s.phase == "done"} for name in names}
    rows = []
    for name in names:
        mine = [s for table in repeats for s in table if s.runner == name]
        finished = [s for s in mine if s.throughput and s.phase == "done"]
        last = mine[-1]
        phase = "done" if len(finished) == len(repeats) else (last.phase if last.phase != "done" else "partial")
        rows.append(replace(
            last, rank=None, phase=phase,
            throughput=_geometric_mean([s.throughput for s in finished]),
            step_time_s=_geometric_mean([s.step_time_s for s in finished if s.step_time_s]),
            startup_s=_mean([s.startup_s for s in mine]), warmup_s=_mean([s.warmup_s for s in mine]) or 0.0,
            peak_rss_bytes=max((s.peak_rss_bytes or 0 for s in mine), default=None) or None,
            peak_nvml_bytes=max((s.peak_nvml_bytes or 0 for s in mine), default=None) or None,
            final_loss=_mean([s.final_loss for s in finished]), tflops=_mean([s.tflops for s in finished]),
            mfu=_mean([s.mfu for s in finished]),
            error=next((s.error for s in mine if s.error), None),
            slower_by=None, slower_low=None, slower_high=None, turns=len(finished), spread=spread(by_repeat[name]),
        ))
    ranked = ranked_by_pairs([r for r in rows if r.throughput], lambda r: r.throughput,
                             lambda r: by_repeat[r.runner])
    table = [replace(row, rank=rank, **figures, turns=paired.pairs if paired else row.turns)
             for rank, (row, figures, paired) in enumerate(ranked, start=1)]
    return table + [r for r in rows if not r.throughput], by_repeat


def ratio_over_repeats(by_repeat: dict[str, dict[int, float]], first: str, second: str) -> Ratio | None:
    return paired_ratio(by_repeat.get(first, {}), by_repeat.get(second, {}))


def repeats_verdict(table: list[Standing], by_repeat: dict[str, dict[int, float]], workload: str, batch_size: int,
                    device: str, ratio_of: Callable[[str, str], Ratio | None] | None = None, over: str = "repeat"
                    ) -> str:
    """The run verdict's question (best Keras backend against native PyTorch), answered over the repeats;
    ``ratio_of(first, second)``: the ratios when not from each repeat's throughput (an --until run over
    processes: from their turns)."""
    from runners.session.verdict.summary import KERAS_PREFIX, PYTORCH_RUNNERS, comparison, keras_backends

    ranked = [s for s in table if s.rank is not None]
    count = max((len(v) for v in by_repeat.values()), default=0)
    if not ranked:
        return f"no runner finished training in {count} repeats"
    keras = [s for s in ranked if s.runner.startswith(KERAS_PREFIX)]
    parts = []
    for other in (s for s in ranked if s.runner in PYTORCH_RUNNERS and keras):
        ratio = (ratio_of or (lambda a, b: ratio_over_repeats(by_repeat, a, b)))(keras[0].runner, other.runner)
        if ratio is not None:
            parts.append(comparison(keras[0], other, ratio, workload, batch_size, device, over=over))
    if not parts:
        fastest, slowest = ranked[0], ranked[-1]
        parts.append(f"{fastest.runner} trained {workload} {slowest.slower_by:.2f}× faster than {slowest.runner} "
                     f"at batch {batch_size} on {device}")
    text = "; ".join(parts) + keras_backends(ranked)
    unfinished = [s.runner for s in table if s.phase != "done"]
    if unfinished:
        text += f"; did not finish every repeat: {', '.join(unfinished)}"
    return text


def run_repeats(plan, parent: Path, count: int, view: Callable[[object], int], stem: str, **session_options
                ) -> tuple[list[tuple[Path, list[Standing]]], int]:
    """``count`` whole run sessions of ``plan`` in folders named ``stem`` (``stem-repeat-K`` when more than one)
    under ``parent``, one after another in fresh processes, the runners' order rotated each time;
    ``view(session)`` follows each and returns its exit code. Returns each finished repeat's folder and
    standings, and the worst exit code (130: interrupted, and no repeat after it)."""
    done, worst = [], 0
    for repeat in range(count):
        name = stem if count == 1 else f"{stem}-repeat-{repeat + 1}"
        folder, standings, code = run_one(replace(plan, specs=rotated(plan.specs, repeat)), parent, name, view,
                                          **session_options)
        worst = max(worst, code)
        if standings is not None:
            done.append((folder, standings))
        if code == 130:
            break
    return done, worst


def run_one(plan, parent: Path, name: str, view: Callable[[object], int], **session_options
            ) -> tuple[Path, list[Standing] | None, int]:
    """One whole run session in ``parent/name``, followed by ``view``: its folder, standings (None when its summary
    was not written, a full disk: the session said so) and exit code."""
    from runners.session.run_session import RunSession

    session = RunSession(plan, parent, folder_name=name, **session_options)
    code = view(session)
    try:
        summary = json.loads((session.folder.path / "summary.json").read_text())
        return session.folder.path, [Standing(**row) for row in summary["standings"]], code
    except (OSError, ValueError):
        return session.folder.path, None, code
