"""ResNet-18 in Keras, channels last, its layers named after torchvision's modules.

Stride-2 convolutions pad explicitly (1 pixel each side, like PyTorch's
``padding=1``) because Keras ``padding="same"`` pads asymmetrically for even
inputs and would shift every feature map against the PyTorch model.
"""

import keras
from keras import layers

from workloads.resnet18 import (
    BN_EPSILON,
    KERAS_BN_MOMENTUM,
    blocks,
    needs_downsample,
    uses_imagenet_stem,
)
from workloads.weights import keras_name


def _bn(name):
    return layers.BatchNormalization(momentum=KERAS_BN_MOMENTUM, epsilon=BN_EPSILON, name=keras_name(name))


def _conv(x, filters, kernel, stride, name):
    pad = kernel // 2
    if pad:
        x = layers.ZeroPadding2D(pad)(x)
    return layers.Conv2D(filters, kernel, strides=stride, padding="valid", use_bias=False, name=keras_name(name))(x)


def _basic_block(x, name, in_channels, filters, stride):
    out = layers.ReLU()(_bn(f"{name}.bn1")(_conv(x, filters, 3, stride, f"{name}.conv1")))
    out = _bn(f"{name}.bn2")(_conv(out, filters, 3, 1, f"{name}.conv2"))
    shortcut = x
    if needs_downsample(in_channels, filters, stride):
        shortcut = _bn(f"{name}.downsample.1")(_conv(x, filters, 1, stride, f"{name}.downsample.0"))
    return layers.ReLU()(layers.Add()([out, shortcut]))


def build(settings, hyper):
    size = settings.image_size
    inputs = keras.Input(shape=(size, size, 3))
    if uses_imagenet_stem(size):
        x = layers.ReLU()(_bn("bn1")(_conv(inputs, 64, 7, 2, "conv1")))
        # Zero padding equals PyTorch's -inf padding here: inputs are post-ReLU (>= 0).
        x = layers.MaxPooling2D(3, strides=2)(layers.ZeroPadding2D(1)(x))
    else:
        x = layers.ReLU()(_bn("bn1")(_conv(inputs, 64, 3, 1, "conv1")))
    for name, in_channels, filters, stride in blocks():
        x = _basic_block(x, name, in_channels, filters, stride)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(hyper["classes"], name="fc")(x)
    return keras.Model(inputs, outputs, name="resnet18")
