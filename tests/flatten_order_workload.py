"""A convnet whose classifier reads a flattened image, its Keras side written in several ways (tests copy this
file and set STYLE and SPECS): the order the Keras Dense reads its features in comes from the graph.

- "permute": a Permute((3, 1, 2)) before Flatten, as PyTorch-porting guides write it (PyTorch's order);
- "sequential": the same as a keras.Sequential;
- "plain": Flatten straight after the channels-last convolution (Keras's own order);
- "lambda": a Lambda that swaps height and width before Flatten: kvp-dash cannot trace it.
"""

from workloads.base import SizePreset
from workloads.data import pattern_images
from workloads.weights import conv2d, keras_name, linear

NAME = "flatorder"
STYLE = "permute"
SPECS = False
CLASSES = 4
IMAGE = 8
CHANNELS = 3
TORCH_INPUT_AXES = (0, 3, 1, 2)
RECIPE = {"optimizer": "sgd", "learning_rate": 0.05}
SIZES = {"tiny": SizePreset(steps=12, batch_size=8, model={})}


def sample_shape(settings, hyper):
    return (IMAGE, IMAGE, 1)


def num_classes(hyper):
    return CLASSES


def make_dataset(settings, hyper):
    return pattern_images(settings, CLASSES, channels=1, size=IMAGE)


def _param_specs(settings, hyper):
    return conv2d("features.0", 1, CHANNELS, 3) + linear("classifier.1", CHANNELS * IMAGE * IMAGE, CLASSES)


if SPECS:
    param_specs = _param_specs


def build_keras(settings, hyper):
    import keras
    from keras import layers

    conv = layers.Conv2D(CHANNELS, 3, padding="same", activation="relu", name=keras_name("features.0"))
    before_flatten = {
        "permute": [layers.Permute((3, 1, 2))],
        "sequential": [layers.Permute((3, 1, 2))],
        "plain": [],
        "lambda": [layers.Lambda(lambda x: keras.ops.transpose(x, (0, 2, 1, 3)), name="swap_hw")],
    }[STYLE]
    head = [layers.Flatten(), layers.Dense(CLASSES, name=keras_name("classifier.1"))]
    if STYLE == "sequential":
        return keras.Sequential([keras.Input(shape=(IMAGE, IMAGE, 1)), conv, *before_flatten, *head])
    inputs = keras.Input(shape=(IMAGE, IMAGE, 1))
    x = conv(inputs)
    for layer in before_flatten + head:
        x = layer(x)
    return keras.Model(inputs, x)


def build_torch(settings, hyper):
    from torch import nn

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, CHANNELS, 3, padding=1), nn.ReLU())
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(CHANNELS * IMAGE * IMAGE, CLASSES))

        def forward(self, x):
            return self.classifier(self.features(x))

    return ConvNet()
