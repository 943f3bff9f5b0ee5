"""Keras side of a hub workload: KerasHub's model, loaded from the same checkpoint by KerasHub's own
Transformers converter (``from_preset`` on a local folder: nothing is downloaded).

Runs only in a runner subprocess (imports keras and keras_hub).
"""

from __future__ import annotations

import json
from pathlib import Path

import keras

from workloads.hub.architectures import ARCHITECTURES, class_count


def _backbone_kwargs(arch, config: dict) -> dict:
    kwargs = {keras_name: config[hf_key] for hf_key, keras_name in arch.backbone_kwargs_from_config.items()
              if hf_key in config}
    for key in arch.dropout_keys:  # KerasHub's converter leaves dropout at its default (0.1 for BERT)
        kwargs["dropout"] = config.get(key, 0.0)
    return kwargs


def _port_classifier_head(dense, checkpoint: str) -> None:
    """The classification head: a backbone's ``from_preset`` ports the backbone only and leaves the head random,
    so its two tensors are read from the checkpoint with KerasHub's own safetensors loader (Transformers names the
    head ``classifier`` in BERT, ViT and DeiT alike)."""
    from keras_hub.src.utils.transformers.safetensor_utils import SafetensorLoader

    with SafetensorLoader(checkpoint, prefix="") as loader:
        loader.port_weight(dense.kernel, "classifier.weight", hook_fn=lambda w, _: w.T)
        loader.port_weight(dense.bias, "classifier.bias")


def build(settings, hyper: dict, checkpoint: str):
    """A model that takes token ids (or images) and returns logits, as kvp-dash's Keras runner trains every
    workload: KerasHub's task model inside, given the all-ones padding mask (and zero segment ids) a text model's
    inputs expect."""
    import keras_hub

    arch = ARCHITECTURES[hyper["arch"]]
    config = json.loads((Path(checkpoint) / "config.json").read_text())
    backbone_kwargs = _backbone_kwargs(arch, config)
    backbone = getattr(keras_hub.models, arch.keras_backbone).from_preset(checkpoint, **backbone_kwargs)
    if not arch.keras_task:
        return _with_class_and_mean_head(arch, backbone, config, checkpoint)
    task_class = getattr(keras_hub.models, arch.keras_task)
    if arch.task == "classification":
        task = task_class(backbone=backbone, preprocessor=None, num_classes=class_count(config),
                          dropout=backbone_kwargs.get("dropout", 0.0))
        _port_classifier_head(task.output_dense, checkpoint)
    else:
        task = task_class(backbone=backbone, preprocessor=None)
    if arch.takes_images:
        size, channels = config["image_size"], config.get("num_channels", 3)
        images = keras.Input(shape=(size, size, channels), name="images")
        return keras.Model(images, task(images), name=f"{arch.model_type}_{arch.keras_task}")
    token_ids = keras.Input(shape=(hyper["length"],), dtype="int32", name="token_ids")
    inputs = {"token_ids": token_ids, "padding_mask": keras.ops.ones_like(token_ids)}
    if "segment_ids" in backbone.input:
        inputs["segment_ids"] = keras.ops.zeros_like(token_ids)
    return keras.Model(token_ids, task(inputs), name=f"{arch.model_type}_{arch.keras_task}")


def _with_class_and_mean_head(arch, backbone, config: dict, checkpoint: str):
    """Transformers' DINOv2 classifier head on KerasHub's backbone (KerasHub has no DINOv2 task): the class token
    and the mean of the patch tokens, side by side, into one dense layer, its weights ported from the checkpoint."""
    size, channels = config["image_size"], config.get("num_channels", 3)
    images = keras.Input(shape=(size, size, channels), name="images")
    tokens = backbone(images)  # (batch, 1 + patches, hidden), layer-normed as Transformers' last_hidden_state
    pooled = keras.ops.concatenate([tokens[:, 0], keras.ops.mean(tokens[:, 1:], axis=1)], axis=-1)
    dense = keras.layers.Dense(class_count(config), name="classifier")
    model = keras.Model(images, dense(pooled), name=f"{arch.model_type}_classifier")
    _port_classifier_head(dense, checkpoint)
    return model
