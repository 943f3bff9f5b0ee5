"""Every key and screen, driven by Pilot on a deterministic synthetic stream."""

from __future__ import annotations

import io

from rich.console import Console
from textual.content import Content

from tests.synthetic import RUNNERS, SyntheticRun
from tui.app import DashboardApp
from tui.screens.confirm_quit import ConfirmQuitScreen
from tui.screens.detail_screen import RunnerDetailScreen
from tui.screens.help_screen import HelpScreen
from tui.widgets.metric_chart import MetricChart
from tui.widgets.runner_panel import RunnerPanel


def text_of(widget) -> str:
    return Content.from_markup(str(widget.content)).plain if hasattr(widget, "content") else str(widget.render())


def rendered(renderable) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def make_app(**kwargs) -> DashboardApp:
    source = SyntheticRun(**kwargs)
    return DashboardApp(source, "synthetic", animate=False, on_finished=lambda states: "judged")


async def settle(pilot):
    await pilot.pause(0.3)


async def test_chart_keys_change_every_chart():
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        charts = list(app.query(MetricChart))
        assert len(charts) == 3 and all(c.display for c in charts)  # wide: all three side by side
        assert all(c.border_subtitle == "smoothing 0.6 · linear · x: step" for c in charts)
        await pilot.press("s")
        await settle(pilot)
        assert app.view.smoothing == 0.9 and "smoothing 0.9" in charts[0].border_subtitle
        await pilot.press("s", "s")
        await settle(pilot)
        assert app.view.smoothing == 0.0 and charts[0].border_subtitle.startswith("raw")
        await pilot.press("l")
        await settle(pilot)
        assert app.view.log_scale and " log " in charts[1].border_subtitle
        await pilot.press("x")
        await settle(pilot)
        assert app.view.x_axis == "time" and "x: s since start" in charts[2].border_subtitle
        # Wall-time x axis: each runner's curve begins after its own start-up, a visible head start.
        drawn = app.query_one("#chart-loss", MetricChart).drawn
        assert set(drawn) == set(RUNNERS)
        assert min(drawn["keras/jax"][0]) > 5.0  # its first step ends after its 5 s start-up
        assert min(drawn["torch"][0]) < min(drawn["keras/jax"][0])


async def test_c_cycles_the_single_chart_on_a_narrow_terminal():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = lambda: [c.metric.key for c in app.query(MetricChart) if c.display]  # noqa: E731
        assert shown() == ["loss"]
        await pilot.press("c")
        assert shown() == ["step_time"]
        await pilot.press("c", "c")
        assert shown() == ["loss"]


async def test_layout_follows_the_terminal_as_state_the_app_reads():
    app = make_app(until_step=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.main
        assert (main.wide, main.short, main.too_small, main.columns) == (False, True, False, 2)
        assert main.has_class("-short") and not main.has_class("-wide")
        assert not any("timing" in panel.lines for panel in main.panels.values())  # short: detail lines dropped
        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        assert (main.wide, main.short, main.columns) == (True, False, 4)
        assert main.has_class("-wide") and not main.has_class("-short")
        assert all("timing" in panel.lines for panel in main.panels.values())
        assert all(chart.display for chart in main.charts.values())
        assert not app.check_action("next_chart", ())  # every chart shows: nothing to cycle
        await pilot.resize_terminal(70, 30)
        await settle(pilot)
        assert main.columns == 1 and app.query_one("#panels").has_class("-stacked")


async def test_focus_moves_between_panels_with_tab_and_arrows():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        focused = lambda: app.focused.runner if isinstance(app.focused, RunnerPanel) else None  # noqa: E731
        assert focused() == RUNNERS[0]
        await pilot.press("tab")
        assert focused() == RUNNERS[1]
        await pilot.press("right")
        assert focused() == RUNNERS[2]
        await pilot.press("left", "up")
        assert focused() == RUNNERS[0]
        await pilot.press("shift+tab")
        assert focused() == RUNNERS[-1]


async def test_enter_opens_the_focused_runners_detail_and_escape_returns(tmp_path):
    log = tmp_path / "torch.output.log"
    log.write_text("UserWarning: something a framework printed\n")
    app = DashboardApp(SyntheticRun(output=log), "synthetic", animate=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.main.panels["torch"].focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunnerDetailScreen) and screen.runner == "torch"
        charts = [c for c in screen.query(MetricChart) if c.display]  # no validation yet: its chart is hidden
        assert [c.metric.key for c in charts] == ["loss", "step_time", "throughput"]
        assert all(c.border_subtitle.startswith("smoothing") for c in charts)  # drawn with torch's data
        await pilot.press("2")
        assert screen.query_one("TabbedContent").active == "log"
        assert "something a framework printed" in "\n".join(str(line) for line in screen.query_one("Log").lines)
        await pilot.press("3")
        settings = rendered(screen.query_one("#settings-table").content)
        assert "118,282" in settings and "torch" in settings and "2.13.0" in settings
        await pilot.press("escape")
        assert not isinstance(app.screen, RunnerDetailScreen)


async def test_help_lists_every_key():
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        listed = dict(app.screen.keys)
        for key in ("q", "?", "Enter", "p", "k", "r", "s", "l", "x", "c", "Esc"):
            assert any(key in k.split(" / ") for k in listed), key
        assert any("arrows" in k for k in listed)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_verdict_shows_on_screen_at_the_end():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        verdict = app.query_one("#verdict")
        assert app.verdict == "judged" and verdict.display and "judged" in text_of(verdict)


async def test_leaderboard_ranks_by_throughput_live():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        from runners.session.verdict.summary import standings

        ranked = [s.runner for s in standings(app.states.values())]
        # Paces: keras/jax 4 ms, torch 5, keras/tensorflow 6, keras/torch 9.
        assert ranked == ["keras/jax", "torch", "keras/tensorflow", "keras/torch"]
        slowest = standings(app.states.values())[-1]
        assert round(slowest.slower_by, 2) == 2.25


async def test_too_small_terminal_shows_a_notice_instead():
    app = make_app(until_step=50)
    async with app.run_test(size=(50, 15)) as pilot:
        await settle(pilot)
        notice = app.query_one("#too-small")
        assert notice.display and "at least 60×18" in text_of(notice) and "50×15" in text_of(notice)
        assert not app.query_one("#body").display
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert not notice.display and app.query_one("#body").display


async def test_a_recording_is_read_only_and_quits_without_asking():
    app = make_app(until_step=50)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.check_action("stop_runner", ()) is None and app.check_action("restart_runner", ()) is None
        await pilot.press("k")
        assert all(not s.ended for s in app.states.values())
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmQuitScreen)
    assert not app.is_running


async def test_redraws_follow_the_refresh_rate_not_the_event_rate(monkeypatch):
    calls = []
    original = RunnerPanel.show
    monkeypatch.setattr(RunnerPanel, "show", lambda self, *a: (calls.append(1), original(self, *a))[1])
    app = DashboardApp(SyntheticRun(steps=20_000), "flood", refresh_hz=4, animate=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(1.0)
        events = len(SyntheticRun(steps=20_000)._events)
        assert events > 8000
        # Four panels, each redrawn at most once per tick (4 Hz) plus the final redraw.
        assert len(calls) <= 4 * (4 * 2 + 3), len(calls)
        assert all(s.phase == "done" for s in app.states.values())
