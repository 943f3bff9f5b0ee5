"""A checkpoint folder in the Hugging Face hub's layout: ``config.json`` plus ``model.safetensors`` (or shards
named by ``model.safetensors.index.json``). Framework-free: safetensors reads headers without torch, so the
dashboard checks a folder, counts its parameters and the runners hash what they load."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from workloads.errors import InputError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"


def read_config(folder: Path) -> dict:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise InputError(f"{folder} has no {CONFIG_FILE}: a checkpoint in the hub's layout needs one")
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(config, dict) or "model_type" not in config:
        raise InputError(f"{path} names no model_type")
    return config


def weight_files(folder: Path) -> list[Path]:
    """The safetensors files that hold the weights, each checked to be whole (header and data length)."""
    folder = Path(folder)
    if (folder / WEIGHTS_FILE).is_file():
        files = [folder / WEIGHTS_FILE]
    elif (folder / INDEX_FILE).is_file():
        try:
            shards = sorted(set(json.loads((folder / INDEX_FILE).read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{folder / INDEX_FILE} is not a safetensors index: {exc}") from None
        files = [folder / shard for shard in shards]
    else:
        raise InputError(f"{folder} has no {WEIGHTS_FILE}: a checkpoint in the hub's layout needs its weights")
    for file in files:
        _check_whole(file)
    return files


def _check_whole(file: Path) -> None:
    from safetensors import safe_open

    if not file.is_file():
        raise InputError(f"{file} is missing (named by {INDEX_FILE})")
    try:
        with safe_open(str(file), framework="numpy") as handle:
            handle.keys()
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for a damaged file
        raise InputError(f"{file} is not a whole safetensors file ({type(exc).__name__}: {exc})") from None


def parameter_count(folder: Path) -> int:
    """Elements over every stored tensor: the trainable parameters (tied weights are stored once)."""
    from safetensors import safe_open

    total = 0
    for file in weight_files(folder):
        with safe_open(str(file), framework="numpy") as handle:
            total += sum(math.prod(handle.get_slice(key).get_shape()) for key in handle.keys())
    return total


def sha256(folder: Path) -> str:
    """Of the weight files' bytes, in order: the same in every runner that loaded the same checkpoint."""
    digest = hashlib.sha256()
    for file in weight_files(folder):
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
