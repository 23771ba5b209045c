"""The Graph: nodes, edges and the edit methods every front end goes through.

The Graph holds what the user made, including mistakes: a parameter may hold a bad value
and an edge may point at a missing node, so that a broken design still loads, shows its
problems and can be mended. Derived facts (shapes, counts, problems) are not stored here;
`graph.analysis.analyse` computes them.

Edits emit small events to subscribers (`subscribe(fn)`; fn(event) with `event.kind` one of
node_added, node_removed, node_renamed, params_changed, node_moved, edge_added, edge_removed,
graph_reset). The canvas listens and repaints; it never changes a Graph except through these methods.

The Graph keeps an index (nodes by id, edges into and out of each node) in step with its edits,
so lookups and the connection rule cost a node's own wires, not the whole graph. Whoever sets
`nodes` or `edges` wholesale (a loader, a trial copy) assigns a list, which re-indexes; the lists
are never mutated in place outside these methods.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph import identifiers, registry
from graph.connection import (  # noqa: F401 -- the errors are part of the Graph's interface
    BadPortError,
    CycleError,
    EditError,
    MissingNodeError,
    OccupiedInputError,
    WireError,
    port_error,
)


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
        self._subscribers: list[Callable[[GraphEvent], None]] = []
        self.blocks: Any = None  # the project's graph.blocks.Blocks, through which block types resolve
        self.nodes = []
        self.edges = []

    # -- the lists and their index -----------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        return self._nodes

    @nodes.setter
    def nodes(self, nodes: list[Node]) -> None:
        self._nodes = nodes
        self._by_id: dict[str, Node] = {}     # the first node with each id (a broken file may repeat one)
        self._id_count: dict[str, int] = {}
        for node in nodes:
            self._index_node(node)

    @property
    def edges(self) -> list[Edge]:
        return self._edges

    @edges.setter
    def edges(self, edges: list[Edge]) -> None:
        self._edges = edges
        self._into: dict[str, list[Edge]] = {}
        self._from: dict[str, list[Edge]] = {}
        for edge in edges:
            self._into.setdefault(edge.dst, []).append(edge)
            self._from.setdefault(edge.src, []).append(edge)

    def _index_node(self, node: Node) -> None:
        if isinstance(node.id, str):  # a broken file may hold any JSON value as an id
            self._id_count[node.id] = self._id_count.get(node.id, 0) + 1
            self._by_id.setdefault(node.id, node)

    def _unindex_node(self, node: Node) -> None:
        if not isinstance(node.id, str):
            return
        left = self._id_count[node.id] - 1
        if left:
            self._id_count[node.id] = left
            self._by_id[node.id] = next(n for n in self._nodes if n.id == node.id and n is not node)
        else:
            del self._id_count[node.id], self._by_id[node.id]

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
        if isinstance(node_id, str):
            return self._by_id.get(node_id)
        return next((n for n in self._nodes if n.id == node_id), None)

    def __getitem__(self, node_id: str) -> Node:
        n = self.node(node_id)
        if n is None:
            raise KeyError(node_id)
        return n

    def ids(self) -> set[str]:
        return {n.id for n in self.nodes}

    def edges_into(self, node_id: str) -> list[Edge]:
        """The wires into a node, in the order of `edges`."""
        return list(self._into.get(node_id, ()))

    def edges_from(self, node_id: str) -> list[Edge]:
        """The wires out of a node, in the order of `edges`."""
        return list(self._from.get(node_id, ()))

    def with_role(self, role: str) -> list[Node]:
        """The nodes whose type declares this role ("input", "output" or "layer"), in file order."""
        return [n for n in self._nodes if n.layer is not None and n.layer.role == role]

    def inputs(self) -> list[Node]:
        """The model's inputs (forward()'s arguments), in file order."""
        return self.with_role("input")

    def outputs(self) -> list[Node]:
        """The model's outputs (what forward() returns and the losses apply to), in file order."""
        return self.with_role("output")

    def layer_type(self, type_name: object) -> registry.LayerType | None:
        """A type by name: a registered layer type, else one of the project's blocks (`blocks`)."""
        found = registry.get(type_name) if isinstance(type_name, str) else None
        if found is None and self.blocks is not None:
            found = self.blocks.layer_type(type_name)
        return found

    def layer_of(self, node: Node) -> registry.LayerType | None:
        """A node's type, blocks included (`Node.layer` knows registered types only)."""
        return self.layer_type(node.type)

    def input_ports(self, node: Node) -> tuple[str, ...]:
        layer = self.layer_of(node)
        return layer.input_ports(layer.resolve(node.params)[0]) if layer else ()

    def output_ports(self, node: Node) -> tuple[str, ...]:
        layer = self.layer_of(node)
        return layer.output_ports(layer.resolve(node.params)[0]) if layer else ()

    def fresh_id(self, candidate: str) -> str:
        return identifiers.fresh_id(candidate, self.ids())

    def id_problem(self, candidate: object, renaming: str | None = None) -> str | None:
        """Why `candidate` cannot name a node here (None when it can): the identifier rules and
        uniqueness. `renaming` is the id being replaced, which the candidate may keep. The Graph's
        edits, the editor and Properties all ask this one question."""
        problem = identifiers.id_problem(candidate)
        if problem is None and candidate != renaming and self.node(candidate) is not None:
            problem = f"id {candidate!r} is already used by another node"
        return problem

    # -- edits ------------------------------------------------------------------------
    def add_node(self, type_name: str, node_id: str | None = None, params: dict[str, Any] | None = None,
                 pos: tuple[float, float] | None = None, **extra: Any) -> Node:
        """Add a node of a declared type; a missing id is made from the type name."""
        if self.layer_type(type_name) is None:
            raise EditError(f"unknown layer type {type_name!r}")
        node_id = node_id or self.fresh_id(type_name)
        self._check_new_id(node_id)
        node = Node(node_id, type_name, dict(params or {}), pos, **extra)
        self._nodes.append(node)
        self._index_node(node)
        self._emit("node_added", node_id)
        return node

    def insert_node(self, node: Node, edges: list[Edge] = (), index: int | None = None) -> None:
        """Put back a node (and its edges) exactly as it was: for undo and paste.
        `index` puts it back at its old place in the node list (node order is the order of
        the model's inputs and outputs); None appends."""
        self._check_new_id(node.id)
        if index is None:
            self._nodes.append(node)
        else:
            self._nodes.insert(index, node)
        self._index_node(node)
        self._emit("node_added", node.id)
        for e in edges:
            self.insert_edge(e)

    def insert_edge(self, edge: Edge, index: int | None = None) -> None:
        """Put back a wire exactly as it was, unchecked: for undo of a removal (a wire from a
        file may be a bad one that `connect` would refuse, and undo must restore it all the same)."""
        if index is None:
            self._edges.append(edge)
            self._into.setdefault(edge.dst, []).append(edge)
            self._from.setdefault(edge.src, []).append(edge)
        else:
            self._edges.insert(index, edge)
            # undo only: the two ends' lists are refiltered so that they keep the order of `edges`
            self._into[edge.dst] = [e for e in self._edges if e.dst == edge.dst]
            self._from[edge.src] = [e for e in self._edges if e.src == edge.src]
        self._emit("edge_added", edge=edge)

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; returns both so that an undo can put them back."""
        node = self[node_id]
        edges = self.edges_into(node_id) + [e for e in self._from.get(node_id, ()) if e.dst != node_id]
        for e in edges:
            self.remove_edge(e)
        self._nodes.remove(node)
        self._unindex_node(node)
        self._emit("node_removed", node_id)
        return node, edges

    def rename_node(self, old_id: str, new_id: str) -> None:
        node = self[old_id]
        if new_id == old_id:
            return
        self._check_new_id(new_id)
        self._unindex_node(node)
        node.id = new_id
        self._index_node(node)
        if old_id in self._into or old_id in self._from:
            self.edges = [Edge(new_id if e.src == old_id else e.src, new_id if e.dst == old_id else e.dst,
                               e.src_port, e.dst_port) for e in self._edges]
        self._emit("node_renamed", new_id, old=old_id)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one parameter as given (even a bad value, which validation then reports);
        a value equal to the default, or None for a non-optional one, clears it. Wires on
        ports that a new value removes (fewer Add inputs) stay, and validation reports them."""
        node = self[node_id]
        old = dict(node.params)
        layer = self.layer_of(node)
        spec = layer.param(name) if layer else None
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

    def set_repeat(self, node_id: str, count: Any) -> None:
        """Set a block node's `repeat` (DESIGN §3.1) as given; 1 clears it. Validation reports a
        bad value or a block that cannot repeat."""
        node = self[node_id]
        old = dict(node.extra)
        if count == 1 and not isinstance(count, bool):
            node.extra.pop("repeat", None)
        else:
            node.extra["repeat"] = count
        self._emit("params_changed", node_id, old=old)

    def move_node(self, node_id: str, pos: tuple[float, float]) -> None:
        node = self[node_id]
        old = node.pos
        node.pos = (float(pos[0]), float(pos[1]))
        self._emit("node_moved", node_id, old=old)

    def connect(self, src: str, dst: str, src_port: int = 0, dst_port: int = 0) -> Edge:
        """Wire an output port to an input port, refusing what cannot work (see `check_connection`)."""
        edge = Edge(src, dst, src_port, dst_port)
        self.check_connection(edge)
        self.insert_edge(edge)
        return edge

    def remove_edge(self, edge: Edge) -> None:
        self._edges.remove(edge)
        self._into[edge.dst].remove(edge)
        self._from[edge.src].remove(edge)
        self._emit("edge_removed", edge=edge)

    def clear(self) -> None:
        self.nodes, self.edges = [], []
        self._emit("graph_reset")

    def reset(self, nodes: list[Node], edges: list[Edge]) -> None:
        """Replace everything at once (undo and redo of a block edit): one graph_reset event."""
        self.nodes, self.edges = list(nodes), list(edges)
        self._emit("graph_reset")

    # -- checks -----------------------------------------------------------------------
    def check_connection(self, edge: Edge) -> None:
        """Whether a new wire is allowed, by the connection rule of graph/connection.py: raises
        MissingNodeError, BadPortError, OccupiedInputError or CycleError (all EditErrors)."""
        src, dst = self.node(edge.src), self.node(edge.dst)
        if src is None or dst is None:
            raise MissingNodeError(edge, src is not None, dst is not None)
        occupant = next((e for e in self._into.get(dst.id, ()) if e.dst_port == edge.dst_port), None)
        problem = port_error(edge, self.output_ports(src), self.input_ports(dst), occupant)
        if problem is not None:
            raise problem
        path = self._path(dst.id, src.id)
        if path is not None:
            raise CycleError([src.id, *path[:-1]], edge)

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A path of wires from `start` to `goal` (both included), or None; it walks only what
        `start` reaches."""
        parent: dict[str, str | None] = {start: None}
        stack = [start]
        while stack:
            current = stack.pop()
            if current == goal:
                path = [current]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return path[::-1]
            for e in self._from.get(current, ()):
                if e.dst not in parent:
                    parent[e.dst] = current
                    stack.append(e.dst)
        return None

    def _check_new_id(self, node_id: str) -> None:
        problem = self.id_problem(node_id)
        if problem:
            raise EditError(problem)
