"""``kvp-dash check``: every runner from the same start on the same batches, and a parity table."""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace

from tui.cli.options import add_numerics_options, add_plan_options, command, plan_from


def register(commands) -> None:
    parser = command(
        commands, "check",
        "Run every installed runner from the same initial weights on the same batches and "
        "print a parity table: trainable parameters, initial logits, initial loss and the first "
        "optimizer steps' losses. Exits 1 when the runners disagree beyond tolerance.",
        check,
    )
    add_plan_options(parser)
    add_numerics_options(parser)


def check(args: argparse.Namespace) -> int:
    import asyncio

    from runners.protocol import Error
    from runners.session.verdict.parity import (
        FLOOR_MARGIN,
        PARITY_STEPS,
        ParityTracker,
        judge,
    )
    from tui.console.output import console as output_console
    from tui.console.parity_table import parity_table
    from tui.console.preparing import session_on_console

    # Parity needs no evaluation: validation off.
    # Every runner at once: parity needs no timing, and the plan's memory check counts them together.
    plan = replace(plan_from(args, steps=PARITY_STEPS + 1, schedule="parallel"), validation=False)
    console = output_console()
    # As the run would compute (precision, TF32, Keras's jit); every step counts (no warm-up).
    session = session_on_console(console, plan, args.output, folder_name=f"check-{plan.workload.name}",
                                 warmup_steps=0, precision=args.precision,
                                 keras_jit=args.keras_jit, tf32=args.tf32 == "on")
    tracker = ParityTracker(session.launcher.runner_names)
    errors: dict[str, Error] = {}

    def observe(event):
        tracker.observe(event)
        if isinstance(event, Error):
            errors[event.runner] = event

    console.print(f"[b]kvp-dash check[/b] · {session.description} · {len(plan.specs)} runners")
    with console.status("runners importing, building and training the first steps…"):
        try:
            asyncio.run(session.run_to_end(observe))
        except KeyboardInterrupt:
            console.print("interrupted; every runner was stopped")
            return 130
    report = judge(tracker, session.parity_context, failed=[])
    session.folder.write_json("parity.json", {"status": report.status, "reference": report.reference,
                                              "step_rtol": report.step_rtol, "floor_rdiff": report.floor_rdiff,
                                              "rows": [asdict(r) for r in report.rows]})
    console.print(parity_table(report, tracker))
    for runner, error in errors.items():
        console.print(f"[red]{runner} failed: {error.error_type}: {error.message}[/red]")
        console.print(f"  whole output: {session.folder.output_path(next(s for s in plan.specs if s.name == runner))}")
    for problem in report.problems:
        console.print(f"[red]✗ {problem}[/red]")
    if report.status == "verified" and not errors and report.losses_not_compared:
        console.print(f"[green]✓ parity verified[/green] as far as it can be: same trainable parameters and initial "
                      f"logits (inference mode) within {report.logits_atol:.2g} of {report.reference}; "
                      f"{report.losses_not_compared}, so the initial and step losses are shown, not judged")
        return 0
    if report.status == "verified" and not errors:
        rounding = "float32 rounding" if args.precision == "fp32" else f"{args.precision} rounding (mixed precision)"
        steps = (f"within {report.step_rtol:.1e} (relative: {FLOOR_MARGIN:g} × the noise floor {report.floor_rdiff:.1e} "
                 f"that {rounding} alone makes in {report.reference}, measured in this run)"
                 if report.floor_rdiff is not None else f"within {report.step_rtol:g} (relative)")
        console.print(
            f"[green]✓ parity verified[/green]: same trainable parameters, initial logits within "
            f"{report.logits_atol:.2g}, initial loss within {report.initial_rtol:.2g} and the next {PARITY_STEPS} "
            f"step losses {steps} of {report.reference}"
        )
        return 0
    if report.status == "single" and not errors:
        console.print("only one runner: nothing to compare against")
        return 0
    console.print(f"[red]✗ parity {report.status}[/red] (records in {session.folder.path})")
    return 1
