"""Cross-framework parity: do the runners train the same model from the same start?

The judge, on the dashboard's side: it reads the runners' probe events
(``runners.child.probe``) and first losses. The dashboard and ``kvp-dash check``
use ``compare``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# Step 0's loss is the initial loss; PARITY_STEPS updates follow it in a parity check (shared with the runners).
from runners.protocol import PARITY_REFERENCE, PARITY_STEPS

INITIAL_LOSS_RTOL = 1e-4
# The step losses' tolerance: this many times the noise floor the reference measured in the same run (its own
# steps from weights perturbed at float32 rounding), never below STEP_LOSS_RTOL. Without a floor (no PyTorch
# reference, or a recording made before floors), the workload's fixed tolerance.
FLOOR_MARGIN = 4.0
CROSS_ENTROPY_TASKS = ("classification", "language_model")
STEP_LOSS_RTOL = 1e-3
# Absolute, on logits of order one; float32 kernels of different libraries differ by ~1e-6.
LOGITS_ATOL = 1e-4


@dataclass
class RunnerFacts:
    """What one runner reported that parity is judged on."""

    params: int | None = None
    logits: list[float] | None = None
    losses: list[float] = field(default_factory=list)  # from step 0, in order
    stochastic_layers: list[str] = field(default_factory=list)  # dropout: its training losses differ by draw
    conversion_notes: list[str] = field(default_factory=list)  # what its weight conversion could not tell
    task: str = "classification"
    input_note: str | None = None  # how its input pipeline's first batch differs from the decoded arrays


@dataclass
class RunnerParity:
    runner: str
    params: int | None
    logits_diff: float | None  # max |logit - reference logit|
    initial_loss: float | None
    initial_loss_rdiff: float | None
    steps_rdiff: float | None  # max relative difference over steps 1..PARITY_STEPS
    problems: list[str] = field(default_factory=list)


@dataclass
class ParityReport:
    status: str  # "verified", "pending", "failed" or "single" (nothing to compare)
    reference: str | None
    rows: list[RunnerParity]
    step_rtol: float = STEP_LOSS_RTOL
    # Why the training losses were not compared (dropout draws other masks in each framework), if so.
    losses_not_compared: str | None = None
    # The noise floor measured in this run (max relative move of steps 1..PARITY_STEPS under a float32-rounding
    # perturbation of the reference's weights); None when the run has none and step_rtol is the workload's.
    floor_rdiff: float | None = None
    # The initial logits' and loss's tolerances: fixed in fp32 (the floors there are far below them), from the
    # same floor where rounding is coarser (mixed precision).
    logits_atol: float = LOGITS_ATOL
    initial_rtol: float = INITIAL_LOSS_RTOL
    floor_logits_diff: float | None = None  # how far the perturbation moved the reference's initial logits
    floor_initial_rdiff: float | None = None  # and its initial loss (relative)
    # Runners whose input pipeline's first batch differs from the decoded arrays (--input native), and how.
    input_notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [p for row in self.rows for p in row.problems]


def _rdiff(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def floor_of(floor_losses: list[float] | None, reference_losses: list[float], steps: int = PARITY_STEPS
             ) -> float | None:
    """The largest relative move of steps 1..steps that the perturbation made; None until both are complete."""
    if not floor_losses or len(floor_losses) < steps + 1 or len(reference_losses) < steps + 1:
        return None
    return max(_rdiff(a, b) for a, b in zip(floor_losses[1:steps + 1], reference_losses[1:steps + 1]))


def compare(
    facts: dict[str, RunnerFacts],
    steps: int = PARITY_STEPS,
    expected_params: int | None = None,
    step_rtol: float = STEP_LOSS_RTOL,
    floor_losses: list[float] | None = None,
    floor_logits: list[float] | None = None,
) -> ParityReport:
    """Judge every runner against the reference (native PyTorch when present); ``floor_losses`` and
    ``floor_logits`` are the reference's perturbed figures (its NoiseFloor event), which set the tolerances."""
    if not facts:
        return ParityReport("single", None, [], step_rtol)
    reference = PARITY_REFERENCE if PARITY_REFERENCE in facts else next(iter(facts))
    ref = facts[reference]
    needed = steps + 1
    floor = floor_of(floor_losses, ref.losses, steps) if reference == PARITY_REFERENCE else None
    # The floor is known once the reference's own first steps are: the steps are judged only then.
    floor_pending = bool(floor_losses) and floor is None and reference == PARITY_REFERENCE
    if floor is not None:
        step_rtol = max(STEP_LOSS_RTOL, FLOOR_MARGIN * floor)
    logits_atol, initial_rtol = LOGITS_ATOL, INITIAL_LOSS_RTOL
    floor_logits_diff = floor_initial_rdiff = None
    if reference == PARITY_REFERENCE and floor_logits and ref.logits and len(floor_logits) == len(ref.logits):
        floor_logits_diff = float(np.max(np.abs(np.subtract(floor_logits, ref.logits))))
        logits_atol = max(LOGITS_ATOL, FLOOR_MARGIN * floor_logits_diff)
    if reference == PARITY_REFERENCE and floor_losses and ref.losses:
        floor_initial_rdiff = _rdiff(floor_losses[0], ref.losses[0])
        initial_rtol = max(INITIAL_LOSS_RTOL, FLOOR_MARGIN * floor_initial_rdiff)
        if ref.task in CROSS_ENTROPY_TASKS and ref.losses[0]:
            # The initial loss is a function of the logits: mean cross-entropy moves by at most twice the largest
            # logit's move, so logits within their tolerance allow this much (it matters in mixed precision,
            # where rounding is systematic and one perturbation's loss averages it away).
            initial_rtol = max(initial_rtol, 2 * logits_atol / abs(ref.losses[0]))
    random_layers = {name: f.stochastic_layers for name, f in facts.items() if f.stochastic_layers}
    # Training-mode losses of a model with dropout depend on each framework's random masks: comparing them
    # would fail a correct model. Parameters and the initial logits (inference mode, no dropout) still count.
    not_compared = None
    if random_layers:
        name, layers = next(iter(random_layers.items()))
        not_compared = (f"losses not compared: dropout draws different masks in each framework "
                        f"({name}: {', '.join(layers[:3])})")
    rows, complete = [], True
    for name, own in facts.items():
        row = RunnerParity(name, own.params, None, own.losses[0] if own.losses else None, None, None)
        if expected_params is not None and own.params is not None and own.params != expected_params:
            row.problems.append(f"{name}: {own.params:,} trainable parameters, the workload defines {expected_params:,}")
        if own.params is not None and ref.params is not None and own.params != ref.params:
            row.problems.append(f"{name}: {own.params:,} trainable parameters vs {ref.params:,} in {reference}")
        if own.logits is not None and ref.logits is not None:
            if len(own.logits) != len(ref.logits):
                row.problems.append(f"{name}: logits of another shape than {reference}'s")
            else:
                row.logits_diff = float(np.max(np.abs(np.subtract(own.logits, ref.logits)), initial=0.0))
                if not row.logits_diff <= logits_atol:
                    row.problems.append(f"{name}: initial logits differ by {row.logits_diff:.2e} (tolerance {logits_atol:.2g})")
        if own.losses and ref.losses and not not_compared:
            row.initial_loss_rdiff = _rdiff(own.losses[0], ref.losses[0])
            if not row.initial_loss_rdiff <= initial_rtol:
                row.problems.append(
                    f"{name}: initial loss {own.losses[0]:.6f} vs {ref.losses[0]:.6f} in {reference} "
                    f"({row.initial_loss_rdiff:.1e} relative, tolerance {initial_rtol:.2g})"
                )
            later = list(zip(own.losses[1:needed], ref.losses[1:needed]))
            if later:
                row.steps_rdiff = max(_rdiff(a, b) for a, b in later)
                if not row.steps_rdiff <= step_rtol and not floor_pending:
                    against = (f"against a floor of {floor:.1e}: tolerance {step_rtol:.1e}" if floor is not None
                               else f"tolerance {step_rtol:g}")
                    row.problems.append(
                        f"{name}: step losses differ by up to {row.steps_rdiff:.1e} relative from {reference} "
                        f"({against})"
                    )
        if row.problems and own.conversion_notes:  # the likely cause, with its fix
            row.problems += [f"{name}: {note}" for note in own.conversion_notes]
        if any(not math.isfinite(v) for v in own.losses[:needed]):
            row.problems.append(f"{name}: non-finite loss in the first {needed} steps")
        if own.params is None or own.logits is None or (len(own.losses) < needed and not not_compared):
            complete = False
        rows.append(row)
    if any(row.problems for row in rows):
        status = "failed"
    elif len(facts) < 2:
        status = "single"
    else:
        status = "verified" if complete and not floor_pending else "pending"
    return ParityReport(status, reference, rows, step_rtol, not_compared, floor, logits_atol, initial_rtol,
                        floor_logits_diff, floor_initial_rdiff,
                        input_notes=[f"{name}: {f.input_note}" for name, f in facts.items() if f.input_note])


