"""The constructor facts codegen reads from the registry match torch (issue 11, item 6).

Code is written without importing torch, so which arguments a `torch.nn` class takes, in what
order, which it requires and what it defaults to come from the declarations
(`LayerType.signature`, or the derived sizes and `params` when a type declares none). This is
where those declarations are held to torch itself."""
from __future__ import annotations

import inspect

import pytest
from torch import nn

from engine.codegen import REQUIRED, constructor_signature
from graph import registry
from tests.engine.designs.catalogue import all_designs

UNPASSED = {"device", "dtype"}  # torch's factory arguments, never written


def torch_signature(cls: type) -> tuple[list[tuple[str, object]], bool]:
    """(name, default) along the first explicit __init__ of the MRO (REQUIRED for no default),
    and whether the class itself takes more through **kwargs (nn.RNN's nonlinearity)."""
    hidden = False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            hidden = True
            continue
        if hidden:  # a base class's signature: nn.RNN fills RNNBase's mode itself
            params = [p for p in params if p.name != "mode"]
        return [(p.name, REQUIRED if p.default is p.empty else p.default) for p in params
                if p.name not in UNPASSED], hidden
    return [], hidden


def torch_default(value: object) -> object:
    """torch writes some defaults as functions (F.relu); the registry names them ('relu')."""
    return value.__name__ if callable(value) and not isinstance(value, type) else value


def derived_sizes() -> dict[str, list[str]]:
    """The derived constructor sizes each type's shape rule gives, from the catalogue designs."""
    from graph.analysis import analyse

    found: dict[str, list[str]] = {}
    for _, project in all_designs():
        analysis = analyse(project.graph)
        for node in project.graph.nodes:
            info = analysis.nodes.get(node.id)
            if info is not None and node.layer is not None and node.layer.torch_class:
                found.setdefault(node.type, list(info.derived))
    return found


DERIVED = derived_sizes()
TORCH_TYPES = [t for t in registry.all_types() if t.torch_class]


@pytest.mark.parametrize("layer", TORCH_TYPES, ids=lambda t: t.name)
def test_declared_constructor_follows_torch(layer):
    declared = constructor_signature(layer, DERIVED.get(layer.name, []))
    actual, hidden = torch_signature(getattr(nn, layer.torch_class))
    names = [name for name, _ in actual]
    in_torch = [(name, default) for name, default in declared if name in names]
    # the declared arguments torch lists come in torch's order, with torch's defaults ...
    assert [n for n, _ in in_torch] == [n for n in names if n in dict(in_torch)], layer.name
    for name, default in in_torch:
        assert default == torch_default(dict(actual)[name]), f"{layer.name}.{name}"
    # ... every argument torch requires is declared, so that positional arguments land right ...
    assert {n for n, d in actual if d is REQUIRED} <= dict(declared).keys(), layer.name
    # ... and the rest are ones the class takes through **kwargs (nn.RNN's nonlinearity)
    extra = [n for n, _ in declared if n not in names]
    assert not extra or hidden, f"{layer.name}: torch takes no {extra}"
    for p in layer.params:
        if p.ctor:
            assert p.name in dict(declared), f"{layer.name}.{p.name} is passed but not declared"
    for name, _ in layer.fixed_ctor:
        assert name in dict(declared), f"{layer.name}.{name}"


def test_every_torch_type_is_in_the_catalogue():
    assert {t.name for t in TORCH_TYPES} <= set(DERIVED)
