"""cnn: a small convnet (conv / batch-norm / ReLU / max-pool blocks, then global pooling) on 28x28x1 images.

Global average pooling instead of flattening keeps the classifier independent
of the channels-first vs channels-last layout difference.
"""

from workloads.base import SizePreset, Workload
from workloads.data import pattern_images
from workloads.weights import batch_norm, conv2d, linear

IMAGE_SIZE = 28
CLASSES = 10
BN_EPSILON = 1e-5
TORCH_BN_MOMENTUM = 0.1
KERAS_BN_MOMENTUM = 1.0 - TORCH_BN_MOMENTUM


def param_specs(settings, hyper):
    specs, in_channels = [], 1
    for index, channels in enumerate(hyper["channels"]):
        specs += conv2d(f"block{index}.conv", in_channels, channels, 3)
        specs += batch_norm(f"block{index}.bn", channels)
        in_channels = channels
    return specs + linear("fc", in_channels, CLASSES)


def forward_flops(settings, hyper):
    flops, size, in_channels = 0, IMAGE_SIZE, 1
    for channels in hyper["channels"]:
        flops += 2 * 9 * in_channels * channels * size * size  # 3x3 conv, "same" padding
        size //= 2  # 2x2 max-pool
        in_channels = channels
    return flops + 2 * in_channels * CLASSES


WORKLOAD = Workload(
    name="cnn",
    description="small convnet on 28x28x1 images (conv/batch-norm/ReLU/max-pool blocks -> dense)",
    keras_builder="workloads.cnn.keras_model:build",
    torch_builder="workloads.cnn.torch_model:build",
    param_specs=param_specs,
    make_dataset=lambda settings, hyper: pattern_images(settings, CLASSES, channels=1, size=IMAGE_SIZE),
    sample_shape=lambda settings, hyper: (IMAGE_SIZE, IMAGE_SIZE, 1),
    num_classes=lambda hyper: CLASSES,
    forward_flops=forward_flops,
    sizes={
        "tiny": SizePreset(steps=100, batch_size=16, model={"channels": (8, 16)}),
        "small": SizePreset(steps=200, batch_size=32, model={"channels": (32, 64)}),
        "base": SizePreset(steps=500, batch_size=128, model={"channels": (64, 128, 256)}),
        "large": SizePreset(steps=500, batch_size=256, model={"channels": (128, 256, 512)}),
    },
    torch_input_axes=(0, 3, 1, 2),  # NHWC -> NCHW
)
