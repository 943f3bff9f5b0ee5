"""The outcome of a run: runners ranked by steady-state throughput, and a verdict in words.

Computed from the same per-runner state the dashboard shows, so the summary
written at the end and the figures on screen cannot disagree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Iterable

from runners.session.verdict.confidence import Ratio, describe, paired_ratio, plural_of, spread
from runners.session.planning.device_check import device_kind
from runners.session.monitoring.host_steal import steal_sentence
from runners.session.record.run_folder import RunFolder
from runners.session.state.runner_state import RunnerState
from runners.session.state.steady_state import NONE as NO_STEADY_STATE
from runners.session.verdict.precision import precision_now
from runners.session.verdict.sides import KERAS_PREFIX, PYTORCH_RUNNERS

# summary.json's schema version (docs/summary-json.md): raised when a field changes meaning or goes away.
SUMMARY_SCHEMA = 1



@dataclass(frozen=True)
class Standing:
    rank: int | None  # None: no steady-state figure (failed or stopped early)
    runner: str
    phase: str
    step_time_s: float | None
    throughput: float | None
    unit: str  # "samples/s" or "tokens/s"
    slower_by: float | None  # fastest throughput / this one's: 1.0 for the fastest
    startup_s: float | None
    warmup_s: float
    peak_rss_bytes: int | None
    peak_device_bytes: int | None
    final_loss: float | None
    tflops: float | None
    mfu: float | None
    error: str | None
    # The fastest's throughput ÷ this one's, paired turn by turn (interleaved schedule): its 95 % interval.
    slower_low: float | None = None
    slower_high: float | None = None
    turns: int = 0  # paired turns behind the interval
    spread: float | None = None  # turn-to-turn coefficient of variation of its own throughput: its noise floor
    peak_nvml_bytes: int | None = None  # GPU memory its processes held, as NVML (the driver) saw it
    # The last validation: loss and the task's metric (accuracy or mae), after which step.
    val_loss: float | None = None
    val_metric: float | None = None
    val_metric_name: str | None = None
    val_step: int | None = None
    time_to_target_s: float | None = None  # --target: None when not reached (or no target)
    evaluation_s: float | None = None  # every evaluation's time together: measured apart, in no figure above
    steps: int | None = None  # steps it trained (None in summaries written before it was kept)
    # Where its steady state began (runners.session.state.steady_state): "flat", "warm-up then flat", "slow-down",
    # "no steady state" or "too short", and the first timed window of it.
    steady_state: str | None = None
    steady_from_window: int = 0
    # --input native: its framework's input pipeline, and the share of steady training spent waiting for it
    input_pipeline: str | None = None
    input_wait_share: float | None = None


def standings(states: Iterable[RunnerState], target=None) -> list[Standing]:
    """Ranked by steady throughput; ``target`` (a ``Target``): each runner's time to reach it."""
    states = list(states)  # read twice below
    rows = []
    for s in states:
        throughput, unit = s.throughput
        latest = s.latest
        ev = s.evaluation
        rows.append(
            dict(
                runner=s.name,
                phase=s.phase,
                step_time_s=s.mean_step_time_s,
                throughput=throughput,
                unit=unit,
                startup_s=s.startup_s,
                warmup_s=s.warmup_s,
                peak_rss_bytes=s.peak_rss_bytes or (latest.rss_bytes if latest else None),
                peak_device_bytes=latest.device_peak_bytes if latest else None,
                final_loss=s.current_loss,
                tflops=s.achieved_flops / 1e12 if s.achieved_flops else None,
                mfu=s.mfu,
                error=f"{s.error.error_type}: {s.error.message}" if s.error else None,
                peak_nvml_bytes=s.peak_gpu_bytes or None,
                val_loss=ev.loss if ev else None,
                val_metric=ev.metric if ev else None,
                val_metric_name=ev.metric_name if ev else None,
                val_step=ev.step if ev else None,
                time_to_target_s=s.time_to_target(target) if target else None,
                evaluation_s=ev.eval_total_s if ev else None,
                steps=s.steps_done,
                steady_state=s.steady_state.kind,
                steady_from_window=s.steady_state.start,
                input_pipeline=s.hello.input_pipeline if s.hello else None,
                input_wait_share=s.input_wait_share,
            )
        )
    rates = {s.name: s.turn_rates() for s in states}
    ranked = ranked_by_pairs([r for r in rows if r["throughput"]], lambda r: r["throughput"],
                             lambda r: rates[r["runner"]])
    result = []
    for rank, (row, figures, paired) in enumerate(ranked, start=1):
        mine = rates[row["runner"]]
        result.append(Standing(rank=rank, **figures, **row, turns=paired.pairs if paired else len(mine),
                               spread=spread(mine)))
    for row in rows:
        if not row["throughput"]:
            result.append(Standing(rank=None, slower_by=None, **row))
    return result


