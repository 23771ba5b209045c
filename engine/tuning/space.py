"""The `search` section of a `.loom` file (DESIGN §10): read, checked against the design, applied.

    spec = parse_search(project)           # SearchError naming the key, before any trial
    trial_project = apply(project, spec, {"training.learning_rate": 0.003, ...})

Every key is checked before a single trial runs, against the same declarations the rest of the
program reads: training keys against `TRAINING_KEYS`, data keys against the data set's options,
node parameters against the node's layer type (or block), `.type` against the registry's ports.
Needs neither torch nor Optuna, so the window can check a search section as it is edited.
"""
from __future__ import annotations

import copy
import difflib
import json
import math
from dataclasses import dataclass
from typing import Any

from engine.data.registry import COMMON_KEYS, DataError, parse_section
from engine.training.settings import TRAINING_KEYS
from graph.params import Param, ParamError
from graph.project import Project, from_dict, to_dict

SECTION_KEYS = ("metric", "direction", "space", "pruner")
KINDS = ("uniform", "log_uniform", "int", "choice")
DIRECTIONS = ("minimize", "maximize")
PRUNERS = ("median", "none")
REPEAT = Param("repeat", "int", 1, "copies of the block in sequence", minimum=1)


class SearchError(ValueError):
    """A search section that cannot be used; the message names the key and what would fix it."""


@dataclass(frozen=True)
class Dimension:
    """One searched key: `kind` is one of KINDS; `low`/`high` bound a range, `choices` a choice."""
    key: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def short(self) -> str:
        """The key without its section, for table headers: `fc1.out_features`, `learning_rate`."""
        return self.key.split(".", 1)[1]


@dataclass(frozen=True)
class SearchSpec:
    metric: str
    direction: str
    dimensions: tuple[Dimension, ...]
    pruner: str = "median"
    epochs: int = 20        # the design's own, for the pruner's warm-up


def _where(key: str) -> str:
    return f"search.space[{json.dumps(key)}]"


def _nearest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean {close[0]!r}?" if close else "known: " + (", ".join(known) or "none")


def parse_search(project: Project) -> SearchSpec:
    """The project's search section, checked against its design; raises SearchError."""
    section = project.extra.get("search")
    if section is None:
        raise SearchError('the design has no "search" section; add one (see docs/search.md), e.g. "search": '
                          '{"space": {"training.learning_rate": {"log_uniform": [0.0001, 0.1]}}}')
    if not isinstance(section, dict):
        raise SearchError('"search" must be an object with "space" (and optionally "metric", "direction")')
    for key in section:
        if key not in SECTION_KEYS:
            raise SearchError(f"search.{key}: unknown key ({_nearest(key, list(SECTION_KEYS))})")
    metric = section.get("metric", "val_loss")
    if not isinstance(metric, str) or not metric.startswith(("train_", "val_")):
        raise SearchError(f"search.metric is {json.dumps(metric)}; expected a column of metrics.csv such as "
                          "val_loss, val_accuracy or train_loss")
    default = "minimize" if metric.endswith("loss") else "maximize"
    direction = section.get("direction", default)
    if direction not in DIRECTIONS:
        raise SearchError(f"search.direction is {json.dumps(direction)}; expected minimize or maximize")
    pruner = section.get("pruner", "median")
    if pruner not in PRUNERS:
        raise SearchError(f"search.pruner is {json.dumps(pruner)}; expected median or none")
    space = section.get("space")
    if not isinstance(space, dict) or not space:
        raise SearchError('search.space: give at least one key to search, e.g. "training.learning_rate": '
                          '{"log_uniform": [0.0001, 0.1]}')
    dims = tuple(_dimension(project, key, value) for key, value in space.items())
    epochs = project.training.get("epochs", _declared("search", "epochs", TRAINING_KEYS, "training").default)
    return SearchSpec(metric, direction, dims, pruner, epochs if isinstance(epochs, int) else 1)


# -- one key ------------------------------------------------------------------------------------
def _dimension(project: Project, key: str, value: Any) -> Dimension:
    where = _where(key)
    target = _target(project, key)
    if not isinstance(value, dict) or len([k for k in value if k in KINDS]) != 1:
        raise SearchError(f"{where}: expected one of {', '.join(KINDS)}, e.g. {{\"uniform\": [0.0, 0.5]}}")
    kind = next(k for k in value if k in KINDS)
    for extra in value:
        if extra != kind and not (kind == "int" and extra == "log"):
            raise SearchError(f"{where}.{extra}: unknown key ({kind} takes " + ("a range and log)" if kind == "int"
                                                                                else "only its values)"))
    if kind == "choice":
        dim = _choice(where, key, value[kind])
    else:
        dim = _range(where, key, kind, value[kind], value.get("log", False))
    if isinstance(target, Param):
        _check_values(where, target, dim)
    elif target == "type":
        _check_types(project, key, dim)
    return dim


def _choice(where: str, key: str, values: Any) -> Dimension:
    if not isinstance(values, list) or not values:
        raise SearchError(f"{where}.choice is an empty list; give the values to try")
    for v in values:
        if not (v is None or isinstance(v, (bool, int, float, str))):
            raise SearchError(f"{where}.choice: {json.dumps(v)} is not a single value (numbers, text, true/false "
                              "or null)")
    if len({json.dumps(v) for v in values}) != len(values):
        raise SearchError(f"{where}.choice lists a value twice: {json.dumps(values)}")
    return Dimension(key, "choice", choices=tuple(values))


