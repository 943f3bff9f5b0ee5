"""mlp: a dense classifier on MNIST-shaped (784-feature) vectors."""

from workloads.base import SizePreset, Workload
from workloads.data import prototype_vectors
from workloads.weights import linear

INPUT_DIM = 784
CLASSES = 10


def param_specs(settings, hyper):
    specs, width_in = [], INPUT_DIM
    for index, width in enumerate(hyper["hidden"]):
        specs += linear(f"hidden{index}", width_in, width)
        width_in = width
    return specs + linear("logits", width_in, CLASSES)


def forward_flops(settings, hyper):
    widths = (INPUT_DIM, *hyper["hidden"], CLASSES)
    return sum(2 * a * b for a, b in zip(widths, widths[1:]))


WORKLOAD = Workload(
    name="mlp",
    description="dense classifier on MNIST-shaped vectors (784 -> hidden ReLU layers -> 10)",
    keras_builder="workloads.mlp.keras_model:build",
    torch_builder="workloads.mlp.torch_model:build",
    param_specs=param_specs,
    make_dataset=lambda settings, hyper: prototype_vectors(settings, CLASSES, INPUT_DIM),
    sample_shape=lambda settings, hyper: (INPUT_DIM,),
    num_classes=lambda hyper: CLASSES,
    forward_flops=forward_flops,
    sizes={
        "tiny": SizePreset(steps=60, batch_size=32, model={"hidden": (128, 128)}),
        "small": SizePreset(steps=600, batch_size=64, model={"hidden": (512, 512)}),
        "base": SizePreset(steps=1000, batch_size=256, model={"hidden": (2048, 2048, 2048)}),
        "large": SizePreset(steps=1000, batch_size=1024, model={"hidden": (4096, 4096, 4096, 4096)}),
    },
)
