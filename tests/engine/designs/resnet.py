"""ResNet-18 (the resources/examples design, at a small resolution) written torchvision-style,
and a ResNet-50-sized design with bottleneck blocks, built in code for the benchmark."""
from __future__ import annotations

from torch import nn

from graph.project import Project, load
from tests.conftest import EXAMPLES
from tests.engine.designs._build import Builder


def resnet18_project(size: int = 32, num_classes: int = 10) -> Project:
    """resources/examples/resnet18.loom with a size x size input and num_classes outputs."""
    project = load(EXAMPLES / "resnet18.loom")
    project.graph.set_param("image", "shape", [3, size, size])
    project.graph.set_param("fc", "out_features", num_classes)
    return project


class BasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        layers, inplanes = [], 64
        for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers.append(nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet50_project(size: int = 224, num_classes: int = 1000) -> Project:
    """ResNet-50: 16 bottleneck blocks (1x1, 3x3, 1x1 convolutions), about 25.6 M parameters."""
    b = Builder("ResNet-50")
    x = b.add("Input", "image", shape=[3, size, size])
    x = b.add("Conv2d", "conv1", x, out_channels=64, kernel_size=7, stride=2, padding=3, bias=False)
    x = b.add("BatchNorm2d", "bn1", x)
    x = b.add("ReLU", "relu", x)
    x = b.add("MaxPool2d", "maxpool", x, kernel_size=3, stride=2, padding=1)
    channels = 64
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=1):
        for block in range(blocks):
            name = f"layer{stage}_{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            y = b.add("Conv2d", f"{name}_conv1", x, out_channels=width, kernel_size=1, bias=False)
            y = b.add("BatchNorm2d", f"{name}_bn1", y)
            y = b.add("ReLU", f"{name}_relu1", y)
            y = b.add("Conv2d", f"{name}_conv2", y, out_channels=width, kernel_size=3, stride=stride, padding=1,
                      bias=False)
            y = b.add("BatchNorm2d", f"{name}_bn2", y)
            y = b.add("ReLU", f"{name}_relu2", y)
            y = b.add("Conv2d", f"{name}_conv3", y, out_channels=width * 4, kernel_size=1, bias=False)
            y = b.add("BatchNorm2d", f"{name}_bn3", y)
            skip = x
            if block == 0:
                skip = b.add("Conv2d", f"{name}_down", x, out_channels=width * 4, kernel_size=1, stride=stride,
                             bias=False)
                skip = b.add("BatchNorm2d", f"{name}_down_bn", skip)
            y = b.add("Add", f"{name}_add", y, skip)
            x = b.add("ReLU", f"{name}_relu3", y)
            channels = width * 4
    x = b.add("AdaptiveAvgPool2d", "avgpool", x, output_size=1)
    x = b.add("Flatten", "flatten", x)
    x = b.add("Linear", "fc", x, out_features=num_classes)
    b.add("Output", "logits", x)
    assert channels == 2048
    return b.project
