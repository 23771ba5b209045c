"""Regenerates the example designs in resources/examples/ and the built-in block library
(resources/blocks/library.loom), which are easier to build in code than by hand.
Run: python tools/make_examples.py"""
from __future__ import annotations

from pathlib import Path

from app.notice import DESIGN_ONLY_KEY
from graph.block_edit import import_blocks
from graph.block_library import BUILT_IN, save_library
from graph.blocks import BlockDef, Blocks
from graph.model import Graph
from graph.params import Param
from graph.project import Project, save

EXAMPLES = Path(__file__).resolve().parent.parent / "resources" / "examples"


class Builder:
    """Chains nodes left to right: `b.add("Linear", out_features=10)` wires from the last node.
    `blocks` makes the library's blocks usable as node types."""

    COLUMN = 220.0        # a layer node is about 160 wide
    BLOCK_COLUMN = 300.0  # a block node's band also sums its MACs ("BasicBlock · 74.0k params · 231.61M MACs")

    def __init__(self, blocks: Blocks | None = None) -> None:
        self.graph = Graph()
        self.graph.blocks = blocks
        self.x = 0.0

    def add(self, type_name: str, node_id: str, *sources: str | tuple[str, int], row: int = 0, **params):
        pos = (self.x, row * 160.0)
        is_block = self.graph.blocks is not None and type_name in self.graph.blocks
        self.x += self.BLOCK_COLUMN if is_block else self.COLUMN
        self.graph.add_node(type_name, node_id, params, pos)
        for port, source in enumerate(sources):
            src, src_port = source if isinstance(source, tuple) else (source, 0)
            self.graph.connect(src, node_id, src_port, port)
        return node_id


# -- the built-in block library ----------------------------------------------------------------
def _block(name: str, doc: str, params: list[Param], build) -> BlockDef:
    b = Builder(LIBRARY)
    build(b)
    return BlockDef(name, params, b.graph, doc)


def _int(name: str, default: int, help_text: str) -> Param:
    return Param(name, "int", default, help_text, minimum=1)


def _conv_bn_relu(b: Builder) -> None:
    x = b.add("Input", "x")
    x = b.add("Conv2d", "conv", x, out_channels="$out_channels", kernel_size="$kernel_size", stride="$stride",
              padding="$padding", bias=False)
    x = b.add("BatchNorm2d", "bn", x)
    b.add("Output", "y", b.add("ReLU", "relu", x))


def _basic(down: bool):
    def build(b: Builder) -> None:
        x = b.add("Input", "x")
        y = b.add("Conv2d", "conv1", x, out_channels="$channels", kernel_size=3, stride="$stride" if down else 1,
                  padding=1, bias=False)
        y = b.add("BatchNorm2d", "bn1", y)
        y = b.add("ReLU", "relu1", y)
        y = b.add("Conv2d", "conv2", y, out_channels="$channels", kernel_size=3, padding=1, bias=False)
        y = b.add("BatchNorm2d", "bn2", y)
        skip = x
        if down:
            b.x -= 2 * b.COLUMN
            skip = b.add("Conv2d", "down", x, out_channels="$channels", kernel_size=1, stride="$stride", bias=False,
                         row=1)
            skip = b.add("BatchNorm2d", "down_bn", skip, row=1)
        y = b.add("Add", "add", y, skip)
        b.add("Output", "y", b.add("ReLU", "relu2", y))
    return build


def _bottleneck(b: Builder) -> None:
    x = b.add("Input", "x")
    y = b.add("Conv2d", "conv1", x, out_channels="$width", kernel_size=1, bias=False)
    y = b.add("ReLU", "relu1", b.add("BatchNorm2d", "bn1", y))
    y = b.add("Conv2d", "conv2", y, out_channels="$width", kernel_size=3, stride="$stride", padding=1, bias=False)
    y = b.add("ReLU", "relu2", b.add("BatchNorm2d", "bn2", y))
    y = b.add("Conv2d", "conv3", y, out_channels="$out_channels", kernel_size=1, bias=False)
    y = b.add("BatchNorm2d", "bn3", y)
    b.x -= 2 * b.COLUMN
    skip = b.add("Conv2d", "down", x, out_channels="$out_channels", kernel_size=1, stride="$stride", bias=False,
                 row=1)
    skip = b.add("BatchNorm2d", "down_bn", skip, row=1)
    b.add("Output", "y", b.add("ReLU", "relu3", b.add("Add", "add", y, skip)))


