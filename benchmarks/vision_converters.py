"""KerasHub's converters of Transformers' vision checkpoints, checked as kvp-dash checks the ones it races: a tiny
model built by Transformers from a seed, saved with ``save_pretrained``, loaded by KerasHub's ``from_preset`` (no
download), and the outputs on the same random images compared (the largest absolute difference).

ViT and DeiT are raced (``--workload vit``, ``deit``); DINOv2 and Swin are checked here for the day they are:
DINOv2's backbone features (KerasHub has no DINOv2 classifier), Swin's classifier logits.

    KERAS_BACKEND=jax python benchmarks/vision_converters.py
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import torch

os.environ.setdefault("KERAS_BACKEND", "jax")


def _transformers():
    import transformers

    transformers.logging.set_verbosity_error()
    return transformers


def _save(model, folder: str) -> str:
    model.save_pretrained(folder, safe_serialization=True)
    return folder


def check_dinov2(folder: str, images: np.ndarray, epsilon: float) -> float:
    tf = _transformers()
    torch.manual_seed(0)
    config = tf.Dinov2Config(image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                             mlp_ratio=2, layer_norm_eps=epsilon, hidden_dropout_prob=0.0,
                             attention_probs_dropout_prob=0.0)
    model = tf.Dinov2Model(config).eval()
    with torch.no_grad():
        reference = model(pixel_values=torch.from_numpy(images.transpose(0, 3, 1, 2))).last_hidden_state.numpy()
    import keras_hub

    backbone = keras_hub.models.DINOV2Backbone.from_preset(_save(model, folder))
    converted = np.asarray(backbone.predict(images, verbose=0))
    return float(np.max(np.abs(converted - reference))) if converted.shape == reference.shape else float("nan")


def check_swin(folder: str, images: np.ndarray, epsilon: float) -> float:
    tf = _transformers()
    torch.manual_seed(0)
    config = tf.SwinConfig(image_size=32, patch_size=4, embed_dim=32, depths=[2, 2], num_heads=[2, 4], window_size=4,
                           num_labels=10, layer_norm_eps=epsilon, hidden_dropout_prob=0.0,
                           attention_probs_dropout_prob=0.0, drop_path_rate=0.0)
    model = tf.SwinForImageClassification(config).eval()
    with torch.no_grad():
        reference = model(pixel_values=torch.from_numpy(images.transpose(0, 3, 1, 2))).logits.numpy()
    import keras_hub

    classifier = keras_hub.models.SwinTransformerImageClassifier.from_preset(_save(model, folder), preprocessor=None)
    converted = np.asarray(classifier.predict(images, verbose=0))
    return float(np.max(np.abs(converted - reference))) if converted.shape == reference.shape else float("nan")


def main() -> None:
    images = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    with tempfile.TemporaryDirectory() as scratch:
        for name, check in (("dinov2", check_dinov2), ("swin", check_swin)):
            for epsilon in (1e-6, 1e-5):
                try:
                    difference = check(f"{scratch}/{name}-{epsilon}", images, epsilon)
                    print(f"{name:7s} layer_norm_eps {epsilon:g}: largest difference {difference:.2e}")
                except Exception as exc:  # noqa: BLE001 - a converter that fails is the finding
                    print(f"{name:7s} layer_norm_eps {epsilon:g}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


if __name__ == "__main__":
    main()
