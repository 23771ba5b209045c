"""torch.nn modules as registry types, read from the registry alone: a module maps to the type whose
`torch_class` is its class, and its parameters are the module's attributes of the declared names
(or what the type's `reader` gives), checked by the declaration like any value from a file."""
from __future__ import annotations

import difflib
from functools import cache
from typing import Any

from torch import nn

from graph import registry
from graph.params import ParamError
from graph.registry import LayerType


@cache
def _by_class() -> dict[type, LayerType]:
    found = {}
    for layer in registry.all_types():
        cls = getattr(nn, layer.torch_class, None) if layer.torch_class else None
        if isinstance(cls, type):
            found[cls] = layer
    return found


@cache
def _by_helper() -> dict[str, LayerType]:
    """Types written as a helper class of LayerLoom's own (`PositionalEncoding`), by the class's name."""
    return {layer.code.module: layer for layer in registry.all_types()
            if not layer.torch_class and layer.code is not None and layer.code.helper and layer.code.module}


def layer_for(module: nn.Module) -> LayerType | None:
    """The registry type of a module of exactly that torch.nn class (a subclass may compute otherwise),
    or of a helper class that LayerLoom's exported code defines: a class of that name in the user's
    file, built with the helper's arguments (its uses' outputs are checked against the source's like
    everything imported, so a different class of the same name is refused, not mistaken)."""
    found = _by_class().get(type(module))
    if found is None:
        helper = _by_helper().get(type(module).__name__)
        if helper is not None and _helper_arguments(module, helper) is not None:
            return helper
    return found


def _helper_arguments(module: nn.Module, layer: LayerType) -> dict[str, Any] | None:
    """The constructor arguments the import noted for a helper-class module (source.ARGUMENTS),
    when they are the helper's own."""
    from engine.codegen_text import constructor_signature
    from engine.importer.source import ARGUMENTS

    noted = module.__dict__.get(ARGUMENTS)
    if noted is None or set(noted[0]) != {name for name, _ in constructor_signature(layer)}:
        return None
    return noted[0]


def nearest(name: str) -> str | None:
    """The registry type whose name is closest to `name` (ChannelShuffle -> PixelShuffle)."""
    names = [t.name for t in registry.all_types() if t.role == "layer"]
    found = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return found[0] if found else None


def _plain(value: Any, kind: str, optional: bool) -> Any:
    """A torch attribute in the form the declaration takes: tuples as lists, a size the same in
    every dimension as one number, a Parameter-or-None for a bool as whether it is there."""
    if kind == "bool" and not isinstance(value, bool) and not (value is None and optional):
        return value is not None  # a weight tensor (or None) where the flag says whether there is one
    if isinstance(value, tuple):
        value = list(value)
    if kind in ("size", "padding") and isinstance(value, list) and value and all(v == value[0] for v in value):
        return value[0]
    if kind == "float" and isinstance(value, list) and value and all(v == value[0] for v in value):
        value = value[0]
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def read_params(module: nn.Module, layer: LayerType) -> tuple[dict[str, Any], list[str]]:
    """The non-default parameters of `layer` that rebuild `module`, and what cannot be represented."""
    try:
        read = dict(layer.reader(module)) if layer.reader else {}
    except AttributeError:  # an operation's arguments (engine/importer/program.py) lack what it reads:
        read = {}           # the values of the same names stand

    if not layer.torch_class:  # a helper class: its settings are the arguments it was built with
        read = dict(_helper_arguments(module, layer) or {})
    values: dict[str, Any] = {}
    problems = []
    for param in layer.params:
        if param.name in read:
            raw = read[param.name]
        elif param.ctor and hasattr(module, param.name):
            raw = getattr(module, param.name)
        else:
            continue
        value = _plain(raw, param.kind, param.optional)
        try:
            values[param.name] = param.check(value)
        except ParamError as exc:
            problems.append(f"{layer.name} {exc}")
    for key, wanted in layer.fixed_ctor:
        actual = read.get(key, getattr(module, key, wanted))
        if actual != wanted:
            problems.append(f"{layer.name} with {key}={actual!r}: LayerLoom's {layer.name} has {key}={wanted!r}; "
                            f"build it with {key}={wanted!r}")
    return layer.non_default(values), problems
