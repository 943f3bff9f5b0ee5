import keras
from keras import layers

from workloads.lstm import CLASSES


def build(settings, hyper):
    inputs = keras.Input(shape=(hyper["length"],), dtype="int32")
    x = layers.Embedding(hyper["vocab"], hyper["embed"], name="embedding")(inputs)
    x = layers.LSTM(hyper["hidden"], name="lstm")(x)  # the last hidden state
    outputs = layers.Dense(CLASSES, name="fc")(x)
    return keras.Model(inputs, outputs, name="lstm")
