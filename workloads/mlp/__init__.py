"""mlp: a dense classifier on MNIST-shaped (784-feature) vectors."""

from functools import partial

from workloads.base import Workload
from workloads.data import prototype_vectors

INPUT_DIM = 784
HIDDEN = (512, 512)

WORKLOAD = Workload(
    name="mlp",
    description="dense classifier, 784 -> 512 -> 512 -> 10 (MNIST-shaped)",
    num_classes=10,
    keras_builder="workloads.mlp.keras_model:build",
    torch_builder="workloads.mlp.torch_model:build",
    make_dataset=partial(prototype_vectors, dim=INPUT_DIM),
    default_steps=600,
    default_batch_size=64,
    sample_shape=lambda settings: (INPUT_DIM,),
)
