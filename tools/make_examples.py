"""Regenerates the hand-drawn-style example designs in resources/examples/ that are easier to
build in code than by hand (ResNet-18 has 70 nodes). Run: python tools/make_examples.py"""
from __future__ import annotations

from pathlib import Path

from app.notice import DESIGN_ONLY_KEY
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
    # the bundled 8x8 digits resized to the 28x28 of MNIST, for which LeNet-5 was made: no download
    return Project("LeNet-5", b.graph, data={"dataset": "digits", "size": 28},
                   training={"epochs": 10, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.002,
                             "schedule": "cosine", "seed": 0})


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
    # 224x224 ImageNet images are not bundled: the designer says so over the canvas (app.notice)
    return Project("ResNet-18", b.graph, ui={DESIGN_ONLY_KEY: True})


def spiral_mlp() -> Project:
    b = Builder()
    x = b.add("Input", "x", shape=[2])
    x = b.add("Linear", "fc1", x, out_features=64)
    x = b.add("ReLU", "act1", x)
    x = b.add("Linear", "fc2", x, out_features=64)
    x = b.add("ReLU", "act2", x)
    x = b.add("Linear", "fc3", x, out_features=3)
    b.add("Output", "y", x)
    return Project("Spiral classifier", b.graph, data={"dataset": "spiral", "samples": 3000, "classes": 3},
                   training={"epochs": 40, "batch_size": 64, "optimizer": "adam", "learning_rate": 0.01,
                             "schedule": "cosine", "seed": 0})


def digits_cnn() -> Project:
    b = Builder()
    x = b.add("Input", "image", shape=[1, 8, 8])
    x = b.add("Conv2d", "conv1", x, out_channels=16, kernel_size=3, padding=1)
    x = b.add("ReLU", "act1", x)
    x = b.add("MaxPool2d", "pool1", x, kernel_size=2)
    x = b.add("Conv2d", "conv2", x, out_channels=32, kernel_size=3, padding=1)
    x = b.add("ReLU", "act2", x)
    x = b.add("MaxPool2d", "pool2", x, kernel_size=2)
    x = b.add("Flatten", "flatten", x)
    x = b.add("Linear", "fc1", x, out_features=64)
    x = b.add("ReLU", "act3", x)
    x = b.add("Dropout", "drop", x, p=0.2)
    x = b.add("Linear", "fc2", x, out_features=10)
    b.add("Output", "digit", x)
    return Project("Digits CNN", b.graph, data={"dataset": "digits", "validation_split": 0.2,
                                                "augment": {"crop_padding": 1}},
                   training={"epochs": 30, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
                             "schedule": "cosine", "seed": 0})


def lstm_bits() -> Project:
    b = Builder()
    x = b.add("Input", "bits", shape=[12, 1])
    x = b.add("LSTM", "lstm", x, hidden_size=32)
    x = b.add("Linear", "head", ("lstm", 1), out_features=13)
    b.add("Output", "count", x)
    return Project("LSTM bit counter", b.graph, data={"dataset": "bits", "task": "count", "length": 12,
                                                      "samples": 4000},
                   training={"epochs": 20, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01,
                             "schedule": "cosine", "grad_clip_norm": 1.0, "seed": 0})


def transformer_tokens() -> Project:
    b = Builder()
    x = b.add("Input", "tokens", shape=[8], dtype="int64")
    x = b.add("Embedding", "embed", x, num_embeddings=10, embedding_dim=32)
    x = b.add("PositionalEncoding", "position", x, max_len=64, dropout=0.0)
    x = b.add("TransformerEncoderLayer", "encoder1", x, nhead=4, dim_feedforward=64, dropout=0.0)
    x = b.add("TransformerEncoderLayer", "encoder2", x, nhead=4, dim_feedforward=64, dropout=0.0)
    x = b.add("Linear", "head", x, out_features=10)
    b.add("Output", "reversed", x)
    return Project("Transformer sequence reverser", b.graph,
                   data={"dataset": "tokens", "task": "reverse", "vocab": 10, "length": 8, "samples": 4000},
                   training={"epochs": 10, "batch_size": 64, "optimizer": "adamw", "learning_rate": 0.003,
                             "schedule": "one_cycle", "seed": 0})


