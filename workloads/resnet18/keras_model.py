"""ResNet-18 in Keras, channels last.

Stride-2 convolutions pad explicitly (1 pixel each side, like PyTorch's
``padding=1``) because Keras ``padding="same"`` pads asymmetrically for even
inputs and would shift every feature map against the PyTorch model.
"""

import keras
from keras import layers

from workloads.resnet18 import (
    BLOCKS_PER_STAGE,
    BN_EPSILON,
    KERAS_BN_MOMENTUM,
    STAGES,
    uses_imagenet_stem,
)


def _bn():
    return layers.BatchNormalization(momentum=KERAS_BN_MOMENTUM, epsilon=BN_EPSILON)


def _conv(x, filters, kernel, stride):
    pad = kernel // 2
    if pad:
        x = layers.ZeroPadding2D(pad)(x)
    return layers.Conv2D(filters, kernel, strides=stride, padding="valid", use_bias=False)(x)


def _basic_block(x, filters, stride):
    shortcut = x
    out = layers.ReLU()(_bn()(_conv(x, filters, 3, stride)))
    out = _bn()(_conv(out, filters, 3, 1))
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _bn()(_conv(x, filters, 1, stride))
    return layers.ReLU()(layers.Add()([out, shortcut]))


def build(settings, num_classes):
    size = settings.image_size
    inputs = keras.Input(shape=(size, size, 3))
    if uses_imagenet_stem(size):
        x = layers.ReLU()(_bn()(_conv(inputs, 64, 7, 2)))
        # Zero padding equals PyTorch's -inf padding here: inputs are post-ReLU (>= 0).
        x = layers.MaxPooling2D(3, strides=2)(layers.ZeroPadding2D(1)(x))
    else:
        x = layers.ReLU()(_bn()(_conv(inputs, 64, 3, 1)))
    for filters, stride in STAGES:
        for block in range(BLOCKS_PER_STAGE):
            x = _basic_block(x, filters, stride if block == 0 else 1)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes)(x)  # logits
    return keras.Model(inputs, outputs, name="resnet18")
