"""`.pt2` sources (torch.export programs) as designs (DESIGN §4 `import`).

A program is an fx graph of ATen operations whose learned tensors are inputs (its state dict); each
operation keeps the module path and class it came from (`nn_module_stack`) and its source line
(`stack_trace`). An operation inside a torch.nn module is read as that module's registry type by the
type's `aten.` declaration (`aten.conv2d(input, weight(out_channels, _, *kernel_size), bias, ...)`):
its settings are the operation's arguments and its weights' shapes, read like a module's attributes
(modules.read_params), its id and weights the module path's. The operations of the model's own code
(`aten.add`, `aten.cat`, `aten.view`) are read as the `.py` route reads calls (build.py); the classes
in the module paths make blocks (grouping.py), and the outputs are checked against the program's.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import fx

from engine.importer import functions
from engine.importer.build import Builder, FlatDesign, _Bad, _Const, _Port, called
from engine.importer.modules import nearest, read_params
from engine.importer.problems import ImportFailure, Problem
from engine.importer.source import BATCH, Source, make_inputs, parse_shape
from engine.importer.trace import Meta, propagate
from graph import registry
from graph.registry import LayerType

_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_TORCH = str(Path(torch.__file__).parent)
_CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})


@dataclass(frozen=True)
class _State:
    """A learned tensor of the program (a parameter, buffer or constant), by its state-dict key."""

    key: str


@cache
def _stand_in(qualified: str) -> type:
    """A class standing for one the program names (`__main__.BasicBlock`), for grouping.py to key blocks
    by; the program keeps the name, not the class."""
    module, _, name = qualified.rpartition(".")
    return type(name, (), {"__module__": module or "__main__"})


@cache
def _by_class_name() -> dict[str, LayerType]:
    return {layer.torch_class: layer for layer in registry.all_types() if layer.torch_class}


def _is_torch(cls: type) -> bool:
    return cls.__module__.startswith("torch.nn")


def load_program(path: Path):
    """The ExportedProgram in `path`; ImportFailure when it is missing or not a program."""
    if not path.is_file():
        raise ImportFailure(f"source {path}: no such file")
    log = logging.getLogger("torch.export")  # it logs a traceback for a file that is not a program
    was = log.disabled
    log.disabled = True
    try:
        return torch.export.load(str(path))
    except Exception as exc:  # noqa: BLE001 -- any reason it does not load is the file's
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImportFailure(f"source {path.name}: not a torch.export program that loads ({first})") from None
    finally:
        log.disabled = was


def _place(node: fx.Node) -> str | None:
    """`file.py:LINE` of the innermost frame outside torch that made the operation."""
    found = None
    for file, line in _FRAME.findall(node.meta.get("stack_trace") or ""):
        if not file.startswith(_TORCH):
            found = f"{Path(file).name.strip('<>')}:{line}"
    return found


def _prepare(graph: fx.Graph) -> None:
    """Each node's module stack as build.py reads a traced one: (path, class) pairs without the root,
    ending at the layer (the outermost torch.nn module the registry maps, else the first torch.nn
    module that is no container), and its line as `place`."""
    for node in graph.nodes:
        chain = [(path, _stand_in(name)) for path, name in (node.meta.get("nn_module_stack") or {}).values()
                 if path and not name.startswith("_")]
        for index, (_, cls) in enumerate(chain):
            if _is_torch(cls) and (cls.__name__ in _by_class_name() or cls.__name__ not in _CONTAINERS):
                chain = chain[:index + 1]
                break
        node.meta["nn_module_stack"] = {str(i): entry for i, entry in enumerate(chain)}
        node.meta["place"] = _place(node)


class _ProgramBuilder(Builder):
    """build.Builder over a program: learned tensors are _State values, an operation in a torch.nn
    module is that module's layer."""

    def __init__(self, module: fx.GraphModule, source: Source, states: dict[str, str]):
        super().__init__(module, source)
        self.states = states
        self.refused: set[str] = set()
        self.per_module = Counter(leaf[0] for node in module.graph.nodes
                                  if node.op == "call_function" and (leaf := self._leaf(node)) is not None
                                  and _tensor_made(node))

    def problem(self, node: fx.Node, where: str, message: str) -> _Bad:
        self.design.problems.append(Problem(where, message, node.meta.get("place")))
        return _Bad()

    def _placeholder(self, node: fx.Node) -> Any:
        if node.target in self.states:
            return _State(self.states[node.target])
        return super()._placeholder(node)

    def _tensors(self, node: fx.Node, args: list[Any], where: str) -> list[_Port] | None:
        if any(isinstance(self.values.get(a), _State) for a in args if isinstance(a, fx.Node)):
            self.problem(node, where, "a learned tensor of the program is used outside a layer (a parameter or "
                         "buffer of the model's own code); LayerLoom's layers hold their own weights")
            return None
        return super()._tensors(node, args, where)

    def _leaf(self, node: fx.Node) -> tuple[str, type] | None:
        stack = list(node.meta["nn_module_stack"].values())
        return stack[-1] if stack and _is_torch(stack[-1][1]) else None

    def _call_function(self, node: fx.Node) -> Any:
        leaf = self._leaf(node)
        if leaf is None or not _tensor_made(node):
            return super()._call_function(node)
        path, cls = leaf
        if any(isinstance(self.values.get(a), _Bad) for a in node.all_input_nodes):
            return _Bad()
        if path in self.refused:
            return _Bad()
        layer = _by_class_name().get(cls.__name__)
        if layer is None:
            hint = nearest(cls.__name__)
            return self._refuse(node, path, f"{cls.__name__} is not a layer type LayerLoom knows"
                                + (f" (nearest: {hint})" if hint else ""))
        count = self.per_module[path]
        if count > 1:
            return self._refuse(node, path, f"the {layer.name} is {count} ATen operations in the program (a module "
                                "called more than once, or one a program holds as several operations), which "
                                "LayerLoom does not read back from a program; import the Python file that "
                                "defines the model")
        patterns = [p for p in functions.patterns_for(node) if p.layer is layer]
        if not patterns:
            return self._refuse(node, path, f"the {layer.name} is held as aten.{called(node)}, which LayerLoom does "
                                "not read back as it yet; import the Python file that defines the model")
        bound = functions.bind(patterns[0], node)
        if isinstance(bound, str):
            return self._refuse(node, path, bound)
        inputs = self._tensors(node, bound.inputs, path)
        if inputs is None:
            return _Bad()
        values = {name: self._plain(value) for name, value in {**bound.ignored, **bound.params}.items()}
        for argument, names in patterns[0].shapes:
            shape = list(getattr(values.get(argument), "shape", None) or ())
            for index, name in enumerate(names):
                if name.startswith("*"):
                    values[name[1:]] = shape[index:]
                elif name != "_" and index < len(shape):
                    values[name] = shape[index]
        params, problems = read_params(SimpleNamespace(**values), layer)
        if problems:
            return self._refuse(node, path, "; ".join(problems))
        node_id = self._add(node, layer.name, path, params, inputs, leaf=True)
        if any(isinstance(self.values.get(a), _State) for a in node.all_input_nodes):
            self.design.paths[node_id] = path  # its weights are the module's
        return _Port(node_id)

    def _refuse(self, node: fx.Node, path: str, message: str) -> _Bad:
        self.refused.add(path)
        return self.problem(node, path, message)

    def _plain(self, value: Any) -> Any:
        """An operation argument as a value: a learned tensor as its Meta (shape), a number as itself."""
        if isinstance(value, fx.Node):
            held = self.values.get(value)
            if isinstance(held, _Const):
                return held.value
            return value.meta.get("traced")
        if isinstance(value, (list, tuple)):
            return [self._plain(v) for v in value]
        return value