def _transformer(pre_norm: bool, causal: bool = False):
    def build(b: Builder) -> None:
        x = b.add("Input", "x")
        h = b.add("LayerNorm", "norm1", x) if pre_norm else x
        attn = b.add("MultiheadAttention", "attn", h, h, h, num_heads="$num_heads",
                     **({"is_causal": True} if causal else {}))
        x = b.add("Add", "add1", x, (attn, 0))
        if not pre_norm:
            x = b.add("LayerNorm", "norm1", x)
        h = b.add("LayerNorm", "norm2", x) if pre_norm else x
        h = b.add("Linear", "linear1", h, out_features="$dim_feedforward")
        h = b.add("GELU" if pre_norm else "ReLU", "act", h)
        h = b.add("Linear", "linear2", h, out_features="$d_model")
        x = b.add("Add", "add2", x, h)
        if not pre_norm:
            x = b.add("LayerNorm", "norm2", x)
        b.add("Output", "y", x)
    return build


def _mlp(b: Builder) -> None:
    x = b.add("Input", "x")
    x = b.add("Linear", "fc1", x, out_features="$hidden")
    x = b.add("GELU", "act", x)
    x = b.add("Dropout", "drop", x, p="$p")
    b.add("Output", "y", b.add("Linear", "fc2", x, out_features="$out_features"))


def _unet_down(b: Builder) -> None:
    x = b.add("Input", "x")
    x = b.add("Conv2d", "conv", x, out_channels="$channels", kernel_size=3, padding=1)
    skip = b.add("ReLU", "act", x)
    b.add("Output", "skip", skip, row=1)
    b.x -= b.COLUMN
    b.add("Output", "down", b.add("MaxPool2d", "pool", skip, kernel_size=2))


def _unet_up(b: Builder) -> None:
    x = b.add("Input", "x")
    skip = b.add("Input", "skip", row=1)
    x = b.add("ConvTranspose2d", "up", x, out_channels="$channels", kernel_size=2, stride=2)
    x = b.add("Concat", "cat", x, skip)
    x = b.add("Conv2d", "conv", x, out_channels="$channels", kernel_size=3, padding=1)
    b.add("Output", "y", b.add("ReLU", "act", x))


