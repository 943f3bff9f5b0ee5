"""A finished run folder read whole: its config (run.json), what it ran on (meta.json) and each runner's state
folded from its recorded events, for views that look back at runs (``compare``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from runners.session.record.replay import RecordedRun
from runners.session.state.runner_state import RunnerState


@dataclass
class FinishedRun:
    path: Path
    config: dict
    meta: dict
    states: dict[str, RunnerState]

    @property
    def workload(self) -> str:
        return Path(str(self.config["workload"]).removeprefix("hub:")).stem  # "mlp", or a workload file's name

    @property
    def size(self) -> str:
        return self.config["settings"]["size"]

    def describe(self) -> str:
        return f"{self.workload} ({self.size})"


def read_run(path: Path) -> FinishedRun:
    """The run at ``path``; a folder that is not a run raises ``NotARunFolder`` (one line)."""
    recorded = RecordedRun(path)  # says what is wrong with a folder that is not a run
    states = {}
    for name in recorded.runner_names:
        state = recorded.new_state(name)
        for event in recorded.events_of(name):
            state.apply(event)
        states[name] = state
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        meta = {}  # a run folder from before meta.json: what differs is then told from run.json alone
    return FinishedRun(path, recorded.config, meta, states)
