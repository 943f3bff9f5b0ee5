import keras
from keras import layers

from workloads.cnn import BN_EPSILON, CLASSES, IMAGE_SIZE, KERAS_BN_MOMENTUM
from workloads.weights import keras_name


def build(settings, hyper):
    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1))
    x = inputs
    for index, channels in enumerate(hyper["channels"]):
        # 3x3, stride 1: Keras "same" pads symmetrically, exactly like PyTorch's padding=1.
        x = layers.Conv2D(channels, 3, padding="same", name=keras_name(f"block{index}.conv"))(x)
        x = layers.BatchNormalization(momentum=KERAS_BN_MOMENTUM, epsilon=BN_EPSILON, name=keras_name(f"block{index}.bn"))(x)
        x = layers.MaxPooling2D(2)(layers.ReLU()(x))
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(CLASSES, name="fc")(x)
    return keras.Model(inputs, outputs, name="cnn")
