"""tabular: an example of bringing your own model to kvp-dash.

Run it with ``kvp-dash --workload workloads/examples/tabular_workload.py`` and
check parity with ``kvp-dash check --workload workloads/examples/tabular_workload.py``.

A workload file defines the pieces below at module level. Two rules keep the
comparison honest and the dashboard fast:

1. Import frameworks only inside ``build_keras`` / ``build_torch``: the
   dashboard loads this file too, and it never imports a framework.
2. Name each Keras layer after the PyTorch module holding the same
   tensors, dots written as dashes (``Dense(name="body-0")`` <-> ``self.body[0]``,
   ``keras_name("body.0")`` does it).

``param_specs`` is optional. This file lists every tensor in it with its
PyTorch ``state_dict`` name, so kvp-dash generates one set of initial weights
from the seed in numpy, without building the PyTorch model first. Without it
(see ``convnet_workload.py``), the PyTorch model's own initial weights are
saved before the runners start and loaded into every runner. Either way both
models get the same weights, with layouts converted (Dense, Conv2D,
BatchNormalization, LayerNormalization, Embedding and LSTM are mapped for you;
for anything else define ``load_keras_weights(model, weights)`` and/or
``load_torch_weights(model, weights)``).
"""

import numpy as np

from workloads.base import Dataset, SizePreset
from workloads.data import in_step_order
from workloads.weights import keras_name, layer_norm, linear

NAME = "tabular"
FEATURES = 32
CLASSES = 3

# Model hyperparameters and run length per --size; tiny and small suit a CPU.
SIZES = {
    "tiny": SizePreset(steps=40, batch_size=32, model={"width": 64}),
    "small": SizePreset(steps=300, batch_size=64, model={"width": 256}),
    "base": SizePreset(steps=1000, batch_size=256, model={"width": 1024}),
    "large": SizePreset(steps=1000, batch_size=1024, model={"width": 4096}),
}


def sample_shape(settings, hyper):
    """One input sample's shape, channels last for images."""
    return (FEATURES,)


def num_classes(hyper):
    return CLASSES


def param_specs(settings, hyper):
    """Every tensor of the model, in PyTorch's names and layout."""
    width = hyper["width"]
    return linear("body.0", FEATURES, width) + layer_norm("body.1", width) + linear("head", width, CLASSES)


def make_dataset(settings, hyper) -> Dataset:
    """Synthetic data from the seed (or pass --data FILE.npz with x_train and y_train)."""
    rng = np.random.default_rng(settings.seed)
    pool = min(4096, settings.steps * settings.batch_size)
    x = rng.normal(size=(pool, FEATURES)).astype(np.float32)
    y = (x[:, :3] @ rng.normal(size=(3, CLASSES))).argmax(axis=1).astype(np.int64)
    return in_step_order(x, y, settings)


def build_keras(settings, hyper):
    import keras

    inputs = keras.Input(shape=(FEATURES,))
    x = keras.layers.Dense(hyper["width"], name=keras_name("body.0"))(inputs)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name=keras_name("body.1"))(x)  # PyTorch's epsilon
    x = keras.layers.ReLU()(x)
    return keras.Model(inputs, keras.layers.Dense(CLASSES, name="head")(x))


def build_torch(settings, hyper):
    from torch import nn

    class Tabular(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(FEATURES, width), nn.LayerNorm(width), nn.ReLU())
            self.head = nn.Linear(width, CLASSES)

        def forward(self, x):
            return self.head(self.body(x))

    return Tabular(hyper["width"])