def library() -> Blocks:
    """The built-in blocks the palette offers (docs/blocks.md, "Library")."""
    LIBRARY.replace_all([])
    for block in (
        _block("ConvBNReLU", "Convolution, batch norm and ReLU: the usual CNN step.",
               [_int("out_channels", 64, "output channels"), _int("kernel_size", 3, "kernel size"),
                _int("stride", 1, "stride"), Param("padding", "int", 1, "zero padding on each side", minimum=0)],
               _conv_bn_relu),
        _block("BasicBlock", "ResNet basic block: two 3x3 convolutions and an identity skip (input channels = "
               "channels).", [_int("channels", 64, "channels in and out")], _basic(False)),
        _block("BasicBlockDown", "ResNet basic block that changes size: the skip is a strided 1x1 convolution.",
               [_int("channels", 128, "output channels"), _int("stride", 2, "stride of the first convolution")],
               _basic(True)),
        _block("Bottleneck", "ResNet bottleneck block: 1x1, 3x3 and 1x1 convolutions, with a projection skip.",
               [_int("width", 64, "channels inside"), _int("out_channels", 256, "output channels"),
                _int("stride", 1, "stride of the 3x3 convolution")], _bottleneck),
        _block("TransformerBlock", "Pre-norm Transformer encoder block from primitives: LayerNorm, self-attention "
               "and a GELU feed-forward, each with a residual.",
               [_int("d_model", 64, "features of each token (the input's last dimension)"),
                _int("num_heads", 4, "attention heads; must divide d_model"),
                _int("dim_feedforward", 256, "hidden size of the feed-forward")], _transformer(True)),
        _block("CausalTransformerBlock", "TransformerBlock with causal self-attention: each position sees only "
               "itself and earlier ones (the block of a GPT).",
               [_int("d_model", 64, "features of each token (the input's last dimension)"),
                _int("num_heads", 4, "attention heads; must divide d_model"),
                _int("dim_feedforward", 256, "hidden size of the feed-forward")], _transformer(True, causal=True)),
        _block("EncoderBlock", "Post-norm Transformer encoder block from primitives (as nn.TransformerEncoderLayer "
               "with ReLU and no dropout).",
               [_int("d_model", 64, "features of each token (the input's last dimension)"),
                _int("num_heads", 4, "attention heads; must divide d_model"),
                _int("dim_feedforward", 256, "hidden size of the feed-forward")], _transformer(False)),
        _block("MLPBlock", "Two linear layers with GELU and dropout between them.",
               [_int("hidden", 256, "hidden features"), _int("out_features", 64, "output features"),
                Param("p", "float", 0.0, "dropout probability", minimum=0.0, maximum=1.0)], _mlp),
        _block("UNetDown", "U-Net down step: a 3x3 convolution with ReLU (its output is the skip) and 2x2 max pooling.",
               [_int("channels", 16, "output channels")], _unet_down),
        _block("UNetUp", "U-Net up step: a 2x2 transposed convolution, the skip concatenated, a 3x3 convolution "
               "with ReLU.", [_int("channels", 16, "output channels")], _unet_up),
    ):
        LIBRARY.add(block)
    return LIBRARY


LIBRARY = Blocks()


def _with_blocks(*names: str) -> Builder:
    """A builder whose project starts with these library blocks."""
    blocks = Blocks()
    graph = Graph()
    graph.blocks = blocks
    import_blocks(graph, library(), names)
    return Builder(blocks)


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
    """torchvision's resnet18 with its two kinds of basic block as blocks (11,689,512 parameters)."""
    b = _with_blocks("BasicBlock", "BasicBlockDown")
    x = b.add("Input", "image", shape=[3, 224, 224])
    x = b.add("Conv2d", "conv1", x, out_channels=64, kernel_size=7, stride=2, padding=3, bias=False)
    x = b.add("BatchNorm2d", "bn1", x)
    x = b.add("ReLU", "relu", x)
    x = b.add("MaxPool2d", "maxpool", x, kernel_size=3, stride=2, padding=1)
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            name = f"layer{stage}_{block}"
            if stage > 1 and block == 0:
                x = b.add("BasicBlockDown", name, x, channels=width, stride=2)
            else:
                x = b.add("BasicBlock", name, x, channels=width)
    x = b.add("AdaptiveAvgPool2d", "avgpool", x, output_size=1)
    x = b.add("Flatten", "flatten", x)
    x = b.add("Linear", "fc", x, out_features=num_classes)
    b.add("Output", "logits", x)
    # 224x224 ImageNet images are not bundled: the designer says so over the canvas (app.notice)
    return Project("ResNet-18", b.graph, ui={DESIGN_ONLY_KEY: True}, blocks=b.graph.blocks)


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


def _digits_cnn_graph(classes: int) -> Graph:
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
    x = b.add("Linear", "fc2", x, out_features=classes)
    b.add("Output", "digit", x)
    return b.graph


def digits_cnn() -> Project:
    return Project("Digits CNN", _digits_cnn_graph(10), data={"dataset": "digits", "validation_split": 0.2,
                                                              "augment": {"crop_padding": 1}},
                   training={"epochs": 30, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
                             "schedule": "cosine", "seed": 0})