def ranked_by_pairs(items: list, throughput, rates) -> list[tuple[object, dict[str, float | None], Ratio | None]]:
    """``items`` fastest first, each with its "× slower" figures (``behind``) and its pairs with the fastest.

    The fastest by whole-run throughput is the first anchor. When the paired estimate (turn by turn, or repeat
    by repeat) puts another runner ahead of it, with an interval, that runner is the fastest: every ratio is
    then taken against it and the order follows those ratios, so the rank, the "× slower" beside it and the
    verdict point the same way even when turns of unequal length make the two estimators disagree."""
    by_throughput = sorted(items, key=lambda item: -throughput(item))
    if not by_throughput:
        return []

    def against(anchor) -> list:
        table = []
        for item in by_throughput:
            paired = paired_ratio(rates(anchor), rates(item)) if item is not anchor else None
            table.append((item, behind(throughput(anchor) / throughput(item), paired), paired))
        return table

    table = against(by_throughput[0])
    quickest = min(table, key=lambda entry: entry[1]["slower_by"])[0]
    if quickest is not by_throughput[0]:
        table = against(quickest)
    return sorted(table, key=lambda entry: (entry[0] is not quickest, entry[1]["slower_by"]))


def behind(plain: float, paired: Ratio | None) -> dict[str, float | None]:
    """A standing's "× slower" and its interval: with an interval (three pairs or more), the paired estimate, so
    the figure on screen is the interval's centre and the verdict's number; else the plain ratio of steady
    throughputs, which always agrees with the rank (one or two pairs can point the other way)."""
    if paired is None or paired.low is None:
        return dict(slower_by=plain, slower_low=None, slower_high=None)
    return dict(slower_by=paired.value, slower_low=paired.low, slower_high=paired.high)


def keras_against_pytorch(states: list[RunnerState], table: list[Standing]) -> list[tuple[Standing, Standing, Ratio]]:
    """The user's question: the best Keras backend against each native PyTorch runner (eager, compiled).

    (keras standing, pytorch standing, keras ÷ pytorch throughput): paired turn by
    turn when the runners took turns, else the plain ratio of their steady throughputs.
    """
    finished = [s for s in table if s.rank is not None and s.phase == "done"]
    keras = [s for s in finished if s.runner.startswith(KERAS_PREFIX)]
    if not keras:
        return []
    best = keras[0]  # the table is ranked by throughput
    by_name = {s.name: s for s in states}
    pairs = []
    for other in (s for s in finished if s.runner in PYTORCH_RUNNERS):
        ratio = paired_ratio(by_name[best.runner].turn_rates(), by_name[other.runner].turn_rates())
        if ratio is None or ratio.low is None:  # one or two pairs: the leaderboard's plain ratio, as it shows it
            ratio = Ratio(best.throughput / other.throughput, None, None, ratio.pairs if ratio else 0)
        pairs.append((best, other, ratio))
    return pairs


def crossing_step(fast: Standing, quick: Standing) -> int | None:
    """Where the runner with the faster steady step (``fast``) overtakes the one that started training sooner
    (``quick``): the step count from which ``fast`` has finished more steps, start-up and compile counted."""
    if None in (fast.step_time_s, quick.step_time_s, fast.startup_s, quick.startup_s):
        return None
    head_start = (fast.startup_s + fast.warmup_s) - (quick.startup_s + quick.warmup_s)
    gain = quick.step_time_s - fast.step_time_s
    if head_start <= 0 or gain <= 0:
        return None  # one runner is ahead from the first step to the last
    return round(head_start / gain)


def comparison(keras: Standing, pytorch: Standing, ratio: Ratio, workload: str, batch_size: int,
               device: str, over: str = "turn") -> str:
    """One Keras runner against one PyTorch runner, in words, with the interval of pairs ``over`` turns or repeats."""
    where = f"at batch {batch_size} on {device}"
    # The faster first, with the ratio at or above one, as the leaderboard reads it.
    faster, slower, times = (keras, pytorch, ratio) if ratio.value >= 1 else (pytorch, keras, ratio.inverted())
    interval = f" ({describe(times, over)})" if times.pairs else ""  # the interval of the ratio as it is read
    if times.low is not None and not times.clear:
        return (f"no clear difference between {faster.runner} and {slower.runner} on {workload} {where}: "
                f"{faster.runner} {times.value:.2f}× faster{interval}")
    text = f"{faster.runner} trained {workload} {times.value:.2f}× faster than {slower.runner} {where}{interval}"
    cross = crossing_step(faster, slower)
    run_steps = min(faster.steps, slower.steps) if faster.steps and slower.steps else None
    if cross is not None and (run_steps is None or cross < run_steps):
        text += (f"; {slower.runner} is ahead for the first {cross:,} steps (start-up and compile), "
                 f"{faster.runner} after that")
    elif cross is not None:  # a projection beyond this run: not what happened in it
        text += (f"; {slower.runner} stayed ahead over this run's {run_steps:,} steps "
                 f"(start-up and compile); {faster.runner} would overtake it after about {cross:,}")
    return text


