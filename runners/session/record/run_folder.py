"""The run folder: each runner's events (JSONL, flushed as they arrive) and its captured output."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from runners.specs import RunnerSpec

RECORD_NAME = "run.json"  # the command and the settings: what every reader of a run folder starts from


def recorded_config(path: Path) -> dict:
    """A run folder's recorded config (its run.json's "config"); OSError, ValueError or KeyError where there is
    none to read, for the caller to word."""
    return json.loads((path / RECORD_NAME).read_text())["config"]


class RunFolder:
    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, base: Path, workload: str) -> "RunFolder":
        """A new ``<base>/<timestamp>-<workload>/`` folder; never reuses an existing one."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base.mkdir(parents=True, exist_ok=True)
        for attempt in range(100):
            path = base / (f"{stamp}-{workload}" + (f"-{attempt}" if attempt else ""))
            try:
                path.mkdir()
                return cls(path)
            except FileExistsError:
                continue
        raise FileExistsError(f"could not create a new run folder under {base}")

    def events_path(self, spec: RunnerSpec) -> Path:
        return self.path / f"{spec.slug}.events.jsonl"

    def output_path(self, spec: RunnerSpec) -> Path:
        return self.path / f"{spec.slug}.output.log"

    def write_json(self, name: str, data: dict) -> Path:
        return self.write_text(name, json.dumps(data, indent=2) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        """Write then rename, so a reader never sees a half-written file."""
        final = self.path / name
        temporary = final.with_name(final.name + ".tmp")
        temporary.write_text(text)
        os.replace(temporary, final)
        return final
