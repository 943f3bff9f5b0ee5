"""Cross-framework parity: do the runners train the same model from the same start?

The judge, on the dashboard's side: it reads the runners' probe events
(``runners.child.probe``) and first losses. The dashboard and ``kvp-dash check``
use ``compare``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# Step 0's loss is the initial loss; these many updates follow it in a parity check.
PARITY_STEPS = 5

INITIAL_LOSS_RTOL = 1e-4
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

    @property
    def problems(self) -> list[str]:
        return [p for row in self.rows for p in row.problems]


def _rdiff(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def compare(
    facts: dict[str, RunnerFacts],
    steps: int = PARITY_STEPS,
    expected_params: int | None = None,
    step_rtol: float = STEP_LOSS_RTOL,
) -> ParityReport:
    """Judge every runner against the reference (native PyTorch when present)."""
    if not facts:
        return ParityReport("single", None, [], step_rtol)
    reference = "torch" if "torch" in facts else next(iter(facts))
    ref = facts[reference]
    needed = steps + 1
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
                if not row.logits_diff <= LOGITS_ATOL:
                    row.problems.append(f"{name}: initial logits differ by {row.logits_diff:.2e} (tolerance {LOGITS_ATOL:g})")
        if own.losses and ref.losses and not not_compared:
            row.initial_loss_rdiff = _rdiff(own.losses[0], ref.losses[0])
            if not row.initial_loss_rdiff <= INITIAL_LOSS_RTOL:
                row.problems.append(
                    f"{name}: initial loss {own.losses[0]:.6f} vs {ref.losses[0]:.6f} in {reference} "
                    f"({row.initial_loss_rdiff:.1e} relative, tolerance {INITIAL_LOSS_RTOL:g})"
                )
            later = list(zip(own.losses[1:needed], ref.losses[1:needed]))
            if later:
                row.steps_rdiff = max(_rdiff(a, b) for a, b in later)
                if not row.steps_rdiff <= step_rtol:
                    row.problems.append(
                        f"{name}: step losses differ by up to {row.steps_rdiff:.1e} relative from {reference} "
                        f"(tolerance {step_rtol:g})"
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
        status = "verified" if complete else "pending"
    return ParityReport(status, reference, rows, step_rtol, not_compared)


class ParityTracker:
    """Collects, from a stream of events, what ``compare`` needs from each runner."""

    def __init__(self, runners: list[str]):
        self.facts = {name: RunnerFacts() for name in runners}
        self._windows: dict[str, dict[int, list[float]]] = {name: {} for name in runners}

    def forget(self, runner: str) -> None:
        """The runner restarts: what it said before proves nothing about its new run."""
        if runner in self.facts:
            self.facts[runner] = RunnerFacts()
            self._windows[runner] = {}

    def observe(self, event) -> bool:
        """Take in one event; True when it changed what parity is judged on."""
        from runners.protocol import Hello, Metrics, Probe

        facts = self.facts.get(event.runner)
        if facts is None:
            return False
        if isinstance(event, Hello):
            facts.params = event.params
            facts.stochastic_layers = list(event.stochastic_layers)
            facts.conversion_notes = list(event.conversion_notes)
        elif isinstance(event, Probe):
            facts.logits = event.values
        elif isinstance(event, Metrics) and event.first_step <= PARITY_STEPS:
            windows = self._windows[event.runner]
            windows[event.first_step] = event.losses
            # Only an unbroken run of steps from 0 counts.
            losses, step = [], 0
            while step in windows:
                losses += windows[step]
                step += len(windows[step])
            facts.losses = losses[: PARITY_STEPS + 1]
        else:
            return False
        return True