class ParityTracker:
    """Collects, from a stream of events, what ``compare`` needs from each runner."""

    def __init__(self, runners: list[str]):
        self.facts = {name: RunnerFacts() for name in runners}
        self.floor_losses: list[float] | None = None  # the reference's NoiseFloor losses and logits
        self.floor_logits: list[float] | None = None
        self._windows: dict[str, dict[int, list[float]]] = {name: {} for name in runners}

    def forget(self, runner: str) -> None:
        """The runner restarts: what it said before proves nothing about its new run."""
        if runner in self.facts:
            self.facts[runner] = RunnerFacts()
            self._windows[runner] = {}
            if runner == PARITY_REFERENCE:
                self.floor_losses = self.floor_logits = None

    def observe(self, event) -> bool:
        """Take in one event; True when it changed what parity is judged on."""
        from runners.protocol import Hello, Metrics, NoiseFloor, Probe

        facts = self.facts.get(event.runner)
        if facts is None:
            return False
        if isinstance(event, NoiseFloor):
            if event.runner != PARITY_REFERENCE:
                return False
            self.floor_losses = list(event.losses)
            self.floor_logits = list(event.logits)
        elif isinstance(event, Hello):
            facts.params = event.params
            facts.stochastic_layers = list(event.stochastic_layers)
            facts.conversion_notes = list(event.conversion_notes) + ([event.input_note] if event.input_note else [])
            facts.input_note = event.input_note
            facts.task = event.task
        elif isinstance(event, Probe):
            facts.logits = event.values
        elif isinstance(event, Metrics) and event.first_step <= PARITY_STEPS:
            windows = self._windows[event.runner]
            windows[event.first_step] = event.losses
            # Only an unbroken run of steps from 0 counts; a window without losses (a serving path's) ends it.
            losses, step = [], 0
            while windows.get(step):
                losses += windows[step]
                step += len(windows[step])
            facts.losses = losses[: PARITY_STEPS + 1]
        else:
            return False
        return True


