"""The import as one call: build, trace, map, group into blocks, then prove it: the generated
model with the mapped weights must give the source's outputs (max difference <= 1e-5)."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from engine.codegen import CodegenError, generate_code, load_generated
from engine.importer.build import FlatDesign, flat_design
from engine.importer.grouping import Grouping
from engine.importer.problems import ImportFailure
from engine.importer.source import BATCH, example_inputs, load_source, make_inputs, vocabulary
from engine.importer.trace import propagate, trace
from graph.analysis import analyse
from graph.project import Project

TOLERANCE = 1e-5
CHECK_BATCH = 3  # another batch than the traced one, so that a batch size baked in shows


@dataclass
class ImportResult:
    project: Project
    state: dict[str, torch.Tensor]            # keyed like the generated code's state dict
    source_code: str                          # the generated code the check ran
    max_difference: float = 0.0
    notes: list[str] = field(default_factory=list)


def load_weights(module: torch.nn.Module, path: str) -> None:
    """`--weights` loaded into the module (a FILE.py:NAME's, or a program's); ImportFailure when they do not fit."""
    from engine.export import ExportError
    from engine.export_torch import load_weights as read_state

    try:
        state = read_state(path)
    except ExportError as exc:
        raise ImportFailure(f"--weights: {exc}") from None
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ImportFailure(f"--weights {path} does not fit the module: {str(exc).splitlines()[0]}") from None
    wrong = [f"missing {k}" for k in result.missing_keys[:3]] + [f"unexpected {k}" for k in result.unexpected_keys[:3]]
    if wrong:
        raise ImportFailure(f"--weights {path} does not fit the module: {', '.join(wrong)}")


def import_model(source_text: str, shapes: list[str] | None = None, weights: str | None = None) -> ImportResult:
    """The design, its weights and the generated code for SOURCE (`FILE.py:NAME`); ImportFailure
    lists everything that cannot come in."""
    source = load_source(source_text)
    if weights is not None:
        load_weights(source.module, weights)
    specs = example_inputs(source, shapes)
    vocab = vocabulary(source.module)
    gm = trace(source)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != len(specs):
        raise ImportFailure(f"{source.name}.forward takes {len(placeholders)} tensors, but {len(specs)} input "
                            "shape(s) are given; give one --input-shape per forward argument")
    propagate(gm, make_inputs(specs, BATCH, vocab), source)
    flat = flat_design(gm, source)
    return proven(source.name, flat, source.module, source.namespace, make_inputs(specs, CHECK_BATCH, vocab, seed=1))


def proven(name: str, flat: FlatDesign, module: torch.nn.Module, namespace: object, inputs: tuple) -> ImportResult:
    """The flat design grouped into blocks, written as code, given the module's weights and run on
    `inputs` beside `module`: refused unless the outputs agree (shared by FILE.py:NAME and .pt2 sources)."""
    if flat.problems:
        raise ImportFailure(f"cannot import {name}: {len(flat.problems)} part(s) have no LayerLoom "
                            "counterpart", flat.problems)
    project = Project(name=name)
    project.set_graph(flat.graph)
    grouping = Grouping(project, flat, module, namespace)
    grouping.run()
    analysis = analyse(project.graph)
    if not analysis.valid:
        raise ImportFailure(f"the imported design of {name} is not valid (a LayerLoom bug or a case it "
                            "does not read yet)", [str(d) for d in analysis.errors][:10])
    try:
        code = generate_code(project, analysis=analysis)
    except CodegenError as exc:
        raise ImportFailure(f"the imported design of {name} cannot be written as code: {exc}") from None
    model = load_generated(code).build_model().eval()
    keys = grouping.weight_keys(module)
    wanted = model.state_dict()
    given = module.state_dict()
    state = {}
    for key, target in wanted.items():
        origin = keys.get(key)
        if origin is None or origin not in given or given[origin].shape != target.shape:
            raise ImportFailure(f"the weights of {name} do not map onto the design at {key} (from "
                                f"{origin or 'nowhere'}); a case the importer does not read yet")
        state[key] = given[origin].detach().clone().contiguous()
    model.load_state_dict(state)
    difference = _compare(module, model, inputs)
    if difference > TOLERANCE:
        raise ImportFailure(f"the imported design's outputs differ from {name}'s by {difference:.3g} "
                            f"(more than {TOLERANCE}): something in the module computes what its layers do not "
                            "show (a setting LayerLoom does not read); nothing was written")
    result = ImportResult(project, state, code, difference)
    result.notes.append(f"{len(project.graph.nodes)} nodes, {len(project.blocks)} block(s), "
                        f"{analysis.total_params:,} parameters; outputs "
                        f"equal the source's (max difference {difference:.2g})")
    return result


def _compare(source: torch.nn.Module, model: torch.nn.Module, inputs: tuple) -> float:
    with torch.no_grad():
        want, got = source(*inputs), model(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    if len(want) != len(got):
        return float("inf")
    return max((float((a.float() - b.float()).abs().max()) if a.numel() else 0.0 for a, b in zip(want, got)),
               default=0.0)
