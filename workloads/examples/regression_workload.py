"""regression: a task besides classification. ``TASK = "regression"`` trains on mean squared error in both
frameworks and reports the validation MAE; ``--target mae=0.3`` times each runner to it.

No ``param_specs``: the PyTorch model's own initial weights are used (see ``convnet_workload.py``).
"""

import numpy as np

from workloads.base import SizePreset
from workloads.data import with_validation
from workloads.weights import keras_name

NAME = "regression"
TASK = "regression"
FEATURES = 16

SIZES = {
    "tiny": SizePreset(steps=60, batch_size=32, model={"width": 32}),
    "small": SizePreset(steps=300, batch_size=64, model={"width": 128}),
    "base": SizePreset(steps=1000, batch_size=256, model={"width": 512}),
    "large": SizePreset(steps=1000, batch_size=1024, model={"width": 2048}),
}


def sample_shape(settings, hyper):
    return (FEATURES,)


def make_dataset(settings, hyper):
    """A smooth nonlinear function of the features plus noise; 256 held-out samples for validation."""
    rng = np.random.default_rng(settings.seed)
    weights = rng.normal(size=(FEATURES,)) / np.sqrt(FEATURES)

    def draw(n):
        x = rng.normal(size=(n, FEATURES)).astype(np.float32)
        y = np.sin(x @ weights) + 0.5 * x[:, 0] * x[:, 1] + 0.1 * rng.normal(size=n)
        return x, y.astype(np.float32)

    return with_validation(draw, settings)


def build_keras(settings, hyper):
    import keras

    inputs = keras.Input(shape=(FEATURES,))
    x = keras.layers.Dense(hyper["width"], activation="relu", name=keras_name("body.0"))(inputs)
    x = keras.layers.Dense(hyper["width"], activation="relu", name=keras_name("body.2"))(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x))


def build_torch(settings, hyper):
    from torch import nn

    class Regressor(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(FEATURES, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
            self.head = nn.Linear(width, 1)

        def forward(self, x):
            return self.head(self.body(x))

    return Regressor(hyper["width"])
