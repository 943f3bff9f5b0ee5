"""SVG snapshots of every screen from the deterministic synthetic stream (pytest-textual-snapshot).

Update after an intended change: ``python -m pytest tests/test_snapshots.py --snapshot-update``,
then look at the new SVGs before committing them.
"""

from __future__ import annotations

from runners.session.verdict.summary import standings, verdict
from tests.synthetic import SyntheticRun
from tui.app import DashboardApp

DESCRIPTION = "mlp (tiny) · batch 32 · 200 steps · synthetic"


def dashboard(**kwargs) -> DashboardApp:
    def judge(states):
        return verdict(states, standings(states), "mlp", 32, "cpu")

    return DashboardApp(SyntheticRun(**kwargs), DESCRIPTION, animate=False, on_finished=judge)


async def settled(pilot) -> None:
    """Every event in, one redraw done, and no toast left to time out mid-snapshot."""
    await pilot.pause(0.5)
    pilot.app.clear_notifications()
    await pilot.pause(0.3)


def test_main_screen_80x24_mid_run(snap_compare):
    assert snap_compare(dashboard(until_step=120), terminal_size=(80, 24), run_before=settled)


def test_main_screen_160x48_mid_run(snap_compare):
    assert snap_compare(dashboard(until_step=120), terminal_size=(160, 48), run_before=settled)


def test_verdict_at_the_end(snap_compare):
    assert snap_compare(dashboard(), terminal_size=(100, 30), run_before=settled)


def test_runner_detail_screen(snap_compare):
    async def open_detail(pilot):
        await settled(pilot)
        pilot.app.main.panels["torch"].focus()
        await pilot.press("enter")
        await settled(pilot)

    assert snap_compare(dashboard(), terminal_size=(100, 30), run_before=open_detail)


def test_help_screen(snap_compare):
    async def open_help(pilot):
        await settled(pilot)
        await pilot.press("question_mark")
        await settled(pilot)

    assert snap_compare(dashboard(until_step=120), terminal_size=(80, 24), run_before=open_help)


def test_too_small_notice(snap_compare):
    assert snap_compare(dashboard(until_step=120), terminal_size=(50, 15), run_before=settled)
