"""A workload whose PyTorch model branches on its input's values: eager runs it, torch.export and the ONNX
exporter cannot trace it (a data-dependent branch), so those paths fail while every other serves."""
import numpy as np

from workloads.base import SizePreset
from workloads.data import with_validation

SIZES = {"tiny": SizePreset(steps=8, batch_size=8, model={})}
DEFAULT_SIZE = "tiny"


def sample_shape(settings, hyper):
    return (4,)


def num_classes(hyper):
    return 2


def make_dataset(settings, hyper):
    rng = np.random.default_rng(settings.seed)

    def draw(n):
        x = rng.normal(size=(n, 4)).astype(np.float32)
        return x, (x[:, 0] > 0).astype(np.int64)
    return with_validation(draw, settings)


def build_keras(settings, hyper):
    import keras

    inputs = keras.Input(shape=(4,))
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(inputs))


def build_torch(settings, hyper):
    import torch

    class Branching(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(4, 2)

        def forward(self, x):
            if x.abs().sum() > -1.0:  # always true, but only the values say so
                return self.head(x)
            return -self.head(x)

    return Branching()