# Transfer learning (docs/training.md): the same CNN trained on digits 0-4, its weights written by
# tools/make_pretrained.py to digits_pretrain.safetensors, then fine-tuned on 25 samples of digits 5-9
# with its first convolution frozen and a fresh head; README states it against training from scratch.
PRETRAINED = "digits_pretrain.safetensors"


def digits_pretrain() -> Project:
    return Project("Digits 0-4 (pretraining)", _digits_cnn_graph(5),
                   data={"dataset": "digits", "classes": "0-4", "validation_split": 0.2,
                         "augment": {"crop_padding": 1}},
                   training={"epochs": 20, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
                             "schedule": "cosine", "seed": 0})


def digits_finetune() -> Project:
    graph = _digits_cnn_graph(5)
    graph.set_trainable("conv1", False)
    return Project("Digits 5-9 (fine-tuning)", graph,
                   data={"dataset": "digits", "classes": "5-9", "max_samples": 250, "validation_split": 0.9},
                   training={"epochs": 20, "batch_size": 8, "optimizer": "adam", "learning_rate": 0.01,
                             "schedule": "cosine", "seed": 0,
                             "initial_weights": {"path": PRETRAINED, "nodes": ["conv1", "conv2", "fc1"]}})


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
    b = _with_blocks("EncoderBlock")
    x = b.add("Input", "tokens", shape=[8], dtype="int64")
    x = b.add("Embedding", "embed", x, num_embeddings=10, embedding_dim=32)
    x = b.add("PositionalEncoding", "position", x, max_len=64, dropout=0.0)
    x = b.add("EncoderBlock", "encoder", x, d_model=32, num_heads=4, dim_feedforward=64)
    b.graph.set_repeat("encoder", 2)
    x = b.add("Linear", "head", x, out_features=10)
    b.add("Output", "reversed", x)
    return Project("Transformer sequence reverser", b.graph,
                   data={"dataset": "tokens", "task": "reverse", "vocab": 10, "length": 8, "samples": 4000},
                   training={"epochs": 10, "batch_size": 64, "optimizer": "adamw", "learning_rate": 0.003,
                             "schedule": "one_cycle", "seed": 0}, blocks=b.graph.blocks)


GPT_CONTEXT = 32
GPT_CHARACTERS = 100_000


def tiny_gpt() -> Project:
    """A character-level GPT on Python's bundled documentation (docs/data.md, "text"): token embeddings plus
    the fixed sinusoidal position signal, two causal pre-norm blocks, a final LayerNorm and a head that
    scores the next character at every position. 128 ids cover the text's characters on any CPython.
    Sized for a learner's CPU: the first 100,000 characters in 32-character windows and batches of 32
    (88 steps an epoch at a brisk learning rate), so an epoch takes seconds and ten of them write
    recognisable words (README's table)."""
    b = _with_blocks("CausalTransformerBlock")
    x = b.add("Input", "tokens", shape=[GPT_CONTEXT], dtype="int64")
    x = b.add("Embedding", "embed", x, num_embeddings=128, embedding_dim=64)
    x = b.add("PositionalEncoding", "position", x, max_len=256, dropout=0.0)
    x = b.add("CausalTransformerBlock", "blocks", x, d_model=64, num_heads=4, dim_feedforward=256)
    b.graph.set_repeat("blocks", 2)
    x = b.add("LayerNorm", "norm", x)
    x = b.add("Linear", "head", x, out_features=128)
    b.add("Output", "next_char", x)
    return Project("Tiny GPT", b.graph,
                   data={"dataset": "text", "context": GPT_CONTEXT, "characters": GPT_CHARACTERS},
                   training={"epochs": 10, "batch_size": 32, "optimizer": "adamw", "learning_rate": 0.006,
                             "schedule": "one_cycle", "seed": 0}, blocks=b.graph.blocks)


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
    b = _with_blocks("UNetDown", "UNetUp")
    x = b.add("Input", "image", shape=[1, 16, 16])
    enc1 = b.add("UNetDown", "enc1", x, channels=8)
    enc2 = b.add("UNetDown", "enc2", (enc1, 1), channels=16)
    x = b.add("Conv2d", "bottom", (enc2, 1), out_channels=32, kernel_size=3, padding=1)
    x = b.add("ReLU", "bottom_act", x)
    x = b.add("UNetUp", "dec2", x, (enc2, 0), channels=16)
    x = b.add("UNetUp", "dec1", x, (enc1, 0), channels=8)
    x = b.add("Conv2d", "logits", x, out_channels=1, kernel_size=1)
    b.add("Output", "mask", x, loss="bce_with_logits")
    return Project("U-Net shape segmenter", b.graph,
                   data={"dataset": "shapes", "task": "segment", "mask": "binary", "size": 16, "samples": 1200,
                         "noise": 0.35, "augment": {"flip": "both"}},
                   training={"epochs": 10, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.005,
                             "seed": 0}, blocks=b.graph.blocks)


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


