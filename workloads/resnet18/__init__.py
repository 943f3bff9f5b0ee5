"""resnet18: the real ResNet-18 (BasicBlock, stages [2, 2, 2, 2], 64-128-256-512).

Inputs below 64x64 get the CIFAR stem (3x3 conv, stride 1, no max-pool); 64x64
and larger get the ImageNet stem (7x7 conv, stride 2, then 3x3 max-pool).
Batch-norm uses PyTorch's semantics in both frameworks: momentum 0.1 in PyTorch
is 0.9 in Keras, and epsilon is 1e-5 in both.
"""

from workloads.base import Workload
from workloads.data import pattern_images

STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))
BLOCKS_PER_STAGE = 2
IMAGENET_STEM_FROM = 64
BN_EPSILON = 1e-5
TORCH_BN_MOMENTUM = 0.1
KERAS_BN_MOMENTUM = 1.0 - TORCH_BN_MOMENTUM


def uses_imagenet_stem(image_size: int) -> bool:
    return image_size >= IMAGENET_STEM_FROM


WORKLOAD = Workload(
    name="resnet18",
    description="ResNet-18 image classifier (CIFAR stem below 64x64, ImageNet stem from 64x64)",
    num_classes=10,
    keras_builder="workloads.resnet18.keras_model:build",
    torch_builder="workloads.resnet18.torch_model:build",
    make_dataset=pattern_images,
    default_steps=40,
    default_batch_size=16,
    default_image_size=32,
    min_image_size=32,
    torch_input_axes=(0, 3, 1, 2),  # NHWC -> NCHW
    sample_shape=lambda settings: (settings.image_size, settings.image_size, 3),
)