def conv_autoencoder() -> Project:
    b = Builder()
    x = b.add("Input", "image", shape=[1, 8, 8])
    x = b.add("Conv2d", "enc1", x, out_channels=16, kernel_size=3, stride=2, padding=1)
    x = b.add("ReLU", "enc1_act", x)
    x = b.add("Conv2d", "enc2", x, out_channels=32, kernel_size=3, stride=2, padding=1)
    x = b.add("ReLU", "enc2_act", x)
    x = b.add("ConvTranspose2d", "dec1", x, out_channels=16, kernel_size=2, stride=2)
    x = b.add("ReLU", "dec1_act", x)
    x = b.add("ConvTranspose2d", "dec2", x, out_channels=1, kernel_size=2, stride=2)
    x = b.add("Sigmoid", "pixels", x)
    b.add("Output", "reconstruction", x, loss="mse")
    return Project("Denoising convolutional autoencoder", b.graph,
                   data={"dataset": "digits", "reconstruct": True, "augment": {"noise": 0.1}},
                   training={"epochs": 30, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
                             "seed": 0})


def unet_shapes() -> Project:
    b = Builder()
    x = b.add("Input", "image", shape=[1, 16, 16])
    x = b.add("Conv2d", "enc1", x, out_channels=8, kernel_size=3, padding=1)
    e1 = b.add("ReLU", "enc1_act", x)
    x = b.add("MaxPool2d", "down1", e1, kernel_size=2)
    x = b.add("Conv2d", "enc2", x, out_channels=16, kernel_size=3, padding=1)
    e2 = b.add("ReLU", "enc2_act", x)
    x = b.add("MaxPool2d", "down2", e2, kernel_size=2)
    x = b.add("Conv2d", "bottom", x, out_channels=32, kernel_size=3, padding=1)
    x = b.add("ReLU", "bottom_act", x)
    x = b.add("ConvTranspose2d", "up2", x, out_channels=16, kernel_size=2, stride=2)
    x = b.add("Concat", "skip2", x, e2)
    x = b.add("Conv2d", "dec2", x, out_channels=16, kernel_size=3, padding=1)
    x = b.add("ReLU", "dec2_act", x)
    x = b.add("ConvTranspose2d", "up1", x, out_channels=8, kernel_size=2, stride=2)
    x = b.add("Concat", "skip1", x, e1)
    x = b.add("Conv2d", "dec1", x, out_channels=8, kernel_size=3, padding=1)
    x = b.add("ReLU", "dec1_act", x)
    x = b.add("Conv2d", "logits", x, out_channels=1, kernel_size=1)
    b.add("Output", "mask", x, loss="bce_with_logits")
    return Project("U-Net shape segmenter", b.graph,
                   data={"dataset": "shapes", "task": "segment", "mask": "binary", "size": 16, "samples": 1200,
                         "noise": 0.35, "augment": {"flip": "both"}},
                   training={"epochs": 10, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.005,
                             "seed": 0})


def sine_regression() -> Project:
    b = Builder()
    x = b.add("Input", "x", shape=[1])
    x = b.add("Linear", "fc1", x, out_features=64)
    x = b.add("Tanh", "act1", x)
    x = b.add("Linear", "fc2", x, out_features=64)
    x = b.add("Tanh", "act2", x)
    x = b.add("Linear", "fc3", x, out_features=1)
    b.add("Output", "y", x, loss="mse")
    return Project("Sine regression", b.graph,
                   data={"dataset": "sine", "samples": 2000, "range": 6.0, "frequency": 1.0, "noise": 0.05},
                   training={"epochs": 60, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.005,
                             "schedule": {"type": "plateau", "patience": 5, "factor": 0.3},
                             "early_stopping": {"patience": 15}, "seed": 0})


# Examples that `python main.py train` trains as they are (their data and training sections set);
# the others are design-only (DESIGN_ONLY).
TRAINABLE = {
    "lenet5.loom": lenet5,
    "spiral_mlp.loom": spiral_mlp,
    "digits_cnn.loom": digits_cnn,
    "lstm_bits.loom": lstm_bits,
    "transformer_tokens.loom": transformer_tokens,
    "conv_autoencoder.loom": conv_autoencoder,
    "unet_shapes.loom": unet_shapes,
    "sine_regression.loom": sine_regression,
}

DESIGN_ONLY = {"resnet18.loom": resnet18}


if __name__ == "__main__":
    for filename, make in (*DESIGN_ONLY.items(), *TRAINABLE.items()):
        save(make(), EXAMPLES / filename)
        print("wrote", EXAMPLES / filename)
