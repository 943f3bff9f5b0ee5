"""PyTorch side of a hub workload: the Transformers model, built from the seed or loaded from the checkpoint.

Runs only in a runner or preparation subprocess (imports torch and transformers).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from workloads.hub.architectures import ARCHITECTURES


def _transformers():
    import transformers

    transformers.logging.set_verbosity_error()  # "weights not initialised" notes are about heads we load
    return transformers


def hf_config(hyper: dict):
    """The Transformers config of this size, with position tables long enough for ``--seq-len``."""
    arch = ARCHITECTURES[hyper["arch"]]
    values = dict(hyper["config"])
    for key in ("n_positions", "max_position_embeddings"):
        if key in values and "length" in hyper:
            values[key] = max(values[key], hyper["length"])
    return getattr(_transformers(), arch.config_class)(**values)


def make_checkpoint(settings, hyper: dict, out_dir: str) -> None:
    """The Transformers model initialised from the seed (its own initialisers), saved in the hub's layout:
    ``config.json`` + ``model.safetensors``, float32. Both frameworks load this folder."""
    arch = ARCHITECTURES[hyper["arch"]]
    torch.manual_seed(settings.seed)
    model = getattr(_transformers(), arch.torch_class)(hf_config(hyper))
    model.save_pretrained(out_dir, safe_serialization=True)
    generation = Path(out_dir) / "generation_config.json"
    if generation.exists():
        os.remove(generation)  # a sampling config: nothing here generates text


class Logits(nn.Module):
    """The Transformers model called as kvp-dash's runners call every model: token ids in, logits out
    (the loss is the runner's, the same for every framework)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, use_cache=False).logits


class ImageLogits(nn.Module):
    """The Transformers vision model called as the runners call every model: images (NCHW) in, logits out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values).logits


def build(settings, hyper: dict, checkpoint: str) -> nn.Module:
    arch = ARCHITECTURES[hyper["arch"]]
    model_class = getattr(_transformers(), arch.torch_class)
    # float32 master weights whatever the checkpoint holds: --precision bf16 autocasts, as for every workload.
    model = model_class.from_pretrained(checkpoint, dtype=torch.float32, local_files_only=True)
    return ImageLogits(model) if arch.takes_images else Logits(model)
