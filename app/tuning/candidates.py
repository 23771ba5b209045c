"""What can be searched, and the range a newly searched key starts with (Qt-free).

Searchable: the numeric and choice training settings, the data settings (common and the data set's
own), every number/choice/bool parameter of the top-level nodes, a block node's `repeat`. A new key
starts around its current value: a decade either side on a log scale for a positive float (kept
inside its bounds), [0, 0.5] for a float that is 0 or a probability, [value/4, value*4] for an int
(log scale from 8 up), all choices for a choice, both for a bool. The user edits the range in the
Search panel. The Search panel's "Add parameter" list and the "search this" buttons of the
Properties and Training panels offer the same keys (`candidates`, `candidate`).
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from engine.data.registry import COMMON_KEYS, DataError, parse_section
from engine.training.settings import TRAINING_KEYS
from engine.tuning.space import REPEAT
from graph.params import Param
from graph.project import Project

KINDS = ("int", "float", "choice", "bool")
DEFAULT_METRIC = "val_loss"

Candidate = tuple[str, Param, Any]   # (key, declaration, current value)


def candidates(project: Project) -> list[Candidate]:
    """Everything that can be searched: training settings first, then data, then the nodes."""
    out = [*_settings(project, "training"), *_settings(project, "data")]
    for node in project.graph.nodes:
        out.extend(_node_candidates(project, node))
    return out


def candidate(project: Project, key: str) -> tuple[Param, Any] | None:
    """(declaration, current value) of one key when it can be searched, else None."""
    section, _, rest = key.partition(".")
    if section in ("training", "data"):
        found = _settings(project, section)
    else:
        node = project.graph.node(rest.partition(".")[0]) if section == "nodes" else None
        found = _node_candidates(project, node) if node is not None else ()
    return next(((p, v) for k, p, v in found if k == key), None)


def _settings(project: Project, section: str) -> Iterator[Candidate]:
    if section == "training":
        params = TRAINING_KEYS
    else:
        try:
            params = COMMON_KEYS + parse_section(project.data)[0].options
        except DataError:
            params = COMMON_KEYS
    values = getattr(project, section)
    for p in params:
        if p.kind in KINDS and not p.advanced:
            yield f"{section}.{p.name}", p, values.get(p.name, p.default)


def _node_candidates(project: Project, node) -> list[Candidate]:
    graph = project.graph
    layer = graph.layer_of(node)
    if layer is None or layer.role != "layer":
        return []
    values = node.values() if node.layer is not None else {**{p.name: p.default for p in layer.params},
                                                           **node.params}
    out = [(f"nodes.{node.id}.{p.name}", p, values.get(p.name, p.default)) for p in layer.params if p.kind in KINDS]
    if project.blocks.get(node.type) is not None:
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


# -- the section with a key more or less --------------------------------------------------------
def space_of(project: Project) -> dict[str, Any]:
    """The search section's space as it is in the file ({} when there is none or it is malformed)."""
    section = project.extra.get("search")
    space = section.get("space") if isinstance(section, dict) else None
    return space if isinstance(space, dict) else {}


def with_key(project: Project, key: str) -> dict[str, Any] | None:
    """The search section with `key` added at its default range (None when it cannot be searched)."""
    found = candidate(project, key)
    if found is None:
        return None
    section = project.extra.get("search")
    section = copy.deepcopy(section) if isinstance(section, dict) else {"metric": DEFAULT_METRIC}
    if not isinstance(section.get("space"), dict):
        section["space"] = {}
    section["space"][key] = default_range(*found)
    return section


def without_keys(project: Project, keys: list[str]) -> dict[str, Any] | None:
    """The search section without `keys`; None (no section) once nothing is left in it but the
    default metric, so that searching a key and un-searching it leaves the file as it was."""
    section = copy.deepcopy(project.extra.get("search"))
    if not isinstance(section, dict):
        return None
    space = section.get("space") if isinstance(section.get("space"), dict) else {}
    for key in keys:
        space.pop(key, None)
    if not space and all(k == "space" or (k == "metric" and v == DEFAULT_METRIC) for k, v in section.items()):
        return None
    return section