def keras_backends(ranked: list[Standing]) -> str:
    """"; fastest Keras backend keras/jax (keras/torch 2.10× slower)": the backends among themselves."""
    keras = [s for s in ranked if s.runner.startswith(KERAS_PREFIX)]
    if len(keras) < 2:
        return ""
    behind = ", ".join(f"{s.runner} {s.slower_by / keras[0].slower_by:.2f}× slower" for s in keras[1:])
    return f"; fastest Keras backend {keras[0].runner} ({behind})"


def target_sentence(states: list[RunnerState], table: list[Standing], target) -> str:
    """"time to accuracy ≥ 0.9: torch 12.3 s, keras/jax 15.1 s (1.23×); keras/torch not reached"."""
    if target is None:
        return ""
    judged = [s for s in table if s.phase == "done" or s.time_to_target_s is not None]
    reached = sorted((s for s in judged if s.time_to_target_s is not None), key=lambda s: s.time_to_target_s)
    missed = [s.runner for s in judged if s.time_to_target_s is None]
    if not reached:
        return f"; no runner reached {target.describe()}" if judged else ""
    first = reached[0].time_to_target_s
    times = ", ".join(f"{s.runner} {s.time_to_target_s:.1f} s"
                      + (f" ({s.time_to_target_s / first:.2f}×)" if s is not reached[0] and first > 0 else "")
                      for s in reached)
    return f"; time to {target.describe()}: {times}" + (f"; not reached: {', '.join(missed)}" if missed else "")


def verdict(states: list[RunnerState], table: list[Standing], workload: str, batch_size: int, device: str,
            target=None) -> str:
    """Keras against PyTorch (the best Keras backend against native PyTorch, with how sure that is), the
    Keras backends among themselves, and who reached a common loss first."""
    failed = [s.runner for s in table if s.phase == "failed"]
    # A runner on another device kind (--allow-mixed-devices) is shown, never compared.
    elsewhere = {s.name: s.hello.device for s in states
                 if s.hello and device in ("cpu", "cuda") and device_kind(s.hello.device) != device_kind(device)}
    table = [s for s in table if s.runner not in elsewhere]
    ranked = [s for s in table if s.rank is not None and s.phase == "done"]
    if not ranked:
        return "no runner finished training" + (f" (failed: {', '.join(failed)})" if failed else "")
    fastest, slowest = ranked[0], ranked[-1]
    comparisons = keras_against_pytorch(states, table)
    if comparisons:
        text = "; ".join(comparison(*c, workload, batch_size, device) for c in comparisons)
        text += keras_backends(ranked)
    elif len(ranked) == 1:
        text = f"{fastest.runner} trained {workload} at {fastest.throughput:,.0f} {fastest.unit} (batch {batch_size}, {device})"
    else:
        text = (
            f"{fastest.runner} trained {workload} {slowest.slower_by:.2f}× faster than {slowest.runner} "
            f"at batch {batch_size} on {device}"
        )
    # A loss every finished runner reached (the highest of their best smoothed losses), and who got
    # there first in wall time from its start: start-up and compilation count, as they do for a user.
    finished = [s for s in states if s.phase == "done" and len(s.loss) and s.name not in elsewhere]
    if len(finished) > 1:
        level = max(min(s.smoothed_losses()) for s in finished)
        times = [(s.time_to_loss(level), s.name) for s in finished]
        seconds, name = min((t, n) for t, n in times if t is not None)
        text += f"; {name} reached loss {level:.3g} first ({seconds:.1f} s after it started)"
    text += target_sentence(states, table, target)
    unsteady = [s.runner for s in table if s.steady_state == NO_STEADY_STATE and s.phase == "done"]
    if unsteady:
        text += (f"; no steady state: {', '.join(unsteady)} (its step time kept changing to the end: its figures "
                 "average a moving target; a longer run may settle)")
    if failed:
        text += f"; failed: {', '.join(failed)}"
    if elsewhere:
        text += "; left out, on another device: " + ", ".join(f"{name} ({seen})" for name, seen in elsewhere.items())
    return text


