"""Which frame is due, and what it redraws: the dashboard's pacing, as a plain object (no Textual).

Frames follow the data: the launcher reads the channels once per refresh
interval and each read asks for a frame. A clock at the refresh rate turns the
spinners and brings what waits for its own pace when no data comes. Each part of
the screen has its pace: changed panel rows every frame, the panels' slow rows
(means, device, CPU, memory) and the leaderboard once a second, the charts at
most once a second and within their share of one core.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

# Charts are the costliest widgets to draw (plotext builds each one in Python): they redraw at most
# once a second, and less often when drawing them would take more than this share of one core.
CHARTS_MAX_HZ = 1.0
CHART_CPU_SHARE = 0.005
# The leaderboard's figures are steady-state means: once a second is live enough.
LEADERBOARD_HZ = 1.0
PANEL_FIGURES_EVERY_S = 1.0


@dataclass(frozen=True)
class Frame:
    """What one frame redraws."""

    panels: frozenset[str]  # runners whose panels redraw
    figures: bool  # the panels' slow rows too
    leaderboard: bool
    charts: bool
    parity: bool
    spinner: int | None  # the spinners' position; None keeps them still


class FramePacer:
    def __init__(self, runners: Iterable[str], refresh_hz: float, animate: bool = True,
                 clock: Callable[[], float] = time.monotonic):
        """``animate`` False keeps spinners still (deterministic snapshots)."""
        self.frame_s = 1 / refresh_hz
        self.animate = animate
        self._clock = clock
        self._spinner = 0
        # What changed since the last frame drew it.
        self._changed: set[str] = set(runners)
        self._charts_changed = self._leaderboard_changed = self._parity_changed = True
        # When each part was last drawn (clock seconds).
        self._frame_at = self._data_frame_at = self._figures_at = self._leaderboard_at = self._charts_at = 0.0
        self.charts_cost_s = 0.0  # what the last charts' frame cost the process, to pace the next

    def runner_changed(self, runner: str, parity: bool = False) -> None:
        """New data from ``runner``: its panel, the leaderboard and the charts are behind (``parity``: the bar too)."""
        self._changed.add(runner)
        self._charts_changed = True
        self._parity_changed |= parity

    def runners_changed(self, runners: Iterable[str]) -> None:
        """Panels to redraw with no new data (samples, a layout that drops or brings back rows)."""
        self._changed.update(runners)

    def charts_changed(self, leaderboard: bool = False) -> None:
        """The charts must redraw at their next turn (a new view, a new size); ``leaderboard``: it too (a serving
        run's board follows the batch size its chart shows)."""
        self._charts_changed = True
        self._leaderboard_changed |= leaderboard

    def data_frame_delay(self) -> float:
        """Seconds until a data frame may be drawn: at once, unless the last was under half an interval ago.

        Live, data frames come at the refresh rate and never wait; the half interval only
        caps sources that deliver continuously (a replay at speed) at twice the refresh rate.
        """
        return max(0.0, self._data_frame_at + self.frame_s / 2 - self._clock())

    def data_frame_started(self) -> None:
        self._data_frame_at = self._clock()

    def clock_frame_wanted(self, spinning: bool, stale: bool) -> bool:
        """The clock's frame, when no frame came for an interval and something waits to be shown.

        A clock frame never holds back the next data frame: their pace is counted apart.
        """
        if self._clock() - self._frame_at < self.frame_s:
            return False
        spinning = spinning and self.animate
        return spinning or stale or bool(self._changed) or self._charts_changed or self._leaderboard_changed

    def next_frame(self, active: Iterable[str], stale: Iterable[str], force_charts: bool = False,
                   figures: bool = False) -> Frame:
        """What to redraw now; everything it names counts as drawn. ``active``: runners whose spinners turn;
        ``stale``: panels whose slow rows wait for their turn. ``force_charts``: every part now (a key, the end)."""
        now = self._frame_at = self._clock()
        if self.animate:
            self._spinner += 1
            self._changed.update(active)
        figures = figures or force_charts or now - self._figures_at >= PANEL_FIGURES_EVERY_S
        if figures:
            self._figures_at = now
            self._changed.update(stale)
        panels = frozenset(self._changed)
        self._changed.clear()
        if panels:
            self._leaderboard_changed = True
        leaderboard = self._leaderboard_changed and (force_charts or now - self._leaderboard_at >= 1 / LEADERBOARD_HZ)
        if leaderboard:
            self._leaderboard_changed = False
            self._leaderboard_at = now
        due = now - self._charts_at >= max(1 / CHARTS_MAX_HZ, self.charts_cost_s / CHART_CPU_SHARE)
        charts = self._charts_changed and (due or force_charts)
        if charts:
            self._charts_changed = False
            self._charts_at = now
        parity, self._parity_changed = self._parity_changed, False
        return Frame(panels, figures, leaderboard, charts, parity, self._spinner if self.animate else None)
