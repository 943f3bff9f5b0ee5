"""A model with dropout: its training losses depend on each framework's random masks (tests only)."""
import numpy as np

from workloads.base import SizePreset
from workloads.data import with_validation
from workloads.weights import keras_name

SIZES = {"tiny": SizePreset(steps=20, batch_size=16, model={"width": 16})}
DEFAULT_SIZE = "tiny"

def sample_shape(settings, hyper):
    return (8,)

def num_classes(hyper):
    return 3

def make_dataset(settings, hyper):
    rng = np.random.default_rng(settings.seed)
    def draw(n):
        x = rng.normal(size=(n, 8)).astype(np.float32)
        return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    return with_validation(draw, settings)

def build_keras(settings, hyper):
    import keras
    inputs = keras.Input(shape=(8,))
    x = keras.layers.Dense(hyper["width"], activation="relu", name=keras_name("body.0"))(inputs)
    x = keras.layers.Dropout(0.5)(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(x))

def build_torch(settings, hyper):
    from torch import nn
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(8, hyper["width"]), nn.ReLU(), nn.Dropout(0.5))
            self.head = nn.Linear(hyper["width"], 3)
        def forward(self, x):
            return self.head(self.body(x))
    return M()
