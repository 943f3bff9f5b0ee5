"""``kvp-dash --headless``: a run session followed with no Textual screen, for scripts and CI logs.

On a terminal it shows a live table (rich); otherwise it prints plain lines: every
phase change and error as it happens, each runner's figures every few seconds.
At the end it prints the standings and the verdict, which the session has
written to the run folder. The exit code is 1 if any runner failed.
"""

from __future__ import annotations

import asyncio
import time

from rich.live import Live
from rich.table import Table

from runners.protocol import Error, Evaluation, Phase
from runners.session.state.formatting import fmt_latency, fmt_loss, fmt_steps
from runners.session.observer import RunObserver, on_quit_signals
from runners.session.run_session import RunSession
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.summary import metric_text, validation_cell
from tui.console.output import console as output_console
from tui.console.standings import leaderboard_table

PLAIN_EVERY_S = 5.0
SAMPLE_EVERY_S = 1.0


def _figures(state: RunnerState) -> tuple[str, str, str, str]:
    step = f"{state.mean_step_time_s * 1000:.1f} ms" if state.mean_step_time_s else "–"
    value, unit = state.throughput
    rate = f"{value:,.0f} {unit}" if value else "–"
    serving = state.serving.by_batch
    if serving:  # a serving path: the smallest batch's median latency, the largest's throughput
        smallest, largest = serving[min(serving)], serving[max(serving)]
        p50, throughput = smallest.percentile(0.5), largest.throughput()
        step = f"p50 {fmt_latency(p50)} @{smallest.batch_size}"
        rate = f"{throughput:,.0f} samples/s @{largest.batch_size}" if throughput else "–"
    rss = f"{state.host.rss_bytes / 1024**2:,.0f} MiB" if state.host else "–"
    loss = fmt_loss(state.current_loss)
    return step, rate, rss, loss


def live_table(states: dict[str, RunnerState], caption: str | None = None) -> Table:
    table = Table(title="kvp-dash (headless)", title_justify="left", caption=caption, caption_justify="left")
    for column in ("runner", "phase", "step", "step time", "throughput", "RSS", "cpu", "loss"):
        table.add_column(column, justify="left" if column in ("runner", "phase") else "right")
    for s in states.values():
        step, rate, rss, loss = _figures(s)
        cpu = f"{s.host.cpu_percent:.0f}%" if s.host else "–"
        phase = s.phase + (" ⇄ shares device" if s.sharing_with else "")  # as the dashboard's panel says it
        table.add_row(s.name, phase, fmt_steps(s), step, rate, rss, cpu, loss)
    return table


def run(session: RunSession) -> int:
    console = output_console()
    launcher = session.launcher
    observer = RunObserver(launcher, session.parity_context)
    states = observer.states
    started = time.monotonic()
    live = Live(live_table(states), console=console, auto_refresh=False) if console.is_terminal else None

    def say(text: str) -> None:
        if live is None:
            print(f"[{time.monotonic() - started:7.1f}s] {text}", flush=True)

    def until_text() -> str | None:
        precision = observer.precision()
        return f"precision · {precision.describe()}" if precision else None

    said_until: str | None = None

    def on_event(event) -> None:
        nonlocal said_until
        state, _ = observer.fold(event)
        if state is None:
            return
        if live is None and isinstance(event, Phase) and event.phase in ("waiting", "done"):
            text = until_text()  # a turn ended: a new pair may have narrowed the interval
            if text and text != said_until:
                said_until = text
                say(text)
        if isinstance(event, Phase) and event.phase not in ("waiting", "resumed"):  # turns: every few seconds
            say(f"{event.runner:17s} {event.phase}")
        elif isinstance(event, Error):
            say(f"{event.runner:17s} error: {event.error_type}: {event.message}")
        elif isinstance(event, Evaluation):
            say(f"{event.runner:17s} validation after step {event.step + 1}: loss {event.loss:.4f} · "
                f"{metric_text(event.metric_name, event.metric)} ({event.eval_s:.2f} s, not counted)")

    async def tick() -> None:
        last_plain = time.monotonic()
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            observer.take(await asyncio.to_thread(observer.measure))  # psutil and NVML can block
            if live is not None:
                live.update(live_table(states, until_text()), refresh=True)
            elif time.monotonic() - last_plain >= PLAIN_EVERY_S:
                last_plain = time.monotonic()
                for s in states.values():
                    if s.phase in ("warmup", "training"):
                        step, rate, rss, loss = _figures(s)
                        say(f"{s.name:17s} step {fmt_steps(s)}  {step}/step  {rate}  "
                            f"RSS {rss}  loss {loss}")

    async def main() -> None:
        on_quit_signals(asyncio.current_task().cancel)  # `kill` or a dropped SSH session
        ticker = asyncio.create_task(tick())
        try:
            await session.run_to_end(on_event)
        finally:
            ticker.cancel()

    interrupted = False
    say(f"{session.description} · runners: {', '.join(launcher.runner_names)} · run folder {session.folder.path}")
    try:
        if live is not None:
            with live:
                asyncio.run(main())
        else:
            asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        interrupted = True
    observer.close()
    table, verdict_text = session.finish(states.values())
    if session.plan.serving:
        from tui.console.serving_table import failures, serving_table

        for size in session.plan.batch_sizes:
            console.print(serving_table(table, size))
        for line in failures(table, session.plan.batch_sizes[0]):
            console.print(line, highlight=False, markup=False)
        console.print(f"verdict: {verdict_text}")
        console.print(f"run folder: {session.folder.path}")
        return 1 if any(s.phase == "failed" for s in states.values()) else (130 if interrupted else 0)
    console.print(leaderboard_table(table, title="standings (steady-state throughput)"))
    target = session.plan.target
    for row in table:
        if row.val_loss is not None or target:
            reached = "" if target is None else (
                f" · {target.describe()} in {row.time_to_target_s:.1f} s" if row.time_to_target_s is not None
                else f" · {target.describe()} not reached")
            console.print(f"validation {row.runner}: {validation_cell(row)}{reached}")
    if session.parity_verdict is not None:
        console.print(session.parity_verdict.sentence, highlight=False)
    console.print(f"verdict: {verdict_text}")
    console.print(f"run folder: {session.folder.path}")
    if launcher.record_error:
        console.print(f"[bold]warning:[/bold] {launcher.record_error}")
    if launcher.bad_lines:
        console.print(f"[bold]warning:[/bold] {launcher.bad_lines} bad channel line(s) were skipped")
    if any(s.phase == "failed" for s in states.values()):
        return 1
    return 130 if interrupted else 0