def _range(where: str, key: str, kind: str, bounds: Any, log: Any) -> Dimension:
    integral = kind == "int"
    number = int if integral else (int, float)
    if (not isinstance(bounds, list) or len(bounds) != 2
            or any(isinstance(b, bool) or not isinstance(b, number) for b in bounds)):
        what = "whole numbers" if integral else "numbers"
        raise SearchError(f"{where}.{kind} is {json.dumps(bounds)}; expected [low, high], two {what}")
    low, high = bounds
    if not all(math.isfinite(b) for b in bounds):
        raise SearchError(f"{where}.{kind}: the bounds must be finite numbers")
    if low > high:
        raise SearchError(f"{where}.{kind} is the empty range [{low}, {high}]; the low bound comes first")
    if not isinstance(log, bool):
        raise SearchError(f"{where}.log is {json.dumps(log)}; expected true or false")
    log = log or kind == "log_uniform"
    if log and low <= 0:
        raise SearchError(f"{where}.{kind}: a log scale needs a low bound above 0, got {low}")
    if not integral:
        low, high = float(low), float(high)
    return Dimension(key, "int" if integral else "float", low, high, log)


def _check_values(where: str, param: Param, dim: Dimension) -> None:
    """Each value a dimension can take must be one its setting accepts (checked at the ends of a range)."""
    if dim.kind == "float" and param.kind == "int":
        raise SearchError(f"{where}: {param.name} takes whole numbers; search it with \"int\"")
    values = dim.choices if dim.kind == "choice" else (dim.low, dim.high)
    if param.kind == "float" and dim.kind == "int":
        values = tuple(float(v) for v in values)
    for v in values:
        try:
            param.check(v)
        except ParamError:
            raise SearchError(f"{where}: {json.dumps(v)} is not a value of {param.name} ({param.expected()})") from None


# -- what a key names -------------------------------------------------------------------------
def _target(project: Project, key: str) -> Param | str | None:
    """The declaration a key sets (a Param), "type" for a node's type, or None for free-form keys."""
    where = _where(key)
    section, _, rest = key.partition(".")
    if section == "training":
        return _declared(where, rest, TRAINING_KEYS, "training")
    if section == "data":
        return _declared(where, rest, _data_keys(project), "data")
    if section != "nodes":
        raise SearchError(f"{where}: a key is training.KEY, data.KEY or nodes.NODE_ID.PARAM")
    node_id, _, name = rest.partition(".")
    graph = project.graph
    node = graph.node(node_id) if node_id else None
    if node is None:
        raise SearchError(f"{where}: there is no node {node_id!r} in the design "
                          f"({_nearest(node_id, [n.id for n in graph.nodes])})")
    if not name or "." in name:
        raise SearchError(f"{where}: expected nodes.{node_id}.PARAM (a parameter of {node_id}, type or repeat)")
    if name == "type":
        return "type"
    layer = graph.layer_of(node)
    if name == "repeat":
        if layer is None or project.blocks.get(node.type) is None:
            raise SearchError(f"{where}: {node_id} is a {node.type}, not a block node; only a block node repeats")
        return REPEAT
    param = layer.param(name) if layer is not None else None
    if param is None:
        known = [p.name for p in layer.params] if layer is not None else []
        raise SearchError(f"{where}: {node_id} ({node.type}) has no parameter {name!r} ({_nearest(name, known)})")
    return param


def _declared(where: str, name: str, params: tuple[Param, ...], section: str) -> Param:
    for p in params:
        if p.name == name:
            return p
    raise SearchError(f"{where}: {section}.{name} is not a {section} setting "
                      f"({_nearest(name, [p.name for p in params])})")


def _data_keys(project: Project) -> tuple[Param, ...]:
    try:
        dataset, _ = parse_section(project.data)
    except DataError:
        return COMMON_KEYS
    return COMMON_KEYS + dataset.options


def _check_types(project: Project, key: str, dim: Dimension) -> None:
    """A `.type` choice lists types with the node's own ports, so that its wires stay as they are."""
    where = _where(key)
    if dim.kind != "choice":
        raise SearchError(f"{where}: a type is searched with \"choice\": [\"ReLU\", \"Tanh\", ...]")
    graph = project.graph
    node = graph.node(key.split(".")[1])
    here = graph.layer_of(node)
    if here is None or here.role != "layer":
        raise SearchError(f"{where}: {node.id} is a {node.type}; only a layer's type can be searched")
    ports = (len(graph.input_ports(node)), len(graph.output_ports(node)))
    for name in dim.choices:
        layer = graph.layer_type(name)
        if layer is None:
            raise SearchError(f"{where}: {json.dumps(name)} is not a layer type or block of this design")
        kept = {k: v for k, v in node.params.items() if layer.param(k) is not None}
        values = layer.resolve(kept)[0]
        theirs = (len(layer.input_ports(values)), len(layer.output_ports(values)))
        if layer.role != "layer" or theirs != ports:
            raise SearchError(f"{where}: {name} has {theirs[0]} input and {theirs[1]} output port(s), {node.id} "
                              f"({node.type}) has {ports[0]} and {ports[1]}; a type swap keeps the wires, so "
                              "list types with the same ports")


# -- applying values ----------------------------------------------------------------------------
def apply(project: Project, values: dict[str, Any]) -> Project:
    """A copy of the project with the searched keys set to `values` (checked keys, see parse_search).

    A type swap keeps the parameters the new type also declares and drops the others."""
    doc = copy.deepcopy(to_dict(project))
    out = from_dict(doc)
    for key, value in values.items():
        section, _, rest = key.partition(".")
        if section in ("training", "data"):
            getattr(out, section)[rest] = value
            continue
        node_id, _, name = rest.partition(".")
        if name == "type":
            node = out.graph[node_id]
            layer = out.graph.layer_type(value)
            node.type = value
            node.params = {k: v for k, v in node.params.items() if layer.param(k) is not None}
        elif name == "repeat":
            out.graph.set_repeat(node_id, value)
        else:
            out.graph.set_param(node_id, name, value)
    return out
