"""A serving run's parity bar: do the paths compute what PyTorch eager computes, on the probe batch?"""

from __future__ import annotations

from typing import Iterable

from runners.session.state.runner_state import RunnerState
from runners.session.verdict.serving import REFERENCE, judge_parity


def serving_parity_text(states: Iterable[RunnerState]) -> str:
    judged = judge_parity(list(states))
    agree = [p for p in judged.values() if p.ok]
    differ = [p for p in judged.values() if p.ok is False]
    if not agree and not differ:
        if any(p.note.startswith("not judged") for p in judged.values()):
            return f"parity · not judged: the {REFERENCE} path (PyTorch eager) is the reference; serve it too"
        return "parity · waiting for the paths' outputs…"
    # The largest difference at each precision: a bf16 path's would read as the fp32 paths' otherwise.
    worst: dict[str, float] = {}
    for p in agree:
        worst[p.precision] = max(worst.get(p.precision, 0.0), p.max_abs or 0.0)
    largest = ", ".join(f"{value:.0e} {precision}" for precision, value in sorted(worst.items(), reverse=True))
    text = (f"parity · [b]✓[/b] {len(agree)} of {len(judged)} paths match PyTorch eager's outputs "
            f"(largest Δ {largest})")
    if differ:
        text += " · [b]✗[/b] " + ", ".join(f"{p.runner}: Δ {p.max_abs:.1e}" if p.max_abs is not None
                                             else f"{p.runner}: {p.note}" for p in differ)
    return text
