"""Hub workloads: Hugging Face architectures trained from one checkpoint by both frameworks.

A preparation subprocess builds the Transformers model from the seed and saves it in
the hub's layout in the run folder (``config.json`` + ``model.safetensors``); the PyTorch
runners load it with Transformers' ``from_pretrained``, the Keras runners with KerasHub's
``from_preset``. ``--workload hub:PATH`` trains a checkpoint folder already on disk instead.
Framework-free: the dashboard lists and checks these without importing a framework.
"""

from __future__ import annotations

from pathlib import Path

from workloads.base import SizePreset, Workload
from workloads.errors import InputError
from workloads.hub import flops, text
from workloads.hub.architectures import ARCHITECTURES, HubArchitecture, architecture_for, class_count

PREFIX = "hub:"
EXTRA_MODULES = ("transformers", "keras_hub", "safetensors")
# A local checkpoint trains at one size, its own; these are its run's defaults.
CHECKPOINT_PRESET = {"steps": 60, "batch_size": 8, "length": 128}


def missing_hub_modules() -> list[str]:
    import importlib.util

    return [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]


def require_hub_extra() -> None:
    """One line, not an ImportError in every runner, when the [hub] extra is not installed."""
    missing = missing_hub_modules()
    if missing:
        raise InputError(f"hub workloads need {', '.join(missing)}: pip install 'kvp-dash[hub]'")


def _check_length(settings, hyper: dict) -> None:
    """A checkpoint's learned position table bounds the sequence (made-from-seed ones are sized to fit)."""
    config, length = hyper["config"], hyper["length"]
    limit = config.get("n_positions") or (config.get("max_position_embeddings") if hyper["arch"] == "bert" else None)
    if limit and length > limit:
        raise InputError(f"--seq-len {length} is longer than this checkpoint's {limit} positions")


def _workload(arch: HubArchitecture, name: str, description: str, sizes: dict[str, SizePreset],
              default_size: str, folder: str | None = None) -> Workload:
    made = dict(make_checkpoint=None if folder else "workloads.hub.torch_model:make_checkpoint",
                checkpoint_folder=folder, source="built-in" if folder is None else folder,
                keras_builder="workloads.hub.keras_model:build", torch_builder="workloads.hub.torch_model:build",
                param_specs=None, default_size=default_size, sizes=sizes, task=arch.task,
                name=name, description=description)
    if arch.takes_images:
        return Workload(**made, **_image_inputs(arch))
    return Workload(**made, **_token_inputs(arch), check_settings=_check_length if folder else None)


def _token_inputs(arch: HubArchitecture) -> dict:
    """Text: byte-level token ids of real text, a sequence of ``length``."""
    language_model = arch.task == "language_model"

    def dataset(settings, hyper):
        make = text.next_token_text if language_model else text.prose_or_code
        return make(settings, hyper["length"])

    def forward(settings, hyper):
        return flops.forward_flops(hyper["config"], hyper["length"], arch.task, class_count(hyper["config"]))

    return dict(
        make_dataset=dataset,
        sample_shape=lambda settings, hyper: (hyper["length"],),
        target_shape=(lambda settings, hyper: (hyper["length"],)) if language_model else (lambda settings, hyper: ()),
        input_dtype="int32",
        num_classes=(lambda hyper: hyper["config"]["vocab_size"]) if language_model
        else (lambda hyper: class_count(hyper["config"])),
        forward_flops=forward,
    )


