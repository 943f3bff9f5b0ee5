from torch import nn

from workloads.mlp import HIDDEN, INPUT_DIM


def build(settings, num_classes):
    layers, width_in = [], INPUT_DIM
    for width in HIDDEN:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        width_in = width
    layers.append(nn.Linear(width_in, num_classes))  # logits
    return nn.Sequential(*layers)
