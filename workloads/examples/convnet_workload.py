"""convnet: bring a PyTorch model and its Keras twin without listing a single tensor.

Run it with ``kvp-dash --workload workloads/examples/convnet_workload.py`` and check
parity with ``kvp-dash check --workload workloads/examples/convnet_workload.py``.

There is no ``param_specs`` here. Before the runners start, kvp-dash builds the
PyTorch model from the seed in a subprocess of its own and saves its
``state_dict`` (PyTorch's own initialisation) in the run folder; every runner
loads that file, the Keras one converted layer by layer. What the Keras model
must do is name each layer after the PyTorch module holding the same tensors,
dots written as dashes (``keras_name("features.0")`` is ``"features-0"``). A
Dense layer reading a Flatten of an image gets its rows reordered for you:
Keras flattens (height, width, channels), PyTorch (channels, height, width).

``RECIPE`` sets this workload's training recipe; the command line's
``--optimizer``, ``--lr``, ``--lr-schedule``… override it.
"""

from workloads.base import SizePreset
from workloads.data import pattern_images
from workloads.weights import keras_name

NAME = "convnet"
CLASSES = 10
IMAGE = 16
TORCH_INPUT_AXES = (0, 3, 1, 2)  # PyTorch convolutions take channels first
RECIPE = {"optimizer": "adamw", "learning_rate": 2e-3, "weight_decay": 0.01}

SIZES = {
    "tiny": SizePreset(steps=40, batch_size=16, model={"channels": (4, 8), "hidden": 32}),
    "small": SizePreset(steps=200, batch_size=32, model={"channels": (16, 32), "hidden": 64}),
    "base": SizePreset(steps=500, batch_size=128, model={"channels": (32, 64), "hidden": 256}),
    "large": SizePreset(steps=500, batch_size=256, model={"channels": (64, 128), "hidden": 512}),
}


def sample_shape(settings, hyper):
    return (IMAGE, IMAGE, 1)


def num_classes(hyper):
    return CLASSES


def make_dataset(settings, hyper):
    """Class patterns plus noise, with 256 held-out images for validation."""
    return pattern_images(settings, CLASSES, channels=1, size=IMAGE)


def build_keras(settings, hyper):
    import keras
    from keras import layers

    first, second = hyper["channels"]
    inputs = keras.Input(shape=(IMAGE, IMAGE, 1))
    x = layers.Conv2D(first, 3, padding="same", activation="relu", name=keras_name("features.0"))(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(second, 3, padding="same", activation="relu", name=keras_name("features.3"))(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(hyper["hidden"], activation="relu", name=keras_name("classifier.1"))(x)
    return keras.Model(inputs, layers.Dense(CLASSES, name=keras_name("classifier.3"))(x))


def build_torch(settings, hyper):
    from torch import nn

    first, second = hyper["channels"]
    flat = second * (IMAGE // 4) ** 2

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, first, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(first, second, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            )
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(flat, hyper["hidden"]), nn.ReLU(),
                                            nn.Linear(hyper["hidden"], CLASSES))

        def forward(self, x):
            return self.classifier(self.features(x))

    return ConvNet()
