"""Tracing with torch.fx: the module's forward as a graph of calls, each with its line in the user's
file and the value it gave on the example inputs.

Modules whose class the registry maps are leaves (one node each); torch.nn's other modules are
leaves too (fx's default), so that the mapper can name them as unsupported; the user's own
classes are traced through, and `nn_module_stack` keeps which instance each call came from (the
blocks are made from it).

Tensor factories given traced sizes (`torch.ones(x.size(1), x.size(1), ...)`, the causal mask
LayerLoom's exporter writes, or `nn.Transformer.generate_square_subsequent_mask(x.size(1))`) are
recorded as calls, which fx cannot do for a builtin; the value they give is noted, and whether it is
the causal mask (`Meta.causal`), which is what an attention layer's mask argument needs to be read.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

from engine.importer.modules import layer_for
from engine.importer.problems import ImportFailure
from engine.importer.source import Source, user_line


@dataclass(frozen=True)
class Meta:
    """What a traced value was on the example inputs: a tensor's shape and dtype, or the value
    itself (ints, sizes), or a tuple of these."""

    shape: tuple[int, ...] | None = None
    dtype: torch.dtype | None = None
    value: Any = None
    items: tuple[Meta, ...] | None = None
    causal: bool = False  # a square mask hiding exactly the later positions (`_is_causal`)

    @property
    def is_tensor(self) -> bool:
        return self.shape is not None


class _Tracer(fx.Tracer):
    def __init__(self, path: str):
        super().__init__()
        self._path = os.path.abspath(path)

    def trace(self, root, concrete_args=None):
        with _factories_recorded():
            return super().trace(root, concrete_args)

    def is_leaf_module(self, m: nn.Module, qualified_name: str) -> bool:
        return layer_for(m) is not None or super().is_leaf_module(m, qualified_name)

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        frame = sys._getframe(1)
        while frame is not None:  # the innermost frame in the user's file is the line they wrote
            if frame.f_code.co_filename == self._path:
                node.meta["line"] = frame.f_lineno
                break
            frame = frame.f_back
        return node


def trace(source: Source) -> fx.GraphModule:
    """The traced module; data-dependent control flow and calls fx cannot follow are refused with
    their line."""
    tracer = _Tracer(str(source.path))
    try:
        graph = tracer.trace(source.module)
    except Exception as exc:  # noqa: BLE001 -- anything the trace stops at is in the user's code
        where = user_line(exc, source.path) or source.path.name
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "control flow" in text or "iterate" in text or "len(" in text:
            text = ("the forward depends on the values of a tensor here (an `if`, a loop or len() on it), "
                    "which a design cannot hold; compute it with tensor operations, or import the part around it")
        raise ImportFailure(f"{where}: cannot trace {source.name}.forward: {text}") from None
    return fx.GraphModule(tracer.root, graph, source.name)


# torch's tensor factories, which fx does not record when given traced sizes (they are builtins)
FACTORIES = ("ones", "zeros", "full", "empty", "eye", "arange")


def _recorded(original):
    """`original`, recorded as a call when an argument is traced (what torch.fx.wrap does for a
    function of the user's module)."""
    @functools.wraps(original)
    def call(*args, **kwargs):
        found = []
        fx.node.map_aggregate((args, kwargs), lambda a: found.append(a) if isinstance(a, fx.Proxy) else None)
        if not found:
            return original(*args, **kwargs)
        return found[0].tracer.create_proxy("call_function", original, args, kwargs)
    return call


@contextlib.contextmanager
def _factories_recorded() -> Iterator[None]:
    originals = {name: getattr(torch, name) for name in FACTORIES}
    try:
        for name, original in originals.items():
            setattr(torch, name, _recorded(original))
        yield
    finally:
        for name, original in originals.items():
            setattr(torch, name, original)


def _is_causal(value: torch.Tensor) -> bool:
    """A square mask that hides exactly the positions after each one: a bool mask True above the
    diagonal (`ones(L, L).triu(1)`), or an additive one, -inf above it and 0 elsewhere
    (`nn.Transformer.generate_square_subsequent_mask`)."""
    if value.dim() != 2 or value.shape[0] != value.shape[1] or value.numel() == 0:
        return False
    above = torch.ones(value.shape, dtype=torch.bool, device=value.device).triu(1)
    if value.dtype == torch.bool:
        return bool(torch.equal(value, above))
    if not value.dtype.is_floating_point:
        return False
    return bool(torch.equal(value == -math.inf, above) and (value[~above] == 0).all())


def _meta(value: Any) -> Meta:
    if isinstance(value, torch.Tensor):
        return Meta(tuple(value.shape), value.dtype, causal=_is_causal(value))
    if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
        return Meta(items=tuple(_meta(v) for v in value))
    return Meta(value=value)


class _Recorder(fx.Interpreter):
    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        n.meta["traced"] = _meta(result)
        return result


def propagate(module: fx.GraphModule, inputs: tuple[torch.Tensor, ...], source: Source) -> None:
    """Run the traced graph once, noting each node's value (`node.meta["traced"]`)."""
    try:
        with torch.no_grad():
            _Recorder(module).run(*inputs)
    except Exception as exc:  # noqa: BLE001
        where = user_line(exc, source.path) or source.path.name
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFailure(f"{where}: {source.name} does not run on the given input shapes: {text}") from None