@dataclass(frozen=True)
class ParityContext:
    """What a run's parity is judged with, recorded in ``run.json`` so that every view of the run (live,
    headless, replay, attach, serve, the summary files) judges it the same way."""

    expected_params: int | None = None
    step_rtol: float = STEP_LOSS_RTOL  # the workload's fixed tolerance: used only when the run has no floor
    judged: bool = True  # False only for a mixed-precision recording made before floors were measured

    @classmethod
    def from_record(cls, config: dict) -> "ParityContext":
        """From a run's recorded config; a recording made before contexts were recorded gets its workload's
        tolerance where the workload can still be found."""
        if "parity" in config:
            return cls(**config["parity"])
        try:
            from workloads import get_workload

            step_rtol = get_workload(config["workload"]).parity_step_rtol
        except Exception:  # noqa: BLE001 - a workload file since moved or changed: the default tolerance
            step_rtol = STEP_LOSS_RTOL
        return cls(step_rtol=step_rtol, judged=config.get("precision", "fp32") == "fp32")


@dataclass(frozen=True)
class ParityVerdict:
    """A finished run's parity: the report and its sentence, for the summary files."""

    report: ParityReport
    sentence: str

    def record(self) -> dict:
        from dataclasses import asdict

        return {"status": self.report.status, "sentence": self.sentence, "reference": self.report.reference,
                "step_rtol": self.report.step_rtol, "floor_rdiff": self.report.floor_rdiff,
                "logits_atol": self.report.logits_atol, "initial_rtol": self.report.initial_rtol,
                "rows": [asdict(row) for row in self.report.rows]}


