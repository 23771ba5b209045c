"""Block classes in the generated code (DESIGN §5): one nn.Module per block, constructors that take
the block parameters and input sizes, repeat as nn.Sequential, nested state-dict keys."""
from __future__ import annotations

import ast

import pytest
import torch

from engine.codegen import generate_code, load_generated
from graph.analysis import analyse
from graph.block_edit import import_blocks, make_block
from graph.block_library import load_library
from graph.project import Project, load
from tests.conftest import EXAMPLES
from tests.graph.test_blocks import FLAT_RESNET, RESNET18_PARAMS, stage_ids

# library block -> (input shapes and dtypes, its parameters for the test use)
LIBRARY_USES = {
    "ConvBNReLU": ([[3, 16, 16]], {"out_channels": 8, "stride": 2}),
    "BasicBlock": ([[8, 16, 16]], {"channels": 8}),
    "BasicBlockDown": ([[8, 16, 16]], {"channels": 16}),
    "Bottleneck": ([[8, 16, 16]], {"width": 4, "out_channels": 16, "stride": 2}),
    "TransformerBlock": ([[6, 16]], {"d_model": 16, "num_heads": 2, "dim_feedforward": 32}),
    "CausalTransformerBlock": ([[6, 16]], {"d_model": 16, "num_heads": 2, "dim_feedforward": 32}),
    "EncoderBlock": ([[6, 16]], {"d_model": 16, "num_heads": 2, "dim_feedforward": 32}),
    "MLPBlock": ([[10]], {"hidden": 32, "out_features": 4, "p": 0.1}),
    "UNetDown": ([[3, 16, 16]], {"channels": 8}),
    "UNetUp": ([[16, 8, 8], [8, 16, 16]], {"channels": 8}),
}


def use_of(name: str) -> Project:
    """A project whose model is one use of a library block."""
    project = Project(name=f"Use {name}")
    import_blocks(project.graph, load_library(), [name])
    g = project.graph
    shapes, params = LIBRARY_USES[name]
    inputs = [g.add_node("Input", f"in{i}", {"shape": shape}).id for i, shape in enumerate(shapes)]
    node = g.add_node(name, "block", params)
    for port, src in enumerate(inputs):
        g.connect(src, "block", 0, port)
    for port, _ in enumerate(g.output_ports(node)):
        g.add_node("Output", f"out{port}", {"loss": "mse"})
        g.connect("block", f"out{port}", port, 0)
    return project


def run(project: Project) -> tuple[torch.nn.Module, str]:
    source = generate_code(project)
    module = load_generated(source)
    model = module.build_model().eval()
    with torch.no_grad():
        model(*module.example_inputs())
    return model, source


def test_the_library_covers_the_issue_list():
    assert set(load_library().names()) == set(LIBRARY_USES)


@pytest.mark.parametrize("name", sorted(LIBRARY_USES))
def test_each_library_block_infers_generates_and_runs(name):
    project = use_of(name)
    analysis = analyse(project.graph)
    assert analysis.valid, [str(d) for d in analysis.diagnostics]
    model, source = run(project)
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    assert f"class {name}(nn.Module):" in source
    assert all(key.startswith("block.") for key in model.state_dict())


def test_block_resnet18_reads_like_torchvision_and_keeps_its_parameter_count():
    project = load(EXAMPLES / "resnet18.loom")
    model, source = run(project)
    assert sum(p.numel() for p in model.parameters()) == RESNET18_PARAMS
    lines = [line.strip() for line in source.splitlines()]
    assert "class BasicBlock(nn.Module):" in lines and "class BasicBlockDown(nn.Module):" in lines
    assert "def __init__(self, in_channels, channels=128, stride=2):" in lines
    assert "self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=3, stride=stride, padding=1, bias=False)" in lines
    assert "self.bn1 = nn.BatchNorm2d(channels)" in lines
    assert "self.layer2_0 = BasicBlockDown(64)" in lines and "self.layer4_1 = BasicBlock(channels=512)" in lines
    assert "x = self.layer1_0(x)  # (N, 64, 56, 56)" in lines
    keys = list(model.state_dict())
    assert "layer1_0.conv1.weight" in keys and "layer2_0.down_bn.running_mean" in keys


def test_the_block_resnet_has_the_flat_resnets_weights_in_the_same_order():
    flat, _ = run(load(FLAT_RESNET))
    nested, _ = run(load(EXAMPLES / "resnet18.loom"))
    assert [t.shape for t in flat.state_dict().values()] == [t.shape for t in nested.state_dict().values()]
    renamed = [k.replace(".", "_", 1) if k.startswith("layer") else k for k in nested.state_dict()]
    assert renamed == list(flat.state_dict())  # layer1_0.conv1.weight <-> layer1_0_conv1.weight


def test_a_block_made_on_the_canvas_exports_and_computes_as_the_flat_design():
    project = load(FLAT_RESNET)
    project.graph.set_param("image", "shape", [3, 32, 32])
    flat, _ = run(project)
    g = project.graph
    make_block(g, [stage_ids(g, s) for s in ("layer1_0", "layer1_1", "layer2_1", "layer3_1", "layer4_1")], "Res")
    make_block(g, [stage_ids(g, s) for s in ("layer2_0", "layer3_0", "layer4_0")], "ResDown")
    nested, _ = run(project)
    nested.load_state_dict(dict(zip(nested.state_dict(), flat.state_dict().values())))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(nested(x), flat(x))


def test_a_repeated_block_is_a_sequential_of_copies():
    project = load(EXAMPLES / "transformer_tokens.loom")
    model, source = run(project)
    assert "self.encoder = nn.Sequential(*(EncoderBlock(d_model=32, dim_feedforward=64) for _ in range(2)))" in source
    assert "encoder.1.attn.in_proj_weight" in model.state_dict()
    assert sum(p.numel() for p in model.parameters()) == 17_738  # as the flat TransformerEncoderLayer design


def test_a_size_that_differs_between_uses_becomes_a_constructor_argument():
    project = load(EXAMPLES / "unet_shapes.loom")
    _, source = run(project)
    tree = ast.parse(source)
    up = next(c for c in tree.body if isinstance(c, ast.ClassDef) and c.name == "UNetUp")
    init = next(f for f in up.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
    assert [a.arg for a in init.args.args] == ["self", "x_in_channels", "in_channels", "channels"]
    assert "self.dec2 = UNetUp(32, 32)" in source and "x, y = self.enc1(image)" in source


def test_blocks_inside_blocks_nest_their_classes_and_keys():
    project = use_of("BasicBlock")
    g = project.graph
    inner = project.blocks.get("BasicBlock").graph
    make_block(inner, [{"conv1", "bn1", "relu1"}], "Stem")
    model, source = run(project)
    assert source.index("class Stem(nn.Module):") < source.index("class BasicBlock(nn.Module):")
    assert "block.stem.conv1.weight" in model.state_dict()
    assert analyse(g).valid
