"""The Graph: nodes, edges and the edit methods every front end goes through.

The Graph holds what the user made, including mistakes: a parameter may hold a bad value
and an edge may point at a missing node, so that a broken design still loads, shows its
problems and can be mended. Derived facts (shapes, counts, problems) are not stored here;
`graph.analysis.analyse` computes them.

Edits emit small events to subscribers (`subscribe(fn)`; fn(event) with `event.kind` one of
node_added, node_removed, node_renamed, params_changed, node_moved, edge_added, edge_removed,
graph_reset). The canvas listens and repaints; it never changes a Graph except through these methods.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph import registry
from graph.identifiers import fresh_id, id_problem


class EditError(ValueError):
    """An edit that the Graph refuses; the message says why and what to do instead."""


class CycleError(EditError):
    pass


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    pos: tuple[float, float] | None = None
    label: str | None = None
    trainable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # unknown file keys, written back unchanged

    @property
    def layer(self) -> registry.LayerType | None:
        return registry.get(self.type)

    def values(self) -> dict[str, Any]:
        """All parameters with defaults filled in (bad values fall back to defaults)."""
        layer = self.layer
        return layer.resolve(self.params)[0] if layer else dict(self.params)

    def input_ports(self) -> tuple[str, ...]:
        layer = self.layer
        return layer.input_ports(self.values()) if layer else ()

    def output_ports(self) -> tuple[str, ...]:
        layer = self.layer
        return layer.output_ports(self.values()) if layer else ()


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    src_port: int = 0
    dst_port: int = 0

    def __str__(self) -> str:
        return f"{self.src}[{self.src_port}] -> {self.dst}[{self.dst_port}]"


@dataclass(frozen=True)
class GraphEvent:
    kind: str
    node: str | None = None
    edge: Edge | None = None
    old: Any = None


class Graph:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self._subscribers: list[Callable[[GraphEvent], None]] = []

    # -- events -----------------------------------------------------------------------
    def subscribe(self, callback: Callable[[GraphEvent], None]) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[GraphEvent], None]) -> None:
        self._subscribers.remove(callback)

    def _emit(self, kind: str, node: str | None = None, edge: Edge | None = None, old: Any = None) -> None:
        event = GraphEvent(kind, node, edge, old)
        for callback in list(self._subscribers):
            callback(event)

    # -- queries ----------------------------------------------------------------------
    def node(self, node_id: str) -> Node | None:
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None

    def __getitem__(self, node_id: str) -> Node:
        n = self.node(node_id)
        if n is None:
            raise KeyError(node_id)
        return n

    def ids(self) -> set[str]:
        return {n.id for n in self.nodes}

    def edges_into(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def edges_from(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]

    def fresh_id(self, candidate: str) -> str:
        return fresh_id(candidate, self.ids())

    # -- edits ------------------------------------------------------------------------
    def add_node(self, type_name: str, node_id: str | None = None, params: dict[str, Any] | None = None,
                 pos: tuple[float, float] | None = None, **extra: Any) -> Node:
        """Add a node of a declared type; a missing id is made from the type name."""
        if registry.get(type_name) is None:
            raise EditError(f"unknown layer type {type_name!r}")
        node_id = node_id or self.fresh_id(type_name)
        self._check_new_id(node_id)
        node = Node(node_id, type_name, dict(params or {}), pos, **extra)
        self.nodes.append(node)
        self._emit("node_added", node_id)
        return node

    def insert_node(self, node: Node, edges: list[Edge] = (), index: int | None = None) -> None:
        """Put back a node (and its edges) exactly as it was: for undo and paste.
        `index` puts it back at its old place in the node list (node order is the order of
        the model's inputs and outputs); None appends."""
        self._check_new_id(node.id)
        if index is None:
            self.nodes.append(node)
        else:
            self.nodes.insert(index, node)
        self._emit("node_added", node.id)
        for e in edges:
            self.insert_edge(e)

    def insert_edge(self, edge: Edge, index: int | None = None) -> None:
        """Put back a wire exactly as it was, unchecked: for undo of a removal (a wire from a
        file may be a bad one that `connect` would refuse, and undo must restore it all the same)."""
        if index is None:
            self.edges.append(edge)
        else:
            self.edges.insert(index, edge)
        self._emit("edge_added", edge=edge)

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; returns both so that an undo can put them back."""
        node = self[node_id]
        edges = [e for e in self.edges if node_id in (e.src, e.dst)]
        for e in edges:
            self.remove_edge(e)
        self.nodes.remove(node)
        self._emit("node_removed", node_id)
        return node, edges

    def rename_node(self, old_id: str, new_id: str) -> None:
        node = self[old_id]
        if new_id == old_id:
            return
        self._check_new_id(new_id)
        node.id = new_id
        self.edges = [Edge(new_id if e.src == old_id else e.src, new_id if e.dst == old_id else e.dst,
                           e.src_port, e.dst_port) for e in self.edges]
        self._emit("node_renamed", new_id, old=old_id)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one parameter as given (even a bad value, which validation then reports);
        a value equal to the default, or None for a non-optional one, clears it. Wires on
        ports that a new value removes (fewer Add inputs) stay, and validation reports them."""
        node = self[node_id]
        old = dict(node.params)
        spec = node.layer.param(name) if node.layer else None
        if spec is not None and (value == spec.default or (value is None and not spec.optional)):
            node.params.pop(name, None)
        else:
            node.params[name] = value
        self._emit("params_changed", node_id, old=old)

    def set_params(self, node_id: str, params: dict[str, Any]) -> None:
        """Replace all explicit parameters at once (undo of a parameter edit)."""
        node = self[node_id]
        old = dict(node.params)
        node.params = dict(params)
        self._emit("params_changed", node_id, old=old)

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        node = self[node_id]
        old = node.trainable
        node.trainable = bool(trainable)
        self._emit("params_changed", node_id, old=old)

    def move_node(self, node_id: str, pos: tuple[float, float]) -> None:
        node = self[node_id]
        old = node.pos
        node.pos = (float(pos[0]), float(pos[1]))
        self._emit("node_moved", node_id, old=old)

    def connect(self, src: str, dst: str, src_port: int = 0, dst_port: int = 0) -> Edge:
        """Wire an output port to an input port, refusing what cannot work."""
        edge = Edge(src, dst, src_port, dst_port)
        self.check_connection(edge)
        self.edges.append(edge)
        self._emit("edge_added", edge=edge)
        return edge

    def remove_edge(self, edge: Edge) -> None:
        self.edges.remove(edge)
        self._emit("edge_removed", edge=edge)

    def clear(self) -> None:
        self.nodes, self.edges = [], []
        self._emit("graph_reset")

    # -- checks -----------------------------------------------------------------------
    def check_connection(self, edge: Edge) -> None:
        """The one place that decides whether a new wire is allowed (raises EditError)."""
        src, dst = self.node(edge.src), self.node(edge.dst)
        if src is None or dst is None:
            raise EditError(f"no node named {edge.src if src is None else edge.dst!r}")
        outs, ins = src.output_ports(), dst.input_ports()
        if not 0 <= edge.src_port < len(outs):
            raise EditError(f"{src.id} ({src.type}) has no output port {edge.src_port}")
        if not 0 <= edge.dst_port < len(ins):
            raise EditError(f"{dst.id} ({dst.type}) has no input port {edge.dst_port}")
        for e in self.edges_into(dst.id):
            if e.dst_port == edge.dst_port:
                raise EditError(f"input '{ins[edge.dst_port]}' of {dst.id} is already connected to {e.src}; "
                                "remove that wire first")
        if src.id == dst.id or self._reaches(dst.id, src.id):
            raise CycleError(f"wiring {src.id} -> {dst.id} would make a cycle: {dst.id} already feeds {src.id}")

    def _reaches(self, start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(e.dst for e in self.edges_from(current))
        return False

    def _check_new_id(self, node_id: str) -> None:
        problem = id_problem(node_id)
        if problem:
            raise EditError(problem)
        if self.node(node_id) is not None:
            raise EditError(f"id {node_id!r} is already used by another node")
