"""A workload whose Keras side dies before its runner can say why (tests copy it and set HOW): killed as the
out-of-memory killer kills, aborted by a native library, or exited after an error line of its own."""
import numpy as np

from workloads.base import SizePreset
from workloads.data import with_validation

HOW = "sigkill"
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


def _die():
    import os
    import signal
    import sys

    if HOW == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stderr.write({"abort": "F1205 12:00:00.000 allocator.cc:42] Check failed: arena != nullptr\n",
                      "exit": "ImportError: cannot import name 'fused_kernel' from 'mylib'\n"}[HOW])
    sys.stderr.flush()
    os.abort() if HOW == "abort" else os._exit(1)


def build_keras(settings, hyper):
    import keras

    _die()
    inputs = keras.Input(shape=(4,))
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(inputs))


def build_torch(settings, hyper):
    from torch import nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(x)

    return Head()
