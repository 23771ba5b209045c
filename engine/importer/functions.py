"""Traced functions and methods as registry types, read from the types' `functions` declarations
(`"F.leaky_relu(input, negative_slope)"`), and the output ports of multi-output types read from
their `Code` (`{h_n}[-1]` inside `{y}, ({h_n}, _)` is the tuple path (1, 0, -1))."""
from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from graph import registry
from graph.registry import LayerType

_CALL = re.compile(r"(F|torch|operator|aten)?\.(\w+)\((.*)\)\Z")
_ARG = re.compile(r"\s*([^,(]+?)(?:\(([^)]*)\))?\s*(?:,|\Z)")  # `weight(out_channels, _, *kernel_size)`
_SPACES = {"F": F, "torch": torch, "operator": operator, "aten": torch.ops.aten}
# Calls that give their input unchanged for a design (memory layout only).
PASS_THROUGH = frozenset({"contiguous"})
# Keyword arguments fx records that do not change what a call computes.
IGNORED = frozenset({"inplace", "_stacklevel"})


@dataclass(frozen=True)
class Pattern:
    layer: LayerType
    args: tuple[str, ...]    # argument names: ports, parameters, "_", "*name", "[inputs]"
    shapes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (argument, the parameters its shape gives)

    def port_names(self) -> set[str]:
        return {"input", "inputs", "other", *self.layer.input_ports(self.layer.defaults())}


@cache
def _patterns() -> tuple[dict[Any, list[Pattern]], dict[str, list[Pattern]]]:
    functions: dict[Any, list[Pattern]] = {}
    methods: dict[str, list[Pattern]] = {}
    for layer in registry.all_types():
        for text in layer.functions:
            match = _CALL.match(text)
            if match is None:
                raise ValueError(f"{layer.name}: cannot read the function declaration {text!r}")
            space, name, args = match.groups()
            parts = [m.groups() for m in _ARG.finditer(args) if m.group(1)]
            pattern = Pattern(layer, tuple(a.strip() for a, _ in parts),
                              tuple((a.strip(), tuple(s.strip() for s in shape.split(","))) for a, shape in parts
                                    if shape is not None))
            if space is None:
                methods.setdefault(name, []).append(pattern)
            else:
                target = getattr(_SPACES[space], name, None)
                if target is not None:
                    functions.setdefault(target, []).append(pattern)
    return functions, methods


def patterns_for(node: fx.Node) -> list[Pattern]:
    functions, methods = _patterns()
    if node.op == "call_method":
        return methods.get(node.target, [])
    return functions.get(getattr(node.target, "overloadpacket", node.target), [])  # aten.conv2d.default


@dataclass
class Bound:
    """A call read against a pattern: the tensors on each input port and the parameters."""

    inputs: list[Any]
    params: dict[str, Any]
    ignored: dict[str, Any]


def bind(pattern: Pattern, node: fx.Node) -> Bound | str:
    """The call's arguments by the pattern's names, or a message saying what does not fit."""
    names = list(pattern.args)
    ports = pattern.port_names()
    positional = list(node.args)
    given: dict[str, Any] = {}
    for index, name in enumerate(names):
        if name.startswith("*"):
            rest = positional[index:]
            given[name[1:]] = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else list(rest)
            positional = []
            break
        if index < len(positional):
            given[name.strip("[]")] = positional[index]
    if len(positional) > len(names):
        return f"takes more arguments than LayerLoom's {pattern.layer.name} reads"
    plain = [n.strip("[]*") for n in names]
    for key, value in node.kwargs.items():
        if key in IGNORED or ((value is None or value is False) and key not in plain):
            continue   # an option left off (`return_indices=False`, as F.max_pool2d passes it) changes nothing
        if key not in plain:
            return f"argument {key}= has no counterpart in LayerLoom's {pattern.layer.name}"
        given[key] = value
    inputs, params, ignored = [], {}, {}
    for name in plain:
        if name not in given:
            continue
        value = given[name]
        if name not in ports and pattern.layer.param(name) is None:
            ignored[name] = value  # `_`, `training`: arguments that do not change what the layer is
        elif name == "inputs":
            if not isinstance(value, (list, tuple)):
                return "expects a list of tensors"
            inputs.extend(value)
        elif name in ports:
            inputs.append(value)
        else:
            params[name] = value
    return Bound(inputs, params, ignored)


_JOINED = re.compile(r"torch\.cat\(\((.*)\), dim=(-?\d+)\)")
JOIN = torch.cat  # the call _JOINED reads


def joined_ports(layer: LayerType, values: dict[str, Any], count: int) -> dict[int, tuple[tuple, int]]:
    """Output ports whose Code joins items of the result (`torch.cat(({h_n}[-2], {h_n}[-1]), dim=1)`, a
    bidirectional layer's last state): port -> (the items' index paths, the dim), so that the same
    torch.cat in a traced forward is read as that port."""
    code = layer.code.for_values(values) if layer.code is not None else registry.Code()
    names = _unpacked(code)
    found = {}
    for port in range(count):
        template = code.outputs[port] if len(code.outputs) > 1 else code.outputs[0]
        match = _JOINED.fullmatch(template.replace("{i}", str(port)))
        if match is None:
            continue
        items = [_path(names, part.strip()) for part in match.group(1).split(",") if part.strip()]
        if all(item is not None for item in items):
            found[port] = (tuple(items), int(match.group(2)))
    return found


def _unpacked(code) -> dict[str, tuple[int, ...]]:
    """The names of a Code's `unpack` target -> their index paths into the call's result."""
    names = {}
    target = ast.parse(re.sub(r"\{(\w+)\}", r"\1", code.unpack), mode="eval").body

    def walk(tree, path):
        if isinstance(tree, ast.Tuple):
            for i, item in enumerate(tree.elts):
                walk(item, path + (i,))
        elif isinstance(tree, ast.Name):
            names[tree.id] = path

    walk(target, ())
    return names


def _path(names: dict[str, tuple[int, ...]], template: str) -> tuple[int, ...] | None:
    """`{h_n}[-1]` -> the index path it reads, None when it computes something."""
    match = re.fullmatch(r"\{(\w+)\}((?:\[-?\w+\])*)", template)
    if match is None or match.group(1) not in names:
        return None
    return names[match.group(1)] + tuple(int(i) for i in re.findall(r"\[(-?\d+)\]", match.group(2)))


def port_paths(layer: LayerType, values: dict[str, Any], count: int) -> list[tuple[int, ...] | None]:
    """For each output port, the index path into the module's result that gives it (() for the
    result itself); None where the Code computes the port (a concatenation), which a getitem
    cannot reach."""
    code = layer.code.for_values(values) if layer.code is not None else registry.Code()
    names = _unpacked(code)
    return [_path(names, (code.outputs[port] if len(code.outputs) > 1 else code.outputs[0]).replace("{i}", str(port)))
            for port in range(count)]
