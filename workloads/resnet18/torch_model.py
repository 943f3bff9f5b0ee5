"""ResNet-18 in PyTorch, laid out as torchvision's (same module names, same parameter count)."""

from torch import nn

from workloads.resnet18 import (
    BN_EPSILON,
    STAGES,
    TORCH_BN_MOMENTUM,
    blocks,
    needs_downsample,
    uses_imagenet_stem,
)


def _bn(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=TORCH_BN_MOMENTUM)


class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = _bn(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = _bn(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if needs_downsample(in_channels, out_channels, stride):
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), _bn(out_channels)
            )

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class ResNet18(nn.Module):
    def __init__(self, num_classes, imagenet_stem):
        super().__init__()
        if imagenet_stem:
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        else:
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = _bn(64)
        self.relu = nn.ReLU(inplace=True)
        stages = [[] for _ in STAGES]
        for name, in_channels, channels, stride in blocks():
            stage = int(name[len("layer")]) - 1
            stages[stage].append(BasicBlock(in_channels, channels, stride))
        self.layer1, self.layer2, self.layer3, self.layer4 = (nn.Sequential(*s) for s in stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def build(settings, hyper):
    return ResNet18(hyper["classes"], uses_imagenet_stem(settings.image_size))
