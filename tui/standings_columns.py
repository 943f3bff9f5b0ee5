"""The standings' columns, defined once for the screen's leaderboard and the console's table."""

from __future__ import annotations

from runners.session.state.formatting import fmt_bytes, fmt_duration_ms, fmt_loss, fmt_rate, short_name
from runners.session.state.steady_state import NONE as NO_STEADY_STATE
from runners.session.verdict.summary import Standing, relative_short

# (title, width, justify) of the columns after the runner's; a None title: the throughput unit.
COLUMNS = ((None, 9, "right"), ("× slower (95% CI)", 17, "right"), ("step", 8, "right"), ("compile", 7, "right"),
           ("peak mem", 8, "right"), ("loss", 7, "right"))
FIGURE_LAYOUT = [(width, justify) for _, width, justify in COLUMNS]
RUNNER_WIDTH = (12, 26)  # the runner's name gives way on a narrow terminal, down to this
FIGURES_WIDTH = 1 + sum(1 + width for _, width, _ in COLUMNS) + 1  # with the gaps


def figures(s: Standing) -> list[str]:
    """The cells after the runner's, in COLUMNS order. Peak memory: the framework's GPU peak, else peak RSS."""
    peak = s.peak_device_bytes or s.peak_rss_bytes
    return [
        fmt_rate(s.throughput),
        relative_short(s),
        fmt_duration_ms(s.step_time_s),
        f"{s.warmup_s:.1f} s" if s.warmup_s else "–",
        fmt_bytes(peak) if peak else "–",
        fmt_loss(s.final_loss),
    ]


def unit_of(rows: list[Standing]) -> str:
    return next((s.unit for s in rows if s.throughput), "samples/s")


def shown_name(s: Standing, narrow: bool) -> tuple[str, str]:
    """The runner's name (short when narrow: "k/tf" rather than a cut "keras/tenso…") and its phase note."""
    note = f" ({s.phase})" if s.phase not in ("training", "done") else ""
    if s.steady_state == NO_STEADY_STATE:
        note += " (no steady state)"
    return (short_name(s.runner) if narrow else s.runner), note
