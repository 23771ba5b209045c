"""An nn.Sequential made of alike uses of one block class comes back as one block node with
`repeat` (DESIGN §3.1), its copies' weights keyed as the exporter keys them; anything else in the
Sequential, differing settings or a block that changes its input's shape keep the copies."""
from __future__ import annotations

import pytest
import torch

from engine.importer import import_model

torch.set_num_threads(1)

MODEL = '''
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width=16, hidden=32):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))


class Down(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.fc = nn.Linear(width, 8)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.stack = {stack}
        self.head = nn.Linear({width}, 4)

    def forward(self, x):
        return self.head(self.stack(x))


def example_inputs(batch_size=2):
    return (torch.randn(batch_size, 16),)
'''


def _import(tmp_path, stack: str, width: int = 16):
    path = tmp_path / "model.py"
    path.write_text(MODEL.replace("{stack}", stack).replace("{width}", str(width)))
    return import_model(f"{path}:Model")


def test_a_sequential_of_alike_blocks_is_one_repeated_node(tmp_path):
    result = _import(tmp_path, "nn.Sequential(*[Block(hidden=24) for _ in range(3)])")
    graph = result.project.graph
    assert [(n.id, n.type, n.params, n.extra) for n in graph.nodes] == [
        ("x", "Input", {"shape": [16]}, {}), ("stack", "Block", {}, {"repeat": 3}),
        ("head", "Linear", {"out_features": 4}, {}), ("y", "Output", {}, {})]
    assert [(e.src, e.dst) for e in graph.edges] == [("x", "stack"), ("stack", "head"), ("head", "y")]
    assert "stack.2.fc1.weight" in result.state and "stack.3.fc1.weight" not in result.state
    assert "self.stack = nn.Sequential(*(Block(16) for _ in range(3)))" in result.source_code
    assert result.max_difference <= 1e-5


@pytest.mark.parametrize(("stack", "width", "copies"), [
    ("nn.Sequential(Block(hidden=32), Block(hidden=8))", 16, ["stack_0", "stack_1"]),  # settings differ
    ("nn.Sequential(Block(), Block(), nn.ReLU())", 16, ["stack_0", "stack_1"]),        # not the whole Sequential
    ("nn.Sequential(Down(16), Down(8))", 8, ["stack_0", "stack_1"]),                   # 16 -> 8: cannot repeat
])
def test_other_sequentials_keep_their_copies(tmp_path, stack, width, copies):
    result = _import(tmp_path, stack, width)
    graph = result.project.graph
    assert [n.id for n in graph.nodes if n.type in result.project.blocks.names()] == copies
    assert all("repeat" not in n.extra for n in graph.nodes)
    assert result.max_difference <= 1e-5


def test_a_program_of_the_same_comes_back_repeated(tmp_path):
    """A .pt2 keeps class names only (engine/importer/program.py): its Sequential is known by name."""
    import importlib.util

    from engine.importer.program import import_program

    path = tmp_path / "model.py"
    path.write_text(MODEL.replace("{stack}", "nn.Sequential(*[Block() for _ in range(2)])").replace("{width}", "16"))
    spec = importlib.util.spec_from_file_location("repeat_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.export.save(torch.export.export(module.Model().eval(), module.example_inputs()), str(tmp_path / "m.pt2"))
    result = import_program(str(tmp_path / "m.pt2"))
    assert [(n.id, n.extra) for n in result.project.graph.nodes if n.type == "Block"] == [("stack", {"repeat": 2})]
    assert "stack.1.fc2.weight" in result.state
    assert result.max_difference <= 1e-5
