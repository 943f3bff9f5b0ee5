from torch import nn

from workloads.mlp import CLASSES, INPUT_DIM


class MLP(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        widths = (INPUT_DIM, *hidden)
        for index, (width_in, width) in enumerate(zip(widths, widths[1:])):
            self.add_module(f"hidden{index}", nn.Linear(width_in, width))
        self.depth = len(hidden)
        self.logits = nn.Linear(widths[-1], CLASSES)

    def forward(self, x):
        for index in range(self.depth):
            x = getattr(self, f"hidden{index}")(x).relu()
        return self.logits(x)


def build(settings, hyper):
    return MLP(hyper["hidden"])
