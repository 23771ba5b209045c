"""Regenerates the hand-drawn-style example designs in resources/examples/ that are easier to
build in code than by hand (ResNet-18 has 70 nodes). Run: python tools/make_examples.py"""
from __future__ import annotations

from pathlib import Path

from graph.model import Graph
from graph.project import Project, save

EXAMPLES = Path(__file__).resolve().parent.parent / "resources" / "examples"


class Builder:
    """Chains nodes left to right: `b.add("Linear", out_features=10)` wires from the last node."""

    def __init__(self) -> None:
        self.graph = Graph()
        self.column = 0

    def add(self, type_name: str, node_id: str, *sources: str | tuple[str, int], row: int = 0, **params):
        pos = (self.column * 220.0, row * 160.0)
        self.column += 1
        self.graph.add_node(type_name, node_id, params, pos)
        for port, source in enumerate(sources):
            src, src_port = source if isinstance(source, tuple) else (source, 0)
            self.graph.connect(src, node_id, src_port, port)
        return node_id


def lenet5() -> Project:
    b = Builder()
    x = b.add("Input", "image", shape=[1, 28, 28])
    x = b.add("Conv2d", "conv1", x, out_channels=6, kernel_size=5, padding=2)
    x = b.add("Tanh", "act1", x)
    x = b.add("MaxPool2d", "pool1", x, kernel_size=2)
    x = b.add("Conv2d", "conv2", x, out_channels=16, kernel_size=5)
    x = b.add("Tanh", "act2", x)
    x = b.add("MaxPool2d", "pool2", x, kernel_size=2)
    x = b.add("Flatten", "flatten", x)
    x = b.add("Linear", "fc1", x, out_features=120)
    x = b.add("Tanh", "act3", x)
    x = b.add("Linear", "fc2", x, out_features=84)
    x = b.add("Tanh", "act4", x)
    x = b.add("Linear", "fc3", x, out_features=10)
    b.add("Output", "logits", x)
    return Project("LeNet-5", b.graph)


def resnet18(num_classes: int = 1000) -> Project:
    b = Builder()
    x = b.add("Input", "image", shape=[3, 224, 224])
    x = b.add("Conv2d", "conv1", x, out_channels=64, kernel_size=7, stride=2, padding=3, bias=False)
    x = b.add("BatchNorm2d", "bn1", x)
    x = b.add("ReLU", "relu", x)
    x = b.add("MaxPool2d", "maxpool", x, kernel_size=3, stride=2, padding=1)
    channels = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            name = f"layer{stage}_{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            skip = x
            y = b.add("Conv2d", f"{name}_conv1", x, out_channels=width, kernel_size=3, stride=stride, padding=1,
                      bias=False)
            y = b.add("BatchNorm2d", f"{name}_bn1", y)
            y = b.add("ReLU", f"{name}_relu1", y)
            y = b.add("Conv2d", f"{name}_conv2", y, out_channels=width, kernel_size=3, padding=1, bias=False)
            y = b.add("BatchNorm2d", f"{name}_bn2", y)
            if stride != 1 or channels != width:
                b.column -= 2
                skip = b.add("Conv2d", f"{name}_down", x, out_channels=width, kernel_size=1, stride=stride,
                             bias=False, row=1)
                skip = b.add("BatchNorm2d", f"{name}_down_bn", skip, row=1)
            y = b.add("Add", f"{name}_add", y, skip)
            x = b.add("ReLU", f"{name}_relu2", y)
            channels = width
    x = b.add("AdaptiveAvgPool2d", "avgpool", x, output_size=1)
    x = b.add("Flatten", "flatten", x)
    x = b.add("Linear", "fc", x, out_features=num_classes)
    b.add("Output", "logits", x)
    return Project("ResNet-18", b.graph)


def spiral_mlp() -> Project:
    b = Builder()
    x = b.add("Input", "x", shape=[2])
    x = b.add("Linear", "fc1", x, out_features=64)
    x = b.add("ReLU", "act1", x)
    x = b.add("Linear", "fc2", x, out_features=64)
    x = b.add("ReLU", "act2", x)
    x = b.add("Linear", "fc3", x, out_features=3)
    b.add("Output", "y", x)
    return Project("Spiral classifier", b.graph)


if __name__ == "__main__":
    for filename, make in (("lenet5.loom", lenet5), ("resnet18.loom", resnet18), ("spiral_mlp.loom", spiral_mlp)):
        save(make(), EXAMPLES / filename)
        print("wrote", EXAMPLES / filename)
