"""lstm: a text classifier (embedding -> one LSTM layer -> dense on the last hidden state),
the "sentiment analysis" case, on synthetic token sequences.

PyTorch's LSTM has two bias vectors, Keras's one: the hidden-to-hidden bias is
held at zero (and frozen) so both compute the same function with the same
number of trainable parameters. Gate order is i, f, g(c), o in both.
"""

from workloads.base import SizePreset, Workload
from workloads.data import sentiment_tokens
from workloads.weights import embedding, linear, lstm

CLASSES = 2


def param_specs(settings, hyper):
    return (
        embedding("embedding", hyper["vocab"], hyper["embed"])
        + lstm("lstm", hyper["embed"], hyper["hidden"])
        + linear("fc", hyper["hidden"], CLASSES)
    )


def forward_flops(settings, hyper):
    e, h = hyper["embed"], hyper["hidden"]
    return hyper["length"] * 2 * 4 * h * (e + h) + 2 * h * CLASSES


WORKLOAD = Workload(
    name="lstm",
    description="text classifier: embedding -> LSTM -> dense (sentiment-style, 2 classes)",
    keras_builder="workloads.lstm.keras_model:build",
    torch_builder="workloads.lstm.torch_model:build",
    param_specs=param_specs,
    make_dataset=lambda settings, hyper: sentiment_tokens(settings, hyper["vocab"], hyper["length"]),
    sample_shape=lambda settings, hyper: (hyper["length"],),
    input_dtype="int32",
    num_classes=lambda hyper: CLASSES,
    forward_flops=forward_flops,
    sizes={
        "tiny": SizePreset(steps=150, batch_size=16, model={"vocab": 500, "embed": 16, "hidden": 32, "length": 24}),
        "small": SizePreset(steps=150, batch_size=32, model={"vocab": 2000, "embed": 64, "hidden": 128, "length": 64}),
        "base": SizePreset(steps=300, batch_size=128, model={"vocab": 20000, "embed": 256, "hidden": 512, "length": 128}),
        "large": SizePreset(steps=300, batch_size=256, model={"vocab": 30000, "embed": 512, "hidden": 1024, "length": 256}),
    },
)
