import keras

from workloads.mlp import CLASSES, INPUT_DIM


def build(settings, hyper):
    inputs = keras.Input(shape=(INPUT_DIM,))
    x = inputs
    for index, width in enumerate(hyper["hidden"]):
        x = keras.layers.Dense(width, activation="relu", name=f"hidden{index}")(x)
    outputs = keras.layers.Dense(CLASSES, name="logits")(x)
    return keras.Model(inputs, outputs, name="mlp")
