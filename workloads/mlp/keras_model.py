import keras

from workloads.mlp import HIDDEN, INPUT_DIM


def build(settings, num_classes):
    inputs = keras.Input(shape=(INPUT_DIM,))
    x = inputs
    for width in HIDDEN:
        x = keras.layers.Dense(width, activation="relu")(x)
    outputs = keras.layers.Dense(num_classes)(x)  # logits
    return keras.Model(inputs, outputs, name="mlp")