def _tensor_made(node: fx.Node) -> bool:
    traced: Meta | None = node.meta.get("traced")
    return traced is not None and (traced.is_tensor or traced.items is not None)


def _specs(program, shapes: list[str] | None) -> tuple[list[tuple[tuple[int, ...], str]], int | None]:
    """(shape without batch, dtype) per input, from --input-shape or the program; and the batch size
    when the program fixed it (None when it is free)."""
    from torch.export.graph_signature import InputKind

    users = {s.arg.name for s in program.graph_signature.input_specs if s.kind == InputKind.USER_INPUT}
    values = [n.meta.get("val") for n in program.graph.nodes if n.op == "placeholder" and n.name in users]
    batches = {v.shape[0] for v in values if isinstance(v, torch.Tensor) and v.dim() and isinstance(v.shape[0], int)}
    batch = min(batches) if batches else None
    if shapes:
        return [parse_shape(s) for s in shapes], batch
    specs = []
    for value in values:
        if not isinstance(value, torch.Tensor) or value.dim() < 1 or \
                not all(isinstance(d, int) for d in value.shape[1:]):
            raise ImportFailure("the program's inputs are not batched tensors of fixed sizes after the batch; "
                                "give --input-shape S per input")
        specs.append((tuple(value.shape[1:]), "float32" if value.dtype.is_floating_point else "int64"))
    return specs, batch


def import_program(text: str, shapes: list[str] | None = None, weights: str | None = None):
    """The design, weights and generated code of the program in `text` (a .pt2 file); ImportFailure
    lists every operation that cannot come in."""
    from torch.export.graph_signature import InputKind

    from engine.importer.run import CHECK_BATCH, load_weights, proven

    path = Path(text)
    program = load_program(path)
    module = program.module()
    if weights is not None:
        load_weights(module, weights)
    state = {**program.constants, **module.state_dict()}
    specs, fixed = _specs(program, shapes)
    stored = {s.arg.name: s.target for s in program.graph_signature.input_specs if s.kind != InputKind.USER_INPUT}
    if len(program.graph_signature.input_specs) - len(stored) != len(specs):
        raise ImportFailure(f"{path.name} takes {len(program.graph_signature.input_specs) - len(stored)} input(s), "
                            f"but {len(specs)} input shape(s) are given")
    vocab = min((state[stored[n.args[0].name]].shape[0] for n in program.graph.nodes
                 if called(n) == "embedding" and n.args and getattr(n.args[0], "name", None) in stored), default=2)
    gm = program.graph_module
    source = Source(module, path, re.sub(r"\W", "_", path.stem) or "program", None)

    def arguments(inputs: tuple) -> tuple:
        given = iter(inputs)
        return tuple(state[stored[s.arg.name]] if s.arg.name in stored else next(given)
                     for s in program.graph_signature.input_specs)

    propagate(gm, arguments(make_inputs(specs, fixed or BATCH, vocab)), source)
    _prepare(gm.graph)
    flat: FlatDesign = _ProgramBuilder(gm, source, stored).build()
    return proven(source.name, flat, module, None, make_inputs(specs, fixed or CHECK_BATCH, vocab, seed=1))
