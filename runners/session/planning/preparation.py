"""Before the runners start: what every runner loads, made once in a subprocess of its own (the dashboard
never imports a framework) and kept in the cache (``runners.session.planning.prepared_cache``), reused while what
determines it is unchanged. The run folder's ``prepared.json`` says which entry a run used.

- A workload without ``param_specs``: the PyTorch model built from the seed, its ``state_dict``
  saved as ``initial_weights.npz``.
- A hub workload: the Transformers model built from the seed, saved in the hub's layout in
  ``checkpoint/`` (``config.json`` + ``model.safetensors``).

Progress (what is being made, bytes written, bytes verified) goes to ``on_progress`` as it happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from runners.protocol import PARENT_PID_ENV
from runners.session.planning.prepared_cache import CacheEntry, PreparedCache, cache_key, size_of
from runners.session.launching.runner_environment import framework_environment
from runners.weights_file import FILE_NAME
from workloads import WorkloadSettings
from workloads.errors import InputError

PREPARE_TIMEOUT_S = 3600  # a large hub size writes many GB
CHECKPOINT_FOLDER = "checkpoint"
RECORD_FILE = "prepared.json"
_POLL_S = 0.25


@dataclass(frozen=True)
class Progress:
    """How far a preparation is: its stage in words, and bytes written or verified so far."""

    stage: str
    done_bytes: int = 0
    total_bytes: int | None = None
    elapsed_s: float = 0.0

    def describe(self) -> str:
        amount = _size(self.done_bytes) + (f" of {_size(self.total_bytes)}" if self.total_bytes else "")
        return f"{self.stage} · {amount} · {self.elapsed_s:.0f} s"


@dataclass(frozen=True)
class _Kind:
    module: str  # the preparation subprocess
    name: str  # the file or folder it makes
    what: str


_WEIGHTS = _Kind("runners.child.preparing.weights", FILE_NAME, "the PyTorch model's initial weights")
_CHECKPOINT = _Kind("runners.child.preparing.checkpoint", CHECKPOINT_FOLDER, "the Transformers checkpoint")

ProgressCallback = Callable[[Progress], None]


def prepare_initial_weights(workload_ref: str, workload, settings: WorkloadSettings, run_folder: Path,
                            on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Path:
    """``initial_weights.npz`` from the cache, made first if needed; InputError (one line) if it cannot be."""
    return _prepare(_WEIGHTS, workload_ref, workload, settings, run_folder, on_progress, cancel)


def prepare_checkpoint(workload_ref: str, workload, settings: WorkloadSettings, run_folder: Path,
                       on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Path:
    """The hub workload's checkpoint folder from the cache, made first if needed."""
    return _prepare(_CHECKPOINT, workload_ref, workload, settings, run_folder, on_progress, cancel)


def prepared_parameters(folder: Path) -> int | None:
    """Trainable parameters of what a run used from preparation (None: it used nothing prepared)."""
    from runners import weights_file
    from workloads.hub.checkpoint import parameter_count

    try:
        path = Path(json.loads((folder / RECORD_FILE).read_text())["path"])
    except (OSError, ValueError, KeyError):
        return None
    if path.is_dir():
        return parameter_count(path)
    return weights_file.trainable_count(path) if path.is_file() else None


def _prepare(kind: _Kind, workload_ref: str, workload, settings: WorkloadSettings, run_folder: Path,
             on_progress: ProgressCallback | None, cancel: threading.Event | None) -> Path:
    def report(progress: Progress) -> None:  # called while generating and while hashing: a stop lands in both
        if cancel is not None and cancel.is_set():
            raise InputError(f"preparing {kind.what}: stopped")
        if on_progress is not None:
            on_progress(progress)

    started = time.monotonic()
    cache = PreparedCache()
    key, made_from = cache_key(kind.name, workload, settings)

    def verifying(total: int) -> Callable[[int], None]:
        return lambda done: report(Progress(f"verifying {kind.what} (SHA-256)", done, total,
                                            time.monotonic() - started))

    entry, why_not = cache.find(key, kind.name, verifying(size_of(cache.root / key / kind.name)))
    if entry is None:
        if why_not:
            report(Progress(why_not, 0, None, time.monotonic() - started))
        entry = _generate(kind, cache, key, made_from, workload_ref, settings, report, started, verifying)
    (run_folder / RECORD_FILE).write_text(json.dumps({**entry.record(), "what": kind.what}, indent=2) + "\n")
    return entry.path


def _generate(kind: _Kind, cache: PreparedCache, key: str, made_from: dict, workload_ref: str,
              settings: WorkloadSettings, report: ProgressCallback, started: float, verifying) -> CacheEntry:
    staging = cache.staging(key)
    try:
        _run_generator(kind, workload_ref, settings, staging / kind.name, report, started)
        return cache.store(key, staging, kind.name, made_from, verifying(size_of(staging / kind.name)))
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone once stored; a failure leaves nothing behind


def _run_generator(kind: _Kind, workload_ref: str, settings: WorkloadSettings, out: Path,
                   report: ProgressCallback, started: float) -> None:
    env = framework_environment("torch", "cpu")  # built on the CPU: the weights are the same anywhere
    env[PARENT_PID_ENV] = str(os.getpid())
    command = [sys.executable, "-m", kind.module, workload_ref, json.dumps(asdict(settings)), str(out)]
    what = f"building {kind.what}"
    with subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as process:
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)
        reader.start()
        try:
            while process.poll() is None:
                elapsed = time.monotonic() - started
                if elapsed > PREPARE_TIMEOUT_S:
                    raise InputError(f"{what} took over {PREPARE_TIMEOUT_S} s")
                written = size_of(out.parent)
                report(Progress(what if not written else f"{what}: writing", written, None, elapsed))
                time.sleep(_POLL_S)
        except BaseException:  # stopped, timed out, Ctrl-C: the generator goes too (Popen's exit would wait)
            process.kill()
            raise
        reader.join(timeout=5)
    if process.returncode != 0 or not out.exists():
        lines = [line.strip() for line in errors if line.strip()]
        raise InputError(lines[-1] if lines else f"{what} failed (exit {process.returncode})")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def prepared_summary(run_folder: Path) -> str | None:
    """One line on what the run's preparation used: made now or reused from the cache, and where."""
    try:
        record = json.loads((run_folder / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return None
    how = "reused from the cache (SHA-256 verified)" if record["reused"] else "made now and cached"
    return f"{record['what']}: {how}: {record['path']}"
