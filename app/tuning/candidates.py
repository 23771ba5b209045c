"""What the "Add parameter" list offers, and the range a newly added key starts with (Qt-free).

Offered: the numeric and choice training settings, every number/choice/bool parameter of the
top-level nodes, a block node's `repeat`. A new key starts around its current value: a decade
either side on a log scale for a positive float (kept inside its bounds), [0, 0.5] for a float
that is 0 or a probability, [value/4, value*4] for an int (log scale from 8 up), all choices for
a choice, both for a bool. The user edits the range in the table.
"""
from __future__ import annotations

from typing import Any

from engine.training.settings import TRAINING_KEYS
from graph.params import Param
from graph.project import Project

KINDS = ("int", "float", "choice", "bool")


def candidates(project: Project) -> list[tuple[str, Param, Any]]:
    """(key, declaration, current value) of everything that can be searched, training first."""
    out = []
    for p in TRAINING_KEYS:
        if p.kind in KINDS and not p.advanced:
            out.append((f"training.{p.name}", p, project.training.get(p.name, p.default)))
    graph = project.graph
    for node in graph.nodes:
        layer = graph.layer_of(node)
        if layer is None or layer.role != "layer":
            continue
        values = node.values() if node.layer is not None else {**{p.name: p.default for p in layer.params},
                                                               **node.params}
        for p in layer.params:
            if p.kind in KINDS:
                out.append((f"nodes.{node.id}.{p.name}", p, values.get(p.name, p.default)))
        if project.blocks.get(node.type) is not None:
            from engine.tuning.space import REPEAT

            out.append((f"nodes.{node.id}.repeat", REPEAT, node.extra.get("repeat", 1)))
    return out


def default_range(param: Param, value: Any) -> dict[str, Any]:
    if param.kind == "bool":
        return {"choice": [True, False]}
    if param.kind == "choice":
        return {"choice": list(param.choices)}
    low_bound = param.minimum if param.minimum is not None else float("-inf")
    high_bound = param.maximum if param.maximum is not None else float("inf")
    if param.kind == "int":
        v = value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1
        low, high = max(1, v // 4, int(max(low_bound, 1))), max(v * 4, 2)
        high = int(min(high, high_bound)) if high_bound != float("inf") else high
        return {"int": [low, high], "log": True} if high >= 8 * low else {"int": [low, high]}
    v = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
    if v <= 0 or high_bound <= 1.0:
        return {"uniform": [max(0.0, low_bound), min(0.5, high_bound)]}
    return {"log_uniform": [max(v / 10, low_bound), min(v * 10, high_bound)]}
