"""The `.loom` project file, format versions 1 and 2 (DESIGN §3, §3.1).

Loading never executes anything from the file: it is JSON, read with `json`. A file that
is not a LayerLoom project at all (not JSON, wrong root, empty, newer version, entries of
the wrong JSON type) is refused with `LoomFileError`; a design with problems in it (bad
ids, unknown types, bad parameters, dangling wires) loads, so that it can be shown and
mended. Saving is atomic and writes keys in a stable order, one node or edge per line,
so that diffs stay small. A project that defines blocks is written as version 2 (with its
`"blocks"`); one without is written as version 1, which older LayerLoom reads.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph import bounded_json
from graph.blocks import BlockDef, Blocks, param_from_dict, param_to_dict
from graph.files import write_atomic
from graph.model import Edge, Graph, Node
from graph.params import ParamError

FORMAT = "layerloom"
VERSION = 2  # the newest version this program reads; it writes 1 where no blocks need 2
SECTIONS = ("data", "training", "ui")
_NODE_KEYS = ("id", "type", "label", "params", "trainable", "pos")
_BLOCK_KEYS = ("name", "doc", "params", "graph")
_EDGE_KEYS = {"from", "to", "from_port", "to_port"}
MAX_POS = 1e9  # canvas coordinates

# Migrations from older format versions: MIGRATIONS[v] turns a version-v document (a dict)
# into a version v+1 document. Version 2 only adds the optional "blocks", so a version-1
# document is already a version-2 one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: lambda doc: doc}


class LoomFileError(ValueError):
    """The file cannot be read as a LayerLoom project; the message says why."""


@dataclass
class Project:
    name: str = "Untitled"
    graph: Graph = field(default_factory=Graph)
    data: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept on save
    graph_extra: dict[str, Any] = field(default_factory=dict)  # unknown keys of "graph", kept on save
    blocks: Blocks = field(default_factory=Blocks)  # block definitions (DESIGN §3.1)

    def __post_init__(self) -> None:
        self.graph.blocks = self.blocks  # block node types resolve through the project

    def set_graph(self, graph: Graph) -> None:
        """Replace the top graph, keeping its block types resolvable."""
        self.graph = graph
        graph.blocks = self.blocks


# -- reading ----------------------------------------------------------------------------
def load(path: str | os.PathLike) -> Project:
    path = Path(path)
    try:
        text = bounded_json.read_bytes(path).decode("utf-8")
    except FileNotFoundError:
        raise LoomFileError(f"{path}: no such file") from None
    except bounded_json.BoundsError as exc:
        raise LoomFileError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoomFileError(f"{path}: cannot read the file ({exc})") from None
    try:
        return loads(text)
    except LoomFileError as exc:
        raise LoomFileError(f"{path}: {exc}") from None


def loads(text: str) -> Project:
    if not text.strip():
        raise LoomFileError("the file is empty")
    try:
        doc = bounded_json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoomFileError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except bounded_json.BoundsError as exc:
        raise LoomFileError(str(exc)) from None
    return from_dict(doc)


def from_dict(doc: Any) -> Project:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise LoomFileError('not a LayerLoom project (expected a JSON object with "format": "layerloom")')
    doc = _migrate(doc)
    name = doc.get("name", "Untitled")
    if not isinstance(name, str):
        raise LoomFileError('"name" must be text')
    graph_doc = doc.get("graph", {})
    if not isinstance(graph_doc, dict):
        raise LoomFileError('"graph" must be an object with "nodes" and "edges"')
    project = Project(name=name, graph=_read_graph(graph_doc),
                      graph_extra={k: v for k, v in graph_doc.items() if k not in ("nodes", "edges")},
                      blocks=_read_blocks(doc.get("blocks", [])))
    for section in SECTIONS:
        value = doc.get(section, {})
        if not isinstance(value, dict):
            raise LoomFileError(f'"{section}" must be an object')
        setattr(project, section, value)
    project.extra = {k: v for k, v in doc.items()
                     if k not in {"format", "version", "name", "blocks", "graph", *SECTIONS}}
    return project


def _migrate(doc: dict[str, Any]) -> dict[str, Any]:
    version = doc.get("version", VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise LoomFileError(f'"version" must be a whole number from 1, got {version!r}')
    if version > VERSION:
        raise LoomFileError(
            f"this file uses format version {version}, but this LayerLoom reads up to version {VERSION}; "
            "update LayerLoom to open it")
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
    return doc


def _read_graph(doc: dict[str, Any]) -> Graph:
    nodes, edges = doc.get("nodes", []), doc.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise LoomFileError('"nodes" and "edges" must be lists')
    graph = Graph()
    graph.nodes = [_read_node(i, entry) for i, entry in enumerate(nodes)]
    graph.edges = [_read_edge(i, entry) for i, entry in enumerate(edges)]
    return graph


def _read_blocks(entries: Any) -> Blocks:
    """The "blocks" list. Its structure must be right (else the file is unreadable); a bad block
    name, a "$name" without a parameter or a recursive block load, and `check` reports them."""
    if not isinstance(entries, list):
        raise LoomFileError('"blocks" must be a list of block definitions')
    return Blocks([_read_block(index, entry) for index, entry in enumerate(entries)])


def _read_block(index: int, entry: Any) -> BlockDef:
    where = f"blocks[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise LoomFileError(f'{where} must be an object with a "name" (text), "params" and "graph"')
    where = f"{where} ({entry['name']!r})"
    params, graph_doc, doc = entry.get("params", []), entry.get("graph", {}), entry.get("doc", "")
    if not isinstance(params, list):
        raise LoomFileError(f'{where}: "params" must be a list')
    if not isinstance(graph_doc, dict):
        raise LoomFileError(f'{where}: "graph" must be an object with "nodes" and "edges"')
    if not isinstance(doc, str):
        raise LoomFileError(f'{where}: "doc" must be text')
    declared = []
    for i, item in enumerate(params):
        try:
            declared.append(param_from_dict(item))
        except ParamError as exc:
            raise LoomFileError(f"{where}: params[{i}]: {exc}") from None
    names = [p.name for p in declared]
    if len(set(names)) != len(names):
        raise LoomFileError(f"{where}: a parameter name is declared twice ({', '.join(names)})")
    try:
        graph = _read_graph(graph_doc)
    except LoomFileError as exc:
        raise LoomFileError(f"{where}: {exc}") from None
    return BlockDef(entry["name"], declared, graph, doc, {k: v for k, v in entry.items() if k not in _BLOCK_KEYS})


def _read_node(index: int, entry: Any) -> Node:
    where = f"nodes[{index}]"
    if not isinstance(entry, dict):
        raise LoomFileError(f"{where} must be an object with \"id\" and \"type\"")
    node_type = entry.get("type", "")
    if not isinstance(node_type, str):
        raise LoomFileError(f'{where}: "type" must be text, got {node_type!r}')
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise LoomFileError(f'{where}: "params" must be an object')
    trainable = entry.get("trainable", True)
    if not isinstance(trainable, bool):
        raise LoomFileError(f'{where}: "trainable" must be true or false')
    label = entry.get("label")
    if label is not None and not isinstance(label, str):
        raise LoomFileError(f'{where}: "label" must be text')
    pos = entry.get("pos")
    if pos is not None:
        if (not isinstance(pos, list) or len(pos) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)):
            raise LoomFileError(f'{where}: "pos" must be [x, y]')
        if not all(math.isfinite(v) and abs(v) <= MAX_POS for v in pos):  # the canvas cannot paint NaN or 1e300
            raise LoomFileError(f'{where}: "pos" must be two finite numbers within ±{MAX_POS:.0e}, got {pos!r}')
        pos = (float(pos[0]), float(pos[1]))
    extra = {k: v for k, v in entry.items() if k not in _NODE_KEYS}
    return Node(entry.get("id", ""), node_type, dict(params), pos, label, trainable, extra)


def _read_edge(index: int, entry: Any) -> Edge:
    where = f"edges[{index}]"
    if not isinstance(entry, dict):
        raise LoomFileError(f'{where} must be an object {{"from": ID, "to": ID}}')
    for key in ("from", "to"):
        if not isinstance(entry.get(key), str):
            raise LoomFileError(f'{where}: "{key}" must be a node id')
    for key in ("from_port", "to_port"):
        port = entry.get(key, 0)
        if isinstance(port, bool) or not isinstance(port, int) or port < 0:
            raise LoomFileError(f'{where}: "{key}" must be a port number from 0, got {port!r}')
    unknown = set(entry) - _EDGE_KEYS
    if unknown:
        raise LoomFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return Edge(entry["from"], entry["to"], entry.get("from_port", 0), entry.get("to_port", 0))


# -- writing ----------------------------------------------------------------------------
def to_dict(project: Project) -> dict[str, Any]:
    doc: dict[str, Any] = {"format": FORMAT, "version": 2 if project.blocks else 1, "name": project.name}
    if project.blocks:
        doc["blocks"] = [_block_dict(b) for b in project.blocks]
    doc["graph"] = {**_graph_dict(project.graph), **project.graph_extra}
    for section in SECTIONS:
        doc[section] = getattr(project, section)
    doc.update(project.extra)
    return doc


def _graph_dict(graph: Graph) -> dict[str, Any]:
    return {"nodes": [_node_dict(graph, n) for n in graph.nodes], "edges": [_edge_dict(e) for e in graph.edges]}


def _block_dict(block: BlockDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": block.name}
    if block.doc:
        out["doc"] = block.doc
    out["params"] = [param_to_dict(p) for p in block.params]
    out["graph"] = _graph_dict(block.graph)
    out.update(block.extra)
    return out


def _node_dict(graph: Graph, node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "type": node.type}
    if node.label:
        out["label"] = node.label
    layer = graph.layer_of(node)
    params = node.params
    if layer is not None:  # declared order, defaults dropped; unknown keys kept for the user to mend
        declared = {p.name for p in layer.params}
        params = {**layer.non_default(params), **{k: v for k, v in params.items() if k not in declared}}
    if params:
        out["params"] = params
    if not node.trainable:
        out["trainable"] = False
    if node.pos is not None:
        out["pos"] = [round(float(node.pos[0]), 1), round(float(node.pos[1]), 1)]
    out.update(node.extra)
    return out


def _edge_dict(edge: Edge) -> dict[str, Any]:
    out: dict[str, Any] = {"from": edge.src, "to": edge.dst}
    if edge.src_port:
        out["from_port"] = edge.src_port
    if edge.dst_port:
        out["to_port"] = edge.dst_port
    return out


def dumps(project: Project) -> str:
    """Pretty JSON with one node and one edge per line."""
    doc = to_dict(project)
    lines = ["{"]
    items = list(doc.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if key == "graph":
            lines += _graph_lines('"graph": ', value, "  ", comma)
        elif key == "blocks":
            lines.append('  "blocks": [')
            for j, block in enumerate(value):
                lines.append("    {")
                parts = list(block.items())
                for k, (part, entry) in enumerate(parts):
                    close = "," if k < len(parts) - 1 else ""
                    if part == "graph":
                        lines += _graph_lines('"graph": ', entry, "      ", close)
                    else:
                        lines.append(f"      {json.dumps(part, ensure_ascii=False)}: "
                                     f"{json.dumps(entry, ensure_ascii=False)}{close}")
                lines.append("    }" + ("," if j < len(value) - 1 else ""))
            lines.append("  ]" + comma)
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            lines.append(f"  {json.dumps(key)}: {text}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _graph_lines(head: str, value: dict[str, Any], indent: str, comma: str) -> list[str]:
    """A graph object with one node and one edge per line, at `indent`."""
    lines = [f"{indent}{head}{{"]
    parts = list(value)
    for j, part in enumerate(parts):
        close = "," if j < len(parts) - 1 else ""
        if part in ("nodes", "edges"):
            entries = value[part]
            body = ",\n".join(f"{indent}    " + json.dumps(e, ensure_ascii=False) for e in entries)
            lines.append(f'{indent}  "{part}": [\n{body}\n{indent}  ]{close}' if entries
                         else f'{indent}  "{part}": []{close}')
        else:
            text = json.dumps(value[part], indent=2, ensure_ascii=False).replace("\n", "\n" + indent + "  ")
            lines.append(f"{indent}  {json.dumps(part, ensure_ascii=False)}: {text}{close}")
    lines.append(f"{indent}}}{comma}")
    return lines


def save(project: Project, path: str | os.PathLike) -> None:
    """Write atomically: a temporary file in the same folder, flushed, then renamed over.

    Text that UTF-8 cannot hold (a lone surrogate) is refused with LoomFileError naming where,
    before anything is written, so that the file on disk stays as it was."""
    problem = bounded_json.problem_in(to_dict(project), max_depth=None)
    if problem:
        raise LoomFileError(f"{path}: cannot save: {problem}")
    write_atomic(Path(path), dumps(project))