def finish_run(folder: RunFolder, states: list[RunnerState], header: str, workload: str, batch_size: int,
               device: str, target=None, host_steal: float | None = None, parity=None,
               until: float | None = None) -> tuple[list[Standing], str]:
    """Rank, judge and record a finished (or stopped) run; the verdict is returned for the screen.
    ``host_steal``: the share of the CPU the hypervisor took meanwhile, said when it is worth saying;
    ``parity``: the run's ParityVerdict, recorded beside the standings; ``until``: the run's --until target."""
    table = standings(states, target)
    verdict_text = verdict(states, table, workload, batch_size, device, target)
    precision = precision_now(states, until) if until else None
    if precision is not None:
        verdict_text += f"; {precision.outcome()}"
    shared = steal_sentence(host_steal)
    if shared:
        verdict_text += f"; {shared}"
    try:
        write_summary(folder, table, verdict_text, header, host_steal, parity, precision)
    except OSError as exc:  # a full or read-only disk: the verdict still reaches the screen
        verdict_text += f" (summary not saved: {exc.strerror or exc})"
    return table, verdict_text


def write_summary(folder: RunFolder, table: list[Standing], verdict_text: str, header: str,
                  host_steal: float | None = None, parity=None, precision=None) -> None:
    """summary.json (its schema: docs/summary-json.md), summary.csv and summary.md, each written then renamed."""
    rows = [asdict(s) for s in table]
    record = {"schema": SUMMARY_SCHEMA, "run": header, "verdict": verdict_text, "standings": rows,
              "host_steal": host_steal, "parity": parity.record() if parity else None,
              "until": precision.record() if precision else None}
    write_summary_files(folder, record, rows,
                        markdown(table, verdict_text, header, parity=parity.sentence if parity else None))


def write_summary_files(folder: RunFolder, record: dict, rows: list[dict], markdown_text: str) -> None:
    """A run's summary.json (``record``), summary.csv (a line a row of ``rows``) and summary.md, each written then
    renamed: a training run's and a serving run's alike."""
    folder.write_json("summary.json", record)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["runner"])
    writer.writeheader()
    writer.writerows(rows)
    folder.write_text("summary.csv", buffer.getvalue())
    folder.write_text("summary.md", markdown_text)


def markdown(table: list[Standing], verdict_text: str, header: str, over: str = "turn",
             parity: str | None = None) -> str:
    """The summary as a Markdown table; ``over``: what the intervals pair ("turn" or "repeat")."""
    lines = [f"# {header}", "", f"**Verdict:** {verdict_text}", "", *([parity, ""] if parity else []),
             "| # | runner | step | throughput | relative | spread | start-up | warm-up | peak RSS | final loss "
             "| validation | to target |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in table:
        lines.append(
            f"| {s.rank or '–'} | {s.runner} ({s.phase}) | {_ms(s.step_time_s)} | "
            f"{f'{s.throughput:,.0f} {s.unit}' if s.throughput else '–'} | {relative(s, over)} | "
            f"{f'±{s.spread:.1%}' if s.spread is not None else '–'} | "
            f"{_sec(s.startup_s)} | {_sec(s.warmup_s)} | "
            f"{f'{s.peak_rss_bytes / 1024**2:,.0f} MiB' if s.peak_rss_bytes else '–'} | "
            f"{f'{s.final_loss:.4f}' if s.final_loss is not None else '–'} | {validation_cell(s)} | "
            f"{_sec(s.time_to_target_s) if s.time_to_target_s is not None else '–'} |"
        )
    return "\n".join(lines) + "\n"


def metric_text(name: str | None, value: float | None, short: bool = False) -> str:
    """Accuracy as a percentage, other metrics as numbers; ``short`` for a narrow panel ("acc 80.5%")."""
    if value is None:
        return "–"
    if name == "accuracy":
        return f"{'acc' if short else name} {value:.1%}"
    return f"{name} {value:.3g}" if short else f"{name} {value:.4g}"


def validation_cell(s: Standing) -> str:
    """"loss 0.412 · accuracy 87.5 % (step 399)", or "–"."""
    if s.val_loss is None:
        return "–"
    return f"loss {s.val_loss:.4f} · {metric_text(s.val_metric_name, s.val_metric)} (step {s.val_step + 1})"


def relative(s: Standing, over: str = "turn") -> str:
    if s.slower_by is None:
        return "–"
    if s.rank == 1:
        return "1.00× (fastest)"
    interval = f" (95 % CI {s.slower_low:.2f}–{s.slower_high:.2f}, {s.turns} {plural_of(over)})" if s.slower_low else ""
    return f"{s.slower_by:.2f}× slower{interval}"


def relative_short(s: Standing) -> str:
    """The leaderboard's cell: "2.51× (2.40–2.63)", the fastest "1.00×"."""
    if s.slower_by is None:
        return "–"
    if s.rank == 1 or not s.slower_low:
        return f"{s.slower_by:.2f}×"
    return f"{s.slower_by:.2f}× ({s.slower_low:.2f}–{s.slower_high:.2f})"


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.1f} ms"


def _sec(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.1f} s"
