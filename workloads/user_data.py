"""A user's own arrays (``--data FILE.npz``): ``x_train``, ``y_train`` and optionally ``x_val``, ``y_val``;
or, for a language model, ``input_ids`` (and optionally ``val_input_ids``): token sequences as a tokenizer
writes them, cut here into inputs and the next-token targets.

The dashboard checks the file's headers (no full load, no framework) so bad
files fail before anything starts; each runner then loads the same arrays and
lays them out in step order, exactly as the synthetic data.
"""

from __future__ import annotations

import zipfile

import numpy as np

from workloads.base import Dataset, Workload, WorkloadSettings
from workloads.data import in_step_order
from workloads.errors import InputError
from workloads.tasks import get_task

REQUIRED_KEYS = ("x_train", "y_train")
TOKEN_KEYS = {"train": "input_ids", "val": "val_input_ids"}
OPTIONAL_KEYS = ("x_val", "y_val")


def _headers(path: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every array in an .npz, read from the headers only."""
    found = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for entry in archive.namelist():
                if not entry.endswith(".npy"):
                    continue
                with archive.open(entry) as handle:
                    version = np.lib.format.read_magic(handle)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(handle)
                found[entry[: -len(".npy")]] = (shape, dtype)
    except FileNotFoundError:
        raise InputError(f"--data file {path} does not exist") from None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InputError(f"--data file {path} is not a readable .npz archive ({exc})") from None
    return found


def check_data_file(workload: Workload, settings: WorkloadSettings) -> None:
    """Raise ValueError with a one-line reason when the file does not fit the workload."""
    path = settings.data_path
    arrays = _headers(path)
    if workload.task == "language_model" and TOKEN_KEYS["train"] in arrays:
        _check_token_ids(workload, settings, arrays)
        return
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise InputError(f"--data file {path} has no {' or '.join(missing)} (it has: {', '.join(arrays) or 'nothing'})")
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise InputError(f"--data file {path} has only one of x_val and y_val")
    hyper = workload.hyper(settings)
    want_x = tuple(workload.sample_shape(settings, hyper))
    want_y = tuple(workload.target_shape(settings, hyper))
    for split in ("train", "val"):
        if f"x_{split}" not in arrays:
            continue
        (x_shape, x_dtype), (y_shape, y_dtype) = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if tuple(x_shape[1:]) != want_x:
            raise InputError(f"--data x_{split} has samples of shape {tuple(x_shape[1:])}; {workload.name} needs {want_x}")
        if tuple(y_shape[1:]) != want_y:
            raise InputError(f"--data y_{split} has targets of shape {tuple(y_shape[1:])}; {workload.name} needs {want_y}")
        if x_shape[0] != y_shape[0]:
            raise InputError(f"--data x_{split} has {x_shape[0]} samples but y_{split} has {y_shape[0]}")
        if x_shape[0] == 0:
            raise InputError(f"--data x_{split} is empty")
        wants_tokens = workload.input_dtype == "int32"
        if wants_tokens and x_dtype.kind not in "iu":
            raise InputError(f"--data x_{split} must hold integer token ids, not {x_dtype}")
        if not wants_tokens and x_dtype.kind != "f":
            raise InputError(f"--data x_{split} must hold floating-point features, not {x_dtype}")
        task = get_task(workload.task)
        if task.target_dtype == "int64" and y_dtype.kind not in "iu":
            raise InputError(f"--data y_{split} must hold integer class ids, not {y_dtype}")
        if task.target_dtype != "int64" and y_dtype.kind not in "iuf":
            raise InputError(f"--data y_{split} must hold numbers for a {task.name} task, not {y_dtype}")


def _check_token_ids(workload: Workload, settings: WorkloadSettings, arrays: dict) -> None:
    length = workload.hyper(settings)["length"]
    for key in TOKEN_KEYS.values():
        if key not in arrays:
            continue
        shape, dtype = arrays[key]
        if len(shape) != 2 or shape[0] == 0 or shape[1] < length + 1:
            raise InputError(f"--data {key} has shape {shape}; {workload.name} needs (sequences, at least "
                             f"{length + 1}): {length} input tokens and the next one as the last target")
        if dtype.kind not in "iu":
            raise InputError(f"--data {key} must hold integer token ids, not {dtype}")


def _token_splits(arrays, length: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Inputs: the first ``length`` tokens of each row; targets: the same shifted by one."""
    return {split: (arrays[key][:, :length].astype(np.int32), arrays[key][:, 1 : length + 1].astype(np.int64))
            for split, key in TOKEN_KEYS.items() if key in arrays}


def has_validation(path: str) -> bool:
    headers = _headers(path)
    return "x_val" in headers or TOKEN_KEYS["val"] in headers


def load_dataset(workload: Workload, settings: WorkloadSettings) -> Dataset:
    task = get_task(workload.task)
    with np.load(settings.data_path) as arrays:
        tokens = workload.task == "language_model" and TOKEN_KEYS["train"] in arrays.files
        if tokens:
            splits = _token_splits(arrays, workload.hyper(settings)["length"])
        else:
            splits = {split: (arrays[f"x_{split}"].astype(workload.input_dtype, copy=False),
                              task.targets(arrays[f"y_{split}"]))
                      for split in ("train", "val") if f"x_{split}" in arrays}
    if task.target_dtype == "int64":
        classes = workload.num_classes(workload.hyper(settings))
        for split, (x, y) in splits.items():
            # Token rows: every id used, inputs included (an embedding lookup out of range is an error in
            # PyTorch but clamped silently by XLA).
            name, ids = (TOKEN_KEYS[split], np.concatenate([x[:, :1], y], axis=1)) if tokens else (f"y_{split}", y)
            if ids.size and (ids.min() < 0 or ids.max() >= classes):
                raise InputError(f"{name} holds ids outside 0..{classes - 1}")
    x, y = splits["train"]
    return in_step_order(x, y, settings, validation=splits.get("val"))
