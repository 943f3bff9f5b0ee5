"""`kvp-dash infer`'s plan: the workload and device resolved as a training run's, the serving paths chosen, the
batch sizes and the weights checked; bad input is one line here, before anything starts."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

from runners import weights_file
from runners.serving_paths import choose_paths
from runners.session.planning.plan import Plan, make_plan
from runners.session.planning.serving_memory import fit_paths_in_memory, inputs_bytes, weights_bytes
from runners.session.record.run_folder import RECORD_NAME, recorded_config
from workloads.errors import InputError

# The largest batch size a path is asked to serve: its inputs are held for every size at once.
MAX_BATCH = 65536


def parse_batch_sizes(text: str) -> list[int]:
    """``"1,8,64"`` -> [1, 8, 64]; InputError for anything but distinct positive whole numbers."""
    sizes = []
    for word in (w.strip() for w in text.split(",")):
        if not word.lstrip("-").isdigit():
            raise InputError(f"--batch-sizes takes whole numbers separated by commas (1,8,64), got {word!r}")
        size = int(word)
        if size < 1:
            raise InputError(f"--batch-sizes: a batch size of {size} serves nothing; each must be 1 or more")
        if size > MAX_BATCH:
            raise InputError(f"--batch-sizes: {size} is more than {MAX_BATCH}")
        sizes.append(size)
    if len(set(sizes)) != len(sizes):
        raise InputError("--batch-sizes lists a size twice")
    return sizes


def trained_run(folder: Path) -> tuple[dict, Path]:
    """A training run folder's recorded config and its final weights file; InputError when it has none."""
    if not folder.is_dir():
        raise InputError(f"--from {folder}: no such run folder")
    if not (folder / RECORD_NAME).is_file():
        raise InputError(f"--from {folder}: not a run folder (no run.json)")
    weights = folder / weights_file.FINAL_NAME
    if not weights.is_file():
        raise InputError(f"--from {folder}: no saved weights ({weights_file.FINAL_NAME}): the native torch runner "
                         "saves them at the end of a training run of a built-in or file workload (not a hub "
                         "checkpoint, not --devices/--hosts); train with it in --runners")
    try:
        config = recorded_config(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"--from {folder}: unreadable run.json ({exc})") from None
    try:
        weights_file.trainable_count(weights)  # reads the archive's index and names, not the tensors
    except OSError as exc:
        raise InputError(f"--from {folder}: cannot read {weights_file.FINAL_NAME} ({exc})") from None
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        what = "no list of trainable tensors" if isinstance(exc, KeyError) else "not a NumPy .npz archive"
        raise InputError(f"--from {folder}: {weights_file.FINAL_NAME} is not a weights file kvp-dash wrote "
                         f"({what})") from None
    return config, weights


def make_serving_plan(workload: str | None, *, size: str | None, batch_sizes: list[int], paths: str | None,
                      duration_s: float, seed: int = 0, image_size: int | None = None, seq_len: int | None = None,
                      device: str = "auto", gpus: list[int] | None = None, schedule: str | None = None,
                      from_run: Path | None = None, allow_mixed_devices: bool = False,
                      keep_exports: bool = False, keras_predict: bool = False, available: int | None = None) -> Plan:
    """The plan of a serving run (``schedule`` None: interleaved where every path's process fits in memory
    together, else sequential with a notice; ``available``: the memory to fit in, for tests)."""
    weights = None
    if from_run is not None:
        config, weights = trained_run(from_run)
        if workload is not None and workload != config["workload"] and Path(workload).name != config["workload"]:
            raise InputError(f"--from {from_run} trained {config['workload']}, not {workload}: leave --workload out")
        settings = config["settings"]
        if config.get("checkpoint"):
            raise InputError(f"--from {from_run}: a hub checkpoint's run; serve the checkpoint with --workload hub:FOLDER")
        workload, size, seed = config["workload"], settings["size"], settings["seed"]
        image_size, seq_len = settings.get("image_size"), settings.get("seq_len")
    specs, skipped = choose_paths(paths)
    plan = make_plan(workload or "resnet18", size=size, seed=seed, image_size=image_size, seq_len=seq_len,
                     device=device, gpus=gpus, schedule=schedule or "interleaved", duration_s=duration_s,
                     runners=",".join(dict.fromkeys(installed_runner_for(spec) for spec in specs)),
                     allow_mixed_devices=allow_mixed_devices, trains=False)
    weights_from = str(weights.resolve()) if weights else None
    chosen_schedule, notice = fit_paths_in_memory(
        specs, weights_bytes(plan.workload, plan.settings, weights_from),
        inputs_bytes(plan.workload.input_shape(plan.settings), batch_sizes), plan.schedule,
        explicit=schedule is not None, available=available)
    return replace(plan, specs=specs, skipped=skipped, batch_sizes=batch_sizes, validation=False,
                   weights_from=weights_from, keep_exports=keep_exports, keras_predict=keras_predict,
                   schedule=chosen_schedule, notices=[notice] if notice else [])


def installed_runner_for(spec) -> str:
    """The training runner whose framework a path's process loads: what make_plan checks devices and memory for."""
    return {"jax": "keras/jax", "tensorflow": "keras/tensorflow"}.get(spec.backend, "torch")
