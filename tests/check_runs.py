"""How a ``kvp-dash check`` run is judged: its verdict, its parity table and its record agree."""

from __future__ import annotations

import json
import math
from pathlib import Path

from runners.session.verdict.parity import PARITY_STEPS, ParityContext, judge
from runners.session.planning.preparation import prepared_parameters
from tests.conftest import ALL_SPECS, recorded_parity
from workloads import get_workload


def assert_check_agrees(result, folder: Path, workload_ref: str) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "✓ parity verified" in result.stdout
    workload = get_workload(workload_ref)
    settings = workload.settings(size="tiny", steps=PARITY_STEPS + 1)
    tracker = recorded_parity(folder)
    # A model only its own framework counts (a hub checkpoint): the count of what the run prepared.
    expected = workload.trainable_params(settings) or prepared_parameters(folder)
    report = judge(tracker, ParityContext(expected_params=expected, step_rtol=workload.parity_step_rtol), [])
    assert report.status == "verified", report.problems
    assert report.reference == "torch"
    assert json.loads((folder / "parity.json").read_text())["status"] == "verified"
    assert set(tracker.facts) == set(ALL_SPECS)
    for name, facts in tracker.facts.items():
        assert facts.params == expected, name
        assert len(facts.losses) == PARITY_STEPS + 1 and all(math.isfinite(v) for v in facts.losses)
    # "Every panel's first loss point is the same number": identical to 1e-4 relative, or better.
    first = [f.losses[0] for f in tracker.facts.values()]
    assert max(first) - min(first) <= 1e-4 * abs(first[0])
    rows = {r.runner: r for r in report.rows}
    for name in ("keras/jax", "keras/tensorflow", "keras/torch"):
        assert rows[name].logits_diff is not None and rows[name].logits_diff <= 1e-4
    # Piped, as into a CI log: no runner name and no parameter count is cut.
    rows_shown = [line for line in result.stdout.splitlines() if line.startswith("│")]
    table = [line for line in rows_shown if "perturbed (floor)" not in line]
    assert len(table) == len(ALL_SPECS) and "…" not in result.stdout
    for name in ALL_SPECS:
        assert any(line.split("│")[1].strip() == name for line in table), name
    assert all(f"{expected:,}" in line for line in table)
    # The noise floor the step tolerance comes from, measured by the reference in this run, has its own row.
    assert len(rows_shown) == len(ALL_SPECS) + 1 and report.floor_rdiff is not None


