"""multilabel: several yes/no labels per sample. ``TASK = "multilabel"`` trains on binary cross-entropy on
logits in both frameworks and reports per-label validation accuracy at 0.5.

No ``param_specs``: the PyTorch model's own initial weights are used (see ``convnet_workload.py``).
"""

import numpy as np

from workloads.base import SizePreset
from workloads.data import with_validation
from workloads.weights import keras_name

NAME = "multilabel"
TASK = "multilabel"
FEATURES = 24
LABELS = 6

SIZES = {
    "tiny": SizePreset(steps=60, batch_size=32, model={"width": 32}),
    "small": SizePreset(steps=300, batch_size=64, model={"width": 128}),
    "base": SizePreset(steps=1000, batch_size=256, model={"width": 512}),
    "large": SizePreset(steps=1000, batch_size=1024, model={"width": 2048}),
}


def sample_shape(settings, hyper):
    return (FEATURES,)


def target_shape(settings, hyper):
    return (LABELS,)


def make_dataset(settings, hyper):
    """Each label is on when its own random projection of the features is positive (10 % flipped)."""
    rng = np.random.default_rng(settings.seed)
    projections = rng.normal(size=(FEATURES, LABELS))

    def draw(n):
        x = rng.normal(size=(n, FEATURES)).astype(np.float32)
        y = (x @ projections > 0).astype(np.float32)
        flip = rng.random(y.shape) < 0.1
        return x, np.where(flip, 1.0 - y, y).astype(np.float32)

    return with_validation(draw, settings)


def build_keras(settings, hyper):
    import keras

    inputs = keras.Input(shape=(FEATURES,))
    x = keras.layers.Dense(hyper["width"], activation="relu", name=keras_name("body.0"))(inputs)
    return keras.Model(inputs, keras.layers.Dense(LABELS, name="head")(x))


def build_torch(settings, hyper):
    from torch import nn

    class MultiLabel(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(FEATURES, width), nn.ReLU())
            self.head = nn.Linear(width, LABELS)

        def forward(self, x):
            return self.head(self.body(x))

    return MultiLabel(hyper["width"])
