"""resnet18: the real ResNet-18 (BasicBlock, stages [2, 2, 2, 2], 64-128-256-512).

Inputs below 64x64 get the CIFAR stem (3x3 conv, stride 1, no max-pool); 64x64
and larger get the ImageNet stem (7x7 conv, stride 2, then 3x3 max-pool).
Tensor names follow torchvision's, so the PyTorch model's parameter count is
torchvision's for the same stem and class count.
Batch-norm uses PyTorch's semantics in both frameworks: momentum 0.1 in PyTorch
is 0.9 in Keras, and epsilon is 1e-5 in both.

Parity: initial logits and loss agree to ~1e-8 across frameworks, but the first
Adam steps of a batch-norm ResNet at these batch sizes are chaotic. Within
PyTorch alone, perturbing every weight by 1e-7 relative (float32 rounding)
moves the step 1-5 losses by 2.6e-2 at tiny and 8.5e-2 at small
(benchmarks/parity_noise.py), so step losses are held to 0.15, not 1e-3.
"""

from workloads.base import SizePreset, Workload
from workloads.data import pattern_images
from workloads.weights import batch_norm, conv2d, linear

STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))
BLOCKS_PER_STAGE = 2
IMAGENET_STEM_FROM = 64
BN_EPSILON = 1e-5
TORCH_BN_MOMENTUM = 0.1
KERAS_BN_MOMENTUM = 1.0 - TORCH_BN_MOMENTUM


def uses_imagenet_stem(image_size: int) -> bool:
    return image_size >= IMAGENET_STEM_FROM


def blocks():
    """(torchvision name, in channels, out channels, stride) of every BasicBlock."""
    in_channels = 64
    for stage, (channels, stride) in enumerate(STAGES, start=1):
        for index in range(BLOCKS_PER_STAGE):
            yield f"layer{stage}.{index}", in_channels, channels, stride if index == 0 else 1
            in_channels = channels


def needs_downsample(in_channels: int, out_channels: int, stride: int) -> bool:
    return stride != 1 or in_channels != out_channels


def param_specs(settings, hyper):
    stem_kernel = 7 if uses_imagenet_stem(settings.image_size) else 3
    specs = conv2d("conv1", 3, 64, stem_kernel, bias=False) + batch_norm("bn1", 64)
    for name, in_channels, channels, stride in blocks():
        specs += conv2d(f"{name}.conv1", in_channels, channels, 3, bias=False) + batch_norm(f"{name}.bn1", channels)
        specs += conv2d(f"{name}.conv2", channels, channels, 3, bias=False) + batch_norm(f"{name}.bn2", channels)
        if needs_downsample(in_channels, channels, stride):
            specs += conv2d(f"{name}.downsample.0", in_channels, channels, 1, bias=False)
            specs += batch_norm(f"{name}.downsample.1", channels)
    return specs + linear("fc", 512, hyper["classes"])


def forward_flops(settings, hyper):
    def conv(kernel, in_channels, out_channels, size):
        return 2 * kernel * kernel * in_channels * out_channels * size * size

    size = settings.image_size
    if uses_imagenet_stem(size):
        size = (size + 2 * 3 - 7) // 2 + 1
        flops = conv(7, 3, 64, size)
        size = (size + 2 - 3) // 2 + 1  # max-pool
    else:
        flops = conv(3, 3, 64, size)
    for _, in_channels, channels, stride in blocks():
        out = (size + 2 - 3) // stride + 1
        flops += conv(3, in_channels, channels, out) + conv(3, channels, channels, out)
        if needs_downsample(in_channels, channels, stride):
            flops += conv(1, in_channels, channels, out)
        size = out
    return flops + 2 * 512 * hyper["classes"]


WORKLOAD = Workload(
    name="resnet18",
    description="ResNet-18 image classifier (CIFAR stem below 64 px, ImageNet stem from 64 px)",
    keras_builder="workloads.resnet18.keras_model:build",
    torch_builder="workloads.resnet18.torch_model:build",
    param_specs=param_specs,
    make_dataset=lambda settings, hyper: pattern_images(settings, hyper["classes"]),
    sample_shape=lambda settings, hyper: (settings.image_size, settings.image_size, 3),
    forward_flops=forward_flops,
    sizes={
        "tiny": SizePreset(steps=30, batch_size=8, image_size=32, model={"classes": 10}),
        "small": SizePreset(steps=40, batch_size=16, image_size=32, model={"classes": 10}),
        "base": SizePreset(steps=200, batch_size=64, image_size=224, model={"classes": 1000}),
        "large": SizePreset(steps=200, batch_size=256, image_size=224, model={"classes": 1000}),
    },
    min_image_size=32,
    torch_input_axes=(0, 3, 1, 2),  # NHWC -> NCHW
    # Used only when a run has no PyTorch reference to measure the noise floor (runners.child.pytorch.noise_floor): the
    # float32 floor is 6e-3 to 8e-2 here (benchmarks/parity_floor.py).
    parity_step_rtol=0.15,
)