def _ports_outside(graph: Graph) -> Graph:
    """Inputs first and Outputs last in the file, as in forward()'s arguments and results (and as
    `import` writes a design back) when a design holds two networks side by side."""
    graph.nodes = sorted(graph.nodes, key=lambda n: {"Input": 0, "Output": 2}.get(n.type, 1))
    return graph


def gan_ring() -> Project:
    """A GAN on the ring of 8 Gaussians (DESIGN §9): MLP generator (row 0) and discriminator (row 1)."""
    b = Builder()
    x = b.add("Input", "z", shape=[16])
    x = b.add("Linear", "g_fc1", x, out_features=128)
    x = b.add("ReLU", "g_act1", x)
    x = b.add("Linear", "g_fc2", x, out_features=128)
    x = b.add("ReLU", "g_act2", x)
    x = b.add("Linear", "g_out", x, out_features=2)
    b.add("Output", "fake", x, loss="none")
    b.x = 0.0
    x = b.add("Input", "x", row=1, shape=[2])
    x = b.add("Linear", "d_fc1", x, row=1, out_features=128)
    x = b.add("LeakyReLU", "d_act1", x, row=1, negative_slope=0.2)
    x = b.add("Linear", "d_fc2", x, row=1, out_features=128)
    x = b.add("LeakyReLU", "d_act2", x, row=1, negative_slope=0.2)
    x = b.add("Linear", "d_out", x, row=1, out_features=1)
    b.add("Output", "score", x, row=1, loss="none")
    return Project("GAN ring", _ports_outside(b.graph), data={"dataset": "gaussian_ring", "validation_split": 0.0},
                   training={"mode": "gan", "generator": "fake", "discriminator": "score", "epochs": 150,
                             "batch_size": 128, "learning_rate": 0.001, "seed": 0})


def dcgan_digits() -> Project:
    """A small DCGAN on the 8x8 digits: transposed convolutions up from noise, strided ones down to a logit."""
    b = Builder()
    x = b.add("Input", "z", shape=[32])
    x = b.add("Linear", "g_fc", x, out_features=256)
    x = b.add("BatchNorm1d", "g_bn0", x)
    x = b.add("ReLU", "g_act0", x)
    x = b.add("Unflatten", "g_map", x, dim=1, unflattened_size=[64, 2, 2])
    x = b.add("ConvTranspose2d", "g_up1", x, out_channels=32, kernel_size=4, stride=2, padding=1)
    x = b.add("BatchNorm2d", "g_bn1", x)
    x = b.add("ReLU", "g_act1", x)
    x = b.add("ConvTranspose2d", "g_up2", x, out_channels=1, kernel_size=4, stride=2, padding=1)
    x = b.add("Sigmoid", "g_pixels", x)
    b.add("Output", "fake", x, loss="none")
    b.x = 0.0
    x = b.add("Input", "image", row=1, shape=[1, 8, 8])
    x = b.add("Conv2d", "d_conv1", x, row=1, out_channels=32, kernel_size=4, stride=2, padding=1)
    x = b.add("LeakyReLU", "d_act1", x, row=1, negative_slope=0.2)
    x = b.add("Conv2d", "d_conv2", x, row=1, out_channels=64, kernel_size=4, stride=2, padding=1)
    x = b.add("LeakyReLU", "d_act2", x, row=1, negative_slope=0.2)
    x = b.add("Flatten", "d_flat", x, row=1)
    x = b.add("Linear", "d_out", x, row=1, out_features=1)
    b.add("Output", "score", x, row=1, loss="none")
    return Project("DCGAN digits", _ports_outside(b.graph), data={"dataset": "digits", "validation_split": 0.0},
                   training={"mode": "gan", "generator": "fake", "discriminator": "score", "epochs": 60,
                             "batch_size": 64, "learning_rate": 0.0005, "seed": 0})