def judge(tracker: ParityTracker, context: ParityContext, failed: list[str]) -> ParityReport:
    """Parity among the runners still standing: a crashed runner proves nothing either way."""
    facts = {name: f for name, f in tracker.facts.items() if name not in failed}
    return compare(facts, expected_params=context.expected_params, step_rtol=context.step_rtol,
                   floor_losses=tracker.floor_losses, floor_logits=tracker.floor_logits)


def describe(report: ParityReport, failed: list[str], judged: bool = True) -> str:
    """The parity verdict in one line, the same words in every view (the dashboard bolds the ✓ / ✗ part)."""
    if not judged:
        return "parity · not judged in mixed precision: `kvp-dash check` verifies it in fp32"
    excluded = f" · not judged: {', '.join(failed)} (failed)" if failed else ""
    if report.status == "failed":
        more = f" (+{len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        return f"parity ✗ FAILED · {report.problems[0]}{more}{excluded}"
    if report.status == "single":
        return "parity · one runner, nothing to compare against" + excluded
    if report.status == "pending":
        return (f"parity · checking: identical initial weights loaded; waiting for every runner's first "
                f"{PARITY_STEPS + 1} steps…" + excluded)
    worst_logits = max((r.logits_diff or 0.0) for r in report.rows)
    if report.losses_not_compared:
        return (f"parity ✓ verified · same parameters · initial logits Δ {worst_logits:.0e} "
                f"(tolerance {report.logits_atol:.2g}) · {report.losses_not_compared}" + excluded)
    worst_steps = max((r.steps_rdiff or 0.0) for r in report.rows)
    initial = next((r.initial_loss for r in report.rows if r.runner == report.reference), None)
    steps = (f"steps 1–{PARITY_STEPS} Δ {worst_steps:.0e} rel against a floor of {report.floor_rdiff:.0e}"
             if report.floor_rdiff is not None else f"steps 1–{PARITY_STEPS} Δ {worst_steps:.0e} rel")
    step_tolerance = f"{report.step_rtol:.0e}" if report.floor_rdiff is not None else f"{report.step_rtol:g}"
    inputs = "".join(f" · inputs differ: {note}" for note in report.input_notes)
    return (f"parity ✓ verified · initial loss {initial:.4f} in all {len(report.rows)} · logits Δ {worst_logits:.0e} · "
            f"{steps} (tolerances {report.logits_atol:.2g} / {report.initial_rtol:.2g} / {step_tolerance}) · same parameters"
            + inputs + excluded)


def recorded_report(folder, runners: list[str], context: ParityContext, failed: list[str]) -> ParityReport:
    """The parity of a run folder's recorded events, as the live judge saw them."""
    from pathlib import Path

    from runners.protocol import decode_lines

    tracker = ParityTracker(runners)
    for runner in runners:
        try:
            lines = (Path(folder) / f"{runner.replace('/', '-')}.events.jsonl").read_bytes().splitlines()
        except OSError:
            continue
        for event in decode_lines(lines)[0]:
            if event.type == "phase" and event.phase == "restarting":
                tracker.forget(runner)
            tracker.observe(event)
    return judge(tracker, context, failed)
