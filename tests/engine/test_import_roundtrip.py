"""export -> import gives the design back: for a design of every layer type (the catalogue) and
every bundled example, the same layers (ids, types, parameters), wires and blocks, and identical
weights.

What generated code cannot carry is compared up to it: the ids of nodes that are calls rather
than layers (`x = a + b` keeps no id; they come back named by the call, `add`), an Output's
`loss` (a training setting, not code), block parameters' help texts and bounds, a Reshape's -1
(the code writes the resolved size), and the ids of a block's Input and Output nodes, compared by
position (they come back as x0, x1, y0, y1)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.codegen import generate_code, load_generated
from engine.importer import import_model
from graph.project import Project, load
from tests.engine.designs.catalogue import all_designs

torch.set_num_threads(1)
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.loom"))
CASES = [(label, project) for label, project in all_designs()] + [(p.stem, load(p)) for p in EXAMPLES]


def _is_call(graph, node) -> bool:
    """A node written as a call in forward() (`a + b`), whose id the code does not keep."""
    layer = graph.layer_of(node)
    return layer.role == "layer" and layer.torch_class is None and node.type not in graph.blocks


def _shape(project: Project) -> tuple:
    """The design with call nodes numbered in file order, Output losses and Reshape sizes left out,
    parameters as the file holds them (defaults dropped)."""
    def graph_of(graph, block=False):
        calls = [n.id for n in graph.nodes if _is_call(graph, n)]
        name = {node_id: f"call{i}" for i, node_id in enumerate(calls)}
        order = graph.nodes
        if block:  # a block's ports by position: forward()'s names of them are not read back yet
            ports = [n for n in graph.nodes if n.type in ("Input", "Output")]
            name.update({n.id: f"{n.type}{i}" for i, n in enumerate(ports)})
            order = sorted(graph.nodes, key=lambda n: n.type == "Output")
        nodes = []
        for n in order:
            layer = graph.layer_of(n)
            params = {k: v for k, v in n.params.items() if layer.param(k) is None or v != layer.param(k).default}
            if n.type in ("Output", "Reshape"):
                params.pop("loss", None), params.pop("shape", None)
            if n.type == "Input":
                params.pop("dtype", None) if params.get("dtype") == "float32" else None
            nodes.append((name.get(n.id, n.id), n.type, params, n.extra.get("repeat", 1)))
        edges = sorted((name.get(e.src, e.src), e.src_port, name.get(e.dst, e.dst), e.dst_port) for e in graph.edges)
        return nodes, edges

    blocks = [(b.name, [(p.name, p.kind, p.default) for p in b.params], graph_of(b.graph, True))
              for b in project.blocks]
    return graph_of(project.graph), blocks


@pytest.mark.parametrize(("label", "project"), CASES, ids=[label for label, _ in CASES])
def test_export_then_import_gives_the_design_back(tmp_path, label, project):
    torch.manual_seed(0)
    source = generate_code(project)
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    model = load_generated(source).build_model()
    weights = tmp_path / "w.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    result = import_model(f"{path}:build_model", weights=str(weights))
    assert result.max_difference <= 1e-5
    assert _shape(result.project) == _shape(project)
    assert result.state.keys() == model.state_dict().keys()
    for key, tensor in model.state_dict().items():
        assert torch.equal(result.state[key], tensor), key