def _residual(b: Builder) -> None:
    x = b.add("Input", "x")
    y = b.add("Linear", "fc1", x, out_features="$width")
    y = b.add("ReLU", "act", y)
    y = b.add("Dropout", "drop", y, p="$p")
    y = b.add("Linear", "fc2", y, out_features="$features")
    b.add("Output", "y", b.add("Add", "add", y, x))


def spiral_search() -> Project:
    """An under-sized residual MLP on the spiral with a search section (docs/search.md): the
    block's width, its depth (`repeat`), its dropout and the learning rate."""
    blocks = Blocks()
    block = Builder(blocks)
    _residual(block)
    blocks.add(BlockDef("Residual", [_int("width", 4, "hidden units"), _int("features", 16, "units in and out"),
                                     Param("p", "float", 0.5, "dropout probability", minimum=0.0, maximum=1.0)],
                        block.graph, "Linear, ReLU, Dropout, Linear, with a skip connection: keeps its width."))
    b = Builder(blocks)
    x = b.add("Input", "x", shape=[2])
    x = b.add("Linear", "stem", x, out_features=16)
    x = b.add("ReLU", "stem_act", x)
    x = b.add("Residual", "body", x, width=4, p=0.5)
    x = b.add("Linear", "head", x, out_features=3)
    b.add("Output", "y", x)
    search = {"metric": "val_accuracy", "direction": "maximize", "space": {
        "nodes.body.width": {"int": [4, 128], "log": True},
        "nodes.body.repeat": {"int": [1, 4]},
        "nodes.body.p": {"uniform": [0.0, 0.5]},
        "training.learning_rate": {"log_uniform": [1e-4, 3e-2]}}}
    return Project("Spiral search", b.graph, data={"dataset": "spiral", "samples": 3000, "classes": 3},
                   training={"epochs": 30, "batch_size": 64, "optimizer": "adam", "learning_rate": 0.0005,
                             "seed": 0}, extra={"search": search}, blocks=blocks)


# Examples that `python main.py train` trains as they are (their data and training sections set);
# the others are design-only (DESIGN_ONLY).
TRAINABLE = {
    "lenet5.loom": lenet5,
    "spiral_mlp.loom": spiral_mlp,
    "digits_cnn.loom": digits_cnn,
    "digits_pretrain.loom": digits_pretrain,
    "digits_finetune.loom": digits_finetune,
    "lstm_bits.loom": lstm_bits,
    "transformer_tokens.loom": transformer_tokens,
    "tiny_gpt.loom": tiny_gpt,
    "conv_autoencoder.loom": conv_autoencoder,
    "unet_shapes.loom": unet_shapes,
    "sine_regression.loom": sine_regression,
    "gan_ring.loom": gan_ring,
    "dcgan_digits.loom": dcgan_digits,
    "spiral_search.loom": spiral_search,
}

DESIGN_ONLY = {"resnet18.loom": resnet18}


if __name__ == "__main__":
    save_library(library(), BUILT_IN, "LayerLoom blocks")
    print("wrote", BUILT_IN)
    for filename, make in (*DESIGN_ONLY.items(), *TRAINABLE.items()):
        save(make(), EXAMPLES / filename)
        print("wrote", EXAMPLES / filename)
