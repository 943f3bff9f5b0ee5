"""``kvp-dash doctor``'s noise probe: how noisy a paired turn is on this machine, and what that means for a run.

Two installed runners (keras/jax and torch where both are there: the headline pair) train mlp at its default
size, interleaved, for a dozen 2-s turns each. The spread of their paired log-ratios is the machine's
turn-to-turn noise for that pair (drift that moves both runners alike cancels, as in a run). From it
(``precision.pairs_needed``) follow the paired turns a ±5 % and a ±10 % verdict need, and at the pace the probe
kept, the seconds. It measures one pair on one workload: a noisier pair or a bigger model moves the figure, and
it is the turn-level noise only (not process to process).
"""

from __future__ import annotations

import asyncio
import math
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runners.session.state.formatting import fmt_span
from runners.session.verdict.confidence import paired_logs
from runners.session.verdict.precision import MIN_SURE_PAIRS, pairs_needed, seconds_per_round

PROBE_WORKLOAD = "mlp"
PROBE_SIZE = "small"  # mlp's default
PROBE_SLICE_S = 2.0
PROBE_DURATION_S = 14.0  # steady seconds a runner: about seven 2-s turns, six of them paired
PREFERRED = ("keras/jax", "torch")


@dataclass(frozen=True)
class MachineNoise:
    pair: tuple[str, str]
    pairs: int
    sd: float  # of the paired log-ratios: the turn-to-turn noise
    round_s: float  # wall seconds of a round of the probe's turns
    slice_s: float

    def turns_for(self, target: float) -> int:
        return max(pairs_needed(self.sd, target), MIN_SURE_PAIRS)

    def seconds_for(self, target: float, runners: int) -> float:
        """Wall seconds to that many paired turns with ``runners`` taking turns at the probe's pace."""
        per_turn = self.round_s / len(self.pair)
        return self.turns_for(target) * per_turn * runners

    def sentences(self, runners: int) -> list[str]:
        a, b = self.pair
        lines = [f"turn-to-turn noise of {a} ÷ {b} on {PROBE_WORKLOAD}: ±{math.expm1(self.sd) * 100:.1f} % a "
                 f"paired turn (sd of {self.pairs} paired {self.slice_s:g}-s turns)"]
        for target in (0.05, 0.10):
            lines.append(f"on this machine a ±{target * 100:g} % verdict on {PROBE_WORKLOAD} takes about "
                         f"{self.turns_for(target)} paired turns, about {fmt_span(self.seconds_for(target, runners))} with "
                         f"{runners} runners (kvp-dash --until ±{target * 100:g}%)")
        return lines


def probe_pair(installed: list[str]) -> tuple[str, str] | None:
    """The pair to probe: the headline pair where installed, else the first two installed runners."""
    if all(name in installed for name in PREFERRED):
        return PREFERRED
    return tuple(installed[:2]) if len(installed) >= 2 else None


def measure_noise(pair: tuple[str, str], device: str) -> MachineNoise | None:
    """Run the probe in a scratch run folder (removed after); None when it gave fewer than three pairs."""
    from runners.session.planning.plan import make_plan
    from runners.session.run_session import RunSession

    scratch = Path(tempfile.mkdtemp(prefix="kvp-dash-noise-"))
    try:
        plan = make_plan(PROBE_WORKLOAD, size=PROBE_SIZE, runners=",".join(pair), device=device,
                         duration_s=PROBE_DURATION_S, schedule="interleaved")
        session = RunSession(plan, scratch, slice_s=PROBE_SLICE_S)
        states = {name: session.launcher.new_state(name) for name in pair}
        try:
            asyncio.run(session.run_to_end(lambda event: states[event.runner].apply(event)))
        finally:
            session.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logs = paired_logs(states[pair[0]].turn_rates(), states[pair[1]].turn_rates())
    round_s = seconds_per_round(list(states.values()))
    if len(logs) < 3 or round_s is None:
        return None
    return MachineNoise(pair, len(logs), statistics.stdev(logs), round_s, PROBE_SLICE_S)
