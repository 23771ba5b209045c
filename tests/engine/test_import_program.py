"""`import MODEL.pt2` (DESIGN §4): a torch.export program becomes a design through the registry's
`aten.` declarations, with its weights, blocks from its repeated classes, outputs equal to the
program's, and every operation that cannot come in named with its line."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.codegen import generate_code, load_generated
from engine.importer import ImportFailure
from engine.importer.program import import_program
from tests.engine.designs.catalogue import all_designs

torch.set_num_threads(1)
CATALOGUE = dict(all_designs())
# designs of the types a program's ATen operations are read back as (the others are refused, named)
READ = ["Linear", "Conv2d", "Conv1d(stride=2, dilation=2, groups=2, out_channels=4)", "BatchNorm2d", "BatchNorm1d",
        "MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True)", "AvgPool2d", "AdaptiveAvgPool2d",
        "LayerNorm(normalized_dims=2, bias=False)", "Embedding(num_embeddings=7, padding_idx=0)", "Dropout",
        "Concat(num_inputs=3, dim=2)", "Add(num_inputs=4)", "Flatten(start_dim=2)", "Reshape(shape=[2, -1])",
        "GELU(approximate=tanh)", "Softmax(dim=1)", "Chunk(chunks=4, dim=-1)", "Mean", "Transpose", "MatMul"]


def _exported(model: nn.Module, inputs: tuple, path, free_batch: bool = True):
    batch = torch.export.Dim("batch", min=1)
    shapes = tuple({0: batch} for _ in inputs) if free_batch else None
    torch.export.save(torch.export.export(model.eval(), inputs, dynamic_shapes=shapes), str(path))
    return path


def _layers(graph) -> list:
    """Each layer's type and settings as the file holds them, in order; ids of layers, not of calls
    (`x = a + b` keeps none, as in the .py route) nor of Outputs (a program keeps no output names)."""
    found = []
    for node in graph.nodes:
        layer = graph.layer_of(node)
        params = {k: v for k, v in node.params.items() if layer.param(k) is None or v != layer.param(k).default}
        params.pop("shape", None) if node.type == "Reshape" else None
        named = layer.torch_class is not None or node.type == "Input"
        found.append((node.id, node.type, params) if named else (node.type, params))
    return found


@pytest.mark.parametrize("label", READ)
def test_a_program_of_a_catalogue_design_comes_back_as_that_design(tmp_path, label):
    project = CATALOGUE[label]
    torch.manual_seed(0)
    module = load_generated(generate_code(project))
    model = module.build_model()
    for buffer in model.buffers():  # running statistics other than the initial ones, so that they must come in
        if buffer.is_floating_point():
            buffer.uniform_(0.5, 1.5)
    path = _exported(model, tuple(module.example_inputs(2)), tmp_path / "model.pt2")
    result = import_program(str(path))
    assert _layers(result.project.graph) == _layers(project.graph)
    assert result.max_difference <= 1e-5
    assert result.state.keys() == model.state_dict().keys()
    for key, tensor in model.state_dict().items():
        assert torch.equal(result.state[key], tensor), key


class Residual(nn.Module):
    def __init__(self, channels: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)) + x)


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.block1 = Residual(8)
        self.block2 = Residual(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = self.block2(self.block1(x))
        return self.head(torch.flatten(self.pool(x), 1))


def test_a_cnn_with_batch_norm_comes_in_with_its_blocks_weights_and_outputs(tmp_path):
    torch.manual_seed(1)
    model = SmallResNet()
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    path = _exported(model, (torch.randn(2, 3, 16, 16),), tmp_path / "resnet.pt2")
    result = import_program(str(path))
    graph = result.project.graph
    assert [b.name for b in result.project.blocks] == ["Residual"]
    assert [(n.id, n.type) for n in graph.nodes] == [
        ("x", "Input"), ("stem", "Conv2d"), ("bn", "BatchNorm2d"), ("relu", "ReLU"), ("block1", "Residual"),
        ("block2", "Residual"), ("pool", "AdaptiveAvgPool2d"), ("flatten", "Flatten"), ("head", "Linear"),
        ("y", "Output")]
    assert result.max_difference <= 1e-5
    generated = load_generated(result.source_code).build_model().eval()
    generated.load_state_dict(result.state)
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(generated(x), model.eval()(x), atol=1e-5)


def test_a_program_with_a_fixed_batch_is_checked_on_that_batch(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    path = _exported(model, (torch.randn(5, 4),), tmp_path / "fixed.pt2", free_batch=False)
    result = import_program(str(path))
    assert [n.type for n in result.project.graph.nodes] == ["Input", "Linear", "Tanh", "Output"]


class Refused(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.shuffle = nn.ChannelShuffle(2)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        y = self.shuffle(self.conv(x))
        y = y[:, :4]
        return y * self.scale


def test_what_a_program_cannot_bring_in_is_named_with_its_line(tmp_path):
    path = _exported(Refused(), (torch.randn(2, 3, 8, 8),), tmp_path / "refused.pt2")
    with pytest.raises(ImportFailure) as refused:
        import_program(str(path))
    text = str(refused.value)
    assert "cannot import refused: " in text
    lines = text.splitlines()[1:]
    assert any(line.strip().startswith("shuffle (test_import_program.py:") and "ChannelShuffle is not a layer type"
               in line and "nearest: PixelShuffle" in line for line in lines), text
    assert any("slice()" in line and "test_import_program.py:" in line for line in lines), text
    assert "Traceback" not in text