def _image_inputs(arch: HubArchitecture) -> dict:
    """Images: the checkpoint's own size and channels (its position table is sized for them), NHWC for Keras and
    NCHW for PyTorch, one pattern a class."""
    from workloads.data import pattern_images

    def shape(hyper) -> tuple[int, int, int]:
        config = hyper["config"]
        return config["image_size"], config["image_size"], config.get("num_channels", 3)

    def dataset(settings, hyper):
        size, _, channels = shape(hyper)
        return pattern_images(settings, class_count(hyper["config"]), channels=channels, size=size)

    def forward(settings, hyper):
        config, classes = hyper["config"], class_count(hyper["config"])
        if arch.model_type == "swin":  # windowed attention and patch merging: its own count
            return flops.swin_forward_flops(config, classes)
        return flops.vision_forward_flops(config, classes, extra_tokens=arch.extra_tokens,
                                          head_inputs=2 if arch.model_type == "dinov2" else 1)

    return dict(
        make_dataset=dataset,
        sample_shape=lambda settings, hyper: shape(hyper),
        num_classes=lambda hyper: class_count(hyper["config"]),
        forward_flops=forward,
        torch_input_axes=(0, 3, 1, 2),  # NHWC -> NCHW
    )


def _with_arch(arch: HubArchitecture, preset: SizePreset, **more) -> SizePreset:
    return SizePreset(steps=preset.steps, batch_size=preset.batch_size,
                      model={**preset.model, "arch": arch.model_type, **more})


HUB_WORKLOADS: dict[str, Workload] = {
    name: _workload(arch, name, arch.description,
                    {size: _with_arch(arch, preset) for size, preset in arch.sizes.items()}, "small")
    for name, arch in ARCHITECTURES.items()
}


def checkpoint_workload(ref: str) -> Workload:
    """``hub:PATH``: a checkpoint folder in the hub's layout, refused in one line unless both frameworks can
    load it (its files are whole, and its architecture is one KerasHub converts faithfully)."""
    require_hub_extra()
    folder = Path(ref[len(PREFIX):]).expanduser()
    config = _read_checkpoint(folder)
    arch = architecture_for(config)
    if arch is None:
        known = ", ".join(f"{a.torch_class} ({a.model_type})" for a in ARCHITECTURES.values())
        found = ", ".join(config.get("architectures") or []) or "none named"
        raise InputError(f"{folder}: kvp-dash cannot race architecture {config.get('model_type')!r} "
                         f"({found}); it races {known}")
    if arch.model_type == "dinov2" and config.get("layer_norm_eps", 1e-6) != 1e-6:
        raise InputError(f"{folder}: KerasHub's DINOv2 layers use LayerNorm epsilon 1e-6 and its converter does not "
                         f"read this checkpoint's {config['layer_norm_eps']:g}: the two models would differ "
                         "(by 1.2e-2 in the features at 1e-5)")
    if arch.takes_images:
        preset = SizePreset(steps=CHECKPOINT_PRESET["steps"], batch_size=CHECKPOINT_PRESET["batch_size"],
                            model={"config": config, "arch": arch.model_type})
        return _workload(arch, folder.name, f"{arch.torch_class} checkpoint in {folder}", {"checkpoint": preset},
                         "checkpoint", folder=str(folder.resolve()))
    preset = SizePreset(steps=CHECKPOINT_PRESET["steps"], batch_size=CHECKPOINT_PRESET["batch_size"],
                        model={"length": CHECKPOINT_PRESET["length"], "config": config, "arch": arch.model_type})
    if config.get("vocab_size", 0) < text.BYTE_VOCAB:
        raise InputError(f"{folder}: a vocabulary of {config.get('vocab_size')} tokens cannot hold the "
                         f"{text.BYTE_VOCAB} byte-level token ids kvp-dash trains on")
    return _workload(arch, folder.name, f"{arch.torch_class} checkpoint in {folder}", {"checkpoint": preset},
                     "checkpoint", folder=str(folder.resolve()))


def _read_checkpoint(folder: Path) -> dict:
    from workloads.hub.checkpoint import read_config, weight_files

    if not folder.is_dir():
        raise InputError(f"hub checkpoint folder {folder} does not exist")
    config = read_config(folder)
    weight_files(folder)  # missing or unreadable weights: refused here, before anything starts
    return config


__all__ = ["HUB_WORKLOADS", "PREFIX", "checkpoint_workload"]
