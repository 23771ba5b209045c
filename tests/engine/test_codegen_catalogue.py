"""Codegen on every declared layer type and on random graphs: the code compiles, passes ruff
with its default rules, runs, gives the inferred shapes and has torch's parameter count."""
from __future__ import annotations

import ast
import py_compile
import subprocess
import sys

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.codegen import generate_code, load_generated
from graph.analysis import analyse
from tests.engine.designs import DESIGNS
from tests.engine.designs._build import Builder
from tests.engine.designs.catalogue import all_designs

torch.set_num_threads(1)

CATALOGUE = all_designs()


def _outputs(model, inputs):
    with torch.no_grad():
        out = model(*inputs)
    return out if isinstance(out, tuple) else (out,)


def check_runs_with_inferred_shapes(project) -> None:
    analysis = analyse(project.graph)
    module = load_generated(generate_code(project))
    model = module.build_model().eval()
    inputs = module.example_inputs(3)
    outputs = _outputs(model, inputs)
    wanted = [n.id for n in project.graph.nodes if n.type == "Output"]
    assert len(outputs) == len(wanted)
    for node_id, tensor in zip(wanted, outputs, strict=True):
        assert tuple(tensor.shape) == (3, *analysis.nodes[node_id].inputs[0]), node_id
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params


@pytest.mark.parametrize(("label", "project"), CATALOGUE, ids=[label for label, _ in CATALOGUE])
def test_every_layer_type_generates_running_code(label, project):
    assert project is not None, f"no small valid design for {label}"
    check_runs_with_inferred_shapes(project)


def test_generated_code_passes_py_compile_and_ruff_default_rules(tmp_path):
    """One ruff run over the code of every design here (ruff --isolated: its default rules,
    not this project's settings)."""
    projects = [project for _, project in CATALOGUE] + [d.project() for d in DESIGNS.values()]
    for i, project in enumerate(projects):
        path = tmp_path / f"design_{i}.py"
        path.write_text(generate_code(project), encoding="utf-8")
        py_compile.compile(str(path), doraise=True)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def assigned_and_loaded(source: str) -> tuple[list[str], set[str]]:
    """Names assigned in forward() and names it reads."""
    tree = ast.parse(source)
    forward = next(f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "forward")
    stored = [n.id for n in ast.walk(forward) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    loaded = {n.id for n in ast.walk(forward) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return stored, loaded


@pytest.mark.parametrize(("label", "project"), CATALOGUE[:8] + CATALOGUE[-12:],
                         ids=[label for label, _ in CATALOGUE[:8] + CATALOGUE[-12:]])
def test_forward_has_no_dead_variables(label, project):
    stored, loaded = assigned_and_loaded(generate_code(project))
    dead = [name for name in stored if name != "_" and name not in loaded]
    assert not dead
    assert len(stored) == len(set(stored)), "a variable is assigned twice"


# -- random graphs ----------------------------------------------------------------------------
WIDTH = 8


@st.composite
def random_graphs(draw):
    """DAGs over (N, 8) features: layers, merges, splits, several outputs, dead branches.
    Returns the builder and, per node, how to recompute it from the model's submodules."""
    b = Builder("Random graph")
    pool = [(b.add("Input", "x", shape=[WIDTH]), 0)]
    if draw(st.booleans()):
        pool.append((b.add("Input", "x2", shape=[WIDTH]), 0))
    for i in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["Linear", "ReLU", "Add", "Multiply", "ChunkCat", "LayerNorm"]))
        pick = st.sampled_from(pool)
        if kind in ("Add", "Multiply"):
            count = draw(st.integers(2, 3))
            node = b.add(kind, f"n{i}", *[draw(pick) for _ in range(count)], num_inputs=count)
        elif kind == "ChunkCat":
            split = b.add("Chunk", f"n{i}_split", draw(pick), chunks=2, dim=1)
            order = draw(st.permutations([0, 1]))
            node = b.add("Concat", f"n{i}", *[(split, port) for port in order], dim=1)
        elif kind == "Linear":
            node = b.add("Linear", f"n{i}", draw(pick), out_features=WIDTH)
        else:
            node = b.add(kind, f"n{i}", draw(pick))
        pool.append((node, 0))
    outputs = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    for k, source in enumerate(outputs):
        b.add("Output", f"y{k}", source)
    return b.project


def interpret(project, model, inputs):
    """Evaluate the graph node by node with the generated model's own submodules."""
    graph = project.graph
    analysis = analyse(graph)
    values: dict[tuple[str, int], torch.Tensor] = {}
    arguments = iter(inputs)
    results = {}
    for node_id in analysis.order:
        node = graph[node_id]
        ins = [values.get((e.src, e.src_port)) for e in sorted(graph.edges_into(node_id), key=lambda e: e.dst_port)]
        if node.type == "Input":
            values[(node_id, 0)] = next(arguments)
        elif node.type == "Output":
            results[node_id] = ins[0]
        elif any(v is None for v in ins):
            continue
        elif node.type == "Add":
            values[(node_id, 0)] = sum(ins[1:], ins[0])
        elif node.type == "Multiply":
            out = ins[0]
            for v in ins[1:]:
                out = out * v
            values[(node_id, 0)] = out
        elif node.type == "Chunk":
            for port, piece in enumerate(torch.chunk(ins[0], 2, dim=1)):
                values[(node_id, port)] = piece
        elif node.type == "Concat":
            values[(node_id, 0)] = torch.cat(ins, dim=1)
        else:
            values[(node_id, 0)] = getattr(model, node_id)(ins[0]) if hasattr(model, node_id) else None
    return [results[n.id] for n in graph.nodes if n.type == "Output"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_random_graphs_match_a_node_by_node_interpreter(project):
    source = generate_code(project)
    compile(source, "<random>", "exec")
    module = load_generated(source)
    torch.manual_seed(0)
    model = module.build_model().eval()
    inputs = module.example_inputs(2)
    got = _outputs(model, inputs)
    want = interpret(project, model, inputs)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g, w)
    stored, loaded = assigned_and_loaded(source)
    assert all(name == "_" or name in loaded for name in stored)
