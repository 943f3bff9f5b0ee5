from torch import nn

from workloads.cnn import BN_EPSILON, CLASSES, TORCH_BN_MOMENTUM


class Block(nn.Module):
    def __init__(self, in_channels, channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=TORCH_BN_MOMENTUM)

    def forward(self, x):
        return nn.functional.max_pool2d(self.bn(self.conv(x)).relu(), 2)


class SmallConvNet(nn.Module):
    def __init__(self, channels):
        super().__init__()
        widths = (1, *channels)
        for index, (in_channels, out_channels) in enumerate(zip(widths, widths[1:])):
            self.add_module(f"block{index}", Block(in_channels, out_channels))
        self.depth = len(channels)
        self.fc = nn.Linear(widths[-1], CLASSES)

    def forward(self, x):
        for index in range(self.depth):
            x = getattr(self, f"block{index}")(x)
        return self.fc(x.mean(dim=(2, 3)))


def build(settings, hyper):
    return SmallConvNet(hyper["channels"])
