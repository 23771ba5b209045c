"""One small design per declared layer type (plus variants that take other code paths), so
that codegen is exercised on every type the registry knows, with nothing listed by hand but
the variants."""
from __future__ import annotations

from graph import registry
from graph.analysis import analyse
from graph.project import Project
from tests.engine.designs._build import Builder

# Shapes (without the batch) tried in turn for each input port until the design is valid.
CANDIDATE_SHAPES = [(6, 8), (8,), (8, 6, 6), (4, 6, 6, 6), (8, 8), (1,), (8, 9)]  # (8, 9): Fold's 3x3 blocks

# Parameter sets that take other paths through codegen than the defaults do.
VARIANTS = [
    ("Conv2d", {"padding": "same", "padding_mode": "reflect", "kernel_size": [3, 5], "bias": False}),
    ("Conv1d", {"stride": 2, "dilation": 2, "groups": 2, "out_channels": 4}),
    ("ConvTranspose2d", {"stride": 2, "output_padding": 1}),
    ("MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": True}),
    ("Upsample", {"scale_factor": None, "size": [9, 9], "mode": "bilinear", "align_corners": True}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}),
    ("LSTM", {"bidirectional": True, "hidden_size": 6}),
    ("GRU", {"bias": False, "num_layers": 3, "dropout": 0.1}),
    ("Softmax", {"dim": 1}),
    ("GELU", {"approximate": "tanh"}),
    ("LayerNorm", {"normalized_dims": 2, "bias": False}),
    ("BatchNorm1d", {"momentum": None, "affine": False}),
    ("Embedding", {"num_embeddings": 7, "padding_idx": 0}),
    ("Chunk", {"chunks": 4, "dim": -1}),
    ("Concat", {"num_inputs": 3, "dim": 2}),
    ("Add", {"num_inputs": 4}),
    ("Permute", {"dims": [0, 2, 1]}),
    ("Reshape", {"shape": [2, -1]}),
    ("Flatten", {"start_dim": 2}),
    ("MultiheadAttention", {"num_heads": 2, "bias": False}),
    ("TransformerEncoderLayer", {"norm_first": True, "activation": "gelu", "dim_feedforward": 16}),
    ("TransformerDecoderLayer", {"dim_feedforward": 16, "dropout": 0.0}),
    ("PositionalEncoding", {"max_len": 6, "dropout": 0.0}),
]


def single_layer(type_name: str, params: dict | None = None) -> Project | None:
    """Inputs -> one `type_name` node -> one Output per output port; None if no candidate shape fits."""
    layer = registry.get(type_name)
    dtype = "int64" if layer.dtype == "int" else "float32"
    for shape in CANDIDATE_SHAPES:
        if dtype == "int64":
            shape = shape[:1]
        b = Builder(f"{type_name} check")
        if layer.name == "Input":
            node = b.add("Input", "layer", shape=list(shape), **(params or {}))
        else:
            ports = layer.input_ports(layer.resolve(params or {})[0])
            sources = [b.add("Input", f"in{i}", shape=list(shape), dtype=dtype) for i in range(len(ports))]
            node = b.add(type_name, "layer", *sources, **(params or {}))
        if layer.name == "Output":
            project = b.project
        else:
            for port in range(len(layer.output_ports(layer.resolve(params or {})[0]))):
                b.add("Output", f"out{port}", (node, port))
            project = b.project
        if analyse(project.graph).valid:
            return project
    return None


def all_designs() -> list[tuple[str, Project]]:
    """(label, project) for every declared type except Input/Output, and every variant."""
    designs = []
    for layer in registry.all_types():
        if layer.name in ("Input", "Output"):
            continue
        designs.append((layer.name, single_layer(layer.name)))
    for type_name, params in VARIANTS:
        label = type_name + "(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
        designs.append((label, single_layer(type_name, params)))
    return designs
