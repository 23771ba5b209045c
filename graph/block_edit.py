"""Edits that make, import and rename blocks: pure model operations the canvas wraps in undo commands.

Each returns a `BlockEdit` that already happened and holds the state before and after it (the
affected graphs' nodes and edges, and the block table), so that an undo command only calls
`undo()` and `redo()`: each puts one state back with a single `graph_reset` event per graph.
Editing a definition needs nothing here: it is an ordinary Graph edit of `block.graph`, and
the next `analyse` re-infers every use.
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graph.blocks import BlockDef, Blocks, fresh_name, name_problem, references
from graph.identifiers import fresh_id, id_problem
from graph.model import Edge, EditError, Graph, Node
from graph.params import Param
from graph.topology import topological_order

_PARAM_KINDS = {"int": "int", "float": "float", "bool": "bool", "choice": "choice", "ints": "ints"}


@dataclass
class _GraphState:
    nodes: list[Node]
    edges: list[Edge]


def _capture(graph: Graph) -> _GraphState:
    return _GraphState(copy.deepcopy(graph.nodes), list(graph.edges))


def _restore(graph: Graph, state: _GraphState) -> None:
    graph.reset(copy.deepcopy(state.nodes), state.edges)


@dataclass
class BlockEdit:
    """A done edit of some graphs and the block table; `undo()`/`redo()` swap their states."""

    text: str
    blocks: Blocks
    graphs: list[Graph]
    before: tuple[list[_GraphState], list[BlockDef]]
    after: tuple[list[_GraphState], list[BlockDef]]
    result: Any = None  # what the edit made (the new block's name and node ids, ...)

    def undo(self) -> None:
        self._put(self.before)

    def redo(self) -> None:
        self._put(self.after)

    def _put(self, state: tuple[list[_GraphState], list[BlockDef]]) -> None:
        self.blocks.replace_all(state[1])
        for graph, graph_state in zip(self.graphs, state[0]):
            _restore(graph, graph_state)


def _record(text: str, blocks: Blocks, graphs: Sequence[Graph], change: Callable[[], Any]) -> BlockEdit:
    before = ([_capture(g) for g in graphs], list(blocks))
    result = change()
    return BlockEdit(text, blocks, list(graphs), before, ([_capture(g) for g in graphs], list(blocks)), result)


def _blocks_of(graph: Graph) -> Blocks:
    if graph.blocks is None:
        raise EditError("this graph belongs to no project, so it cannot hold blocks")
    return graph.blocks


# -- make a block ---------------------------------------------------------------------------------
@dataclass
class _Selection:
    ids: list[str]                                   # in flow order
    inputs: list[tuple[str, int]]                    # outside values read, in port order
    outputs: list[tuple[str, int]]                   # inside values read outside, in port order


def make_block(graph: Graph, selections: Sequence[Iterable[str]], name: str | None = None, *,
               marked: Iterable[tuple[str, str]] = ()) -> BlockEdit:
    """Turn each selection of node ids of `graph` into one node of a new block.

    The first selection becomes the definition: a wire from outside becomes an Input port (one per
    distinct outside value, in the order the selection's flow first reads them) and a value read
    outside becomes an Output port (in the order the selection makes them); the wires are kept on
    the block node. Further selections must be built alike (same types, same wires, same ports).
    Block parameters are the values that differ between the selections and the `(node id, param)`
    pairs in `marked` (ids of any selection); parameters of one name with equal values share one.
    Node ids lose the prefix the selection shares (`layer1_0_conv1` -> `conv1`), and the block node
    takes it (`layer1_0`) when free. Raises EditError for a selection that cannot be a block."""
    blocks = _blocks_of(graph)
    name = name if name is not None else fresh_name("Block", blocks)
    problem = name_problem(name, blocks)
    if problem:
        raise EditError(problem)
    chosen = _selections(graph, selections)
    params, slots = _parameters(graph, chosen, set(marked))
    block = _definition(graph, chosen[0], name, params, slots)

    def change() -> list[str]:
        blocks.add(block)
        return _replace_selections(graph, chosen, block, slots)

    edit = _record(f"Make block {name}", blocks, [graph], change)
    edit.result = (name, edit.result)
    return edit


def _selections(graph: Graph, selections: Sequence[Iterable[str]]) -> list[_Selection]:
    if not selections:
        raise EditError("select the layers to make into a block")
    order, _ = topological_order([n.id for n in graph.nodes], graph.edges)
    position = {node_id: i for i, node_id in enumerate(order)}
    seen: set[str] = set()
    chosen = []
    for number, selection in enumerate(selections, start=1):
        ids = set(selection)
        if not ids:
            raise EditError(f"selection {number} is empty")
        for node_id in ids:
            node = graph.node(node_id)
            if node is None:
                raise EditError(f"there is no node {node_id!r}")
            layer = graph.layer_of(node)
            if layer is None:
                raise EditError(f"{node_id} has an unknown type {node.type!r}; fix it before making a block")
            if layer.role != "layer":
                raise EditError(f"{node_id} is an {node.type} node; the ports of a model or block stay "
                                "outside the blocks made in it")
            if node_id not in position:
                raise EditError(f"{node_id} is on a cycle; remove the cycle first")
        if ids & seen:
            raise EditError(f"selection {number} overlaps an earlier one ({', '.join(sorted(ids & seen))})")
        seen |= ids
        _check_convex(graph, ids)
        flow = sorted(ids, key=position.__getitem__)
        inputs: list[tuple[str, int]] = []
        outputs: list[tuple[str, int]] = []
        for node_id in flow:
            for e in sorted(graph.edges_into(node_id), key=lambda e: e.dst_port):
                if e.src not in ids and (e.src, e.src_port) not in inputs:
                    inputs.append((e.src, e.src_port))
            for e in graph.edges_from(node_id):
                if e.dst not in ids and (e.src, e.src_port) not in outputs:
                    outputs.append((e.src, e.src_port))
        outputs.sort(key=lambda v: (position[v[0]], v[1]))
        if not outputs:
            raise EditError(f"nothing outside reads selection {number}; a block needs an output")
        chosen.append(_Selection(flow, inputs, outputs))
    for number, other in enumerate(chosen[1:], start=2):
        difference = _difference(graph, chosen[0], other)
        if difference:
            raise EditError(f"selection {number} is not built like the first: {difference}")
    return chosen


def _check_convex(graph: Graph, ids: set[str]) -> None:
    """Refuse a selection that a path leaves and re-enters: as one node it would feed itself."""
    outside, stack = set(), [e.dst for i in ids for e in graph.edges_from(i) if e.dst not in ids]
    while stack:
        current = stack.pop()
        if current in outside:
            continue
        outside.add(current)
        for e in graph.edges_from(current):
            if e.dst in ids:
                raise EditError(f"{current} lies between selected layers (it reads one and feeds another); "
                                "select it too, or fewer layers")
            stack.append(e.dst)


def _shape_of(graph: Graph, sel: _Selection) -> tuple:
    """What must agree between two selections made into one block, by position in flow order."""
    at = {node_id: i for i, node_id in enumerate(sel.ids)}
    types = tuple(graph[i].type for i in sel.ids)
    wires = sorted((at[e.src], e.src_port, at[e.dst], e.dst_port)
                   for i in sel.ids for e in graph.edges_into(i) if e.src in at)
    reads = sorted((sel.inputs.index((e.src, e.src_port)), at[e.dst], e.dst_port)
                   for i in sel.ids for e in graph.edges_into(i) if e.src not in at)
    gives = [(at[src], port) for src, port in sel.outputs]
    return types, wires, reads, gives


def _difference(graph: Graph, first: _Selection, other: _Selection) -> str | None:
    a, b = _shape_of(graph, first), _shape_of(graph, other)
    for what, x, y in zip(("its layer types", "its inner wires", "the wires into it", "the values it gives"), a, b):
        if x != y:
            return f"{what} differ"
    return None


def _parameters(graph: Graph, chosen: list[_Selection], marked: set[tuple[str, str]]):
    """The block's parameters and, per (position, layer param), the block parameter it becomes."""
    wanted: list[tuple[int, Param, list[Any]]] = []
    for position, node_id in enumerate(chosen[0].ids):
        layer = graph.layer_of(graph[node_id])
        for param in layer.params:
            values = [graph[sel.ids[position]].params.get(param.name, param.default) for sel in chosen]
            is_marked = any((sel.ids[position], param.name) in marked for sel in chosen)
            if is_marked or any(v != values[0] for v in values) or any(references(v) for v in values):
                wanted.append((position, param, values))
    params: list[Param] = []
    vectors: dict[str, list[Any]] = {}
    slots: dict[tuple[int, str], str] = {}
    for position, param, values in wanted:
        name = param.name
        if name in vectors and vectors[name] != values:
            name = fresh_id(f"{_stripped(chosen[0].ids)[position]}_{param.name}", set(vectors))
        slots[(position, param.name)] = name
        if name not in vectors:
            vectors[name] = values
            params.append(_block_param(name, param, values, chosen[0].ids[position]))
    return params, (slots, vectors)


def _block_param(name: str, param: Param, values: list[Any], where: str) -> Param:
    plain = [v for v in values if not references(v)]
    default = plain[0] if plain else param.default
    kind = _PARAM_KINDS.get(param.kind)
    if param.kind in ("size", "padding"):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in plain):
            kind = "int"
        elif all(isinstance(v, list) for v in plain):
            kind = "ints"
    if kind is None:
        raise EditError(f"'{param.name}' of {where} cannot be a block parameter (its values: "
                        f"{', '.join(map(repr, values))}); make its values equal in every selection")
    return Param(name, kind, default, param.help, minimum=param.minimum, maximum=param.maximum,
                 choices=param.choices if kind == "choice" else ())


def _stripped(ids: list[str]) -> list[str]:
    """The ids without the prefix they all share up to an '_' (`layer1_0_conv1` -> `conv1`), where
    that leaves distinct, usable ids; else the ids as they are."""
    prefix = _prefix(ids)
    short = [i[len(prefix):] for i in ids]
    if prefix and len(set(short)) == len(short) and not any(id_problem(s) for s in short):
        return short
    return list(ids)


def _prefix(ids: list[str]) -> str:
    if len(ids) < 2:
        return ""
    first, last = min(ids), max(ids)
    common = 0
    while common < min(len(first), len(last)) and first[common] == last[common]:
        common += 1
    cut = first[:common].rfind("_")
    return first[:cut + 1] if cut > 0 else ""


def _definition(graph: Graph, sel: _Selection, name: str, params: list[Param], slots) -> BlockDef:
    slot_names, _ = slots
    short = dict(zip(sel.ids, _stripped(sel.ids)))
    taken = set(short.values())
    nodes = [graph[i] for i in sel.ids]
    xs = [n.pos[0] for n in nodes if n.pos] or [0.0]
    ys = [n.pos[1] for n in nodes if n.pos] or [0.0]
    middle = (min(ys) + max(ys)) / 2
    port_ids = []
    body: list[Node] = []
    for index, _ in enumerate(sel.inputs):
        port = fresh_id("x" if len(sel.inputs) == 1 else f"x{index}", taken | set(port_ids))
        port_ids.append(port)
        body.append(Node(port, "Input", {}, (min(xs) - 220.0, middle + 160.0 * index)))
    inner_order = [n for n in graph.nodes if n.id in short]  # the file's order, as the layers were
    flow = {node_id: i for i, node_id in enumerate(sel.ids)}
    for node in inner_order:
        params_here = dict(node.params)
        for (position, param_name), block_param in slot_names.items():
            if position == flow[node.id]:
                params_here[param_name] = f"${block_param}"
        body.append(Node(short[node.id], node.type, params_here, node.pos, node.label, node.trainable,
                         copy.deepcopy(node.extra)))
    out_ids = []
    for index, _ in enumerate(sel.outputs):
        port = fresh_id("y" if len(sel.outputs) == 1 else f"y{index}", taken | set(port_ids) | set(out_ids))
        out_ids.append(port)
        body.append(Node(port, "Output", {}, (max(xs) + 220.0, middle + 160.0 * index)))
    edges = [Edge(port_ids[sel.inputs.index((e.src, e.src_port))], short[e.dst], 0, e.dst_port)
             for i in sel.ids for e in graph.edges_into(i) if e.src not in short]
    edges += [Edge(short[e.src], short[e.dst], e.src_port, e.dst_port)
              for e in graph.edges if e.src in short and e.dst in short]
    edges += [Edge(short[src], out_ids[index], port, 0) for index, (src, port) in enumerate(sel.outputs)]
    definition = Graph()
    definition.nodes, definition.edges = body, edges
    return BlockDef(name, params, definition)


def _replace_selections(graph: Graph, chosen: list[_Selection], block: BlockDef, slots) -> list[str]:
    _, vectors = slots
    nodes, edges = list(graph.nodes), list(graph.edges)
    made: list[str] = []
    moved: dict[tuple[str, int], tuple[str, int]] = {}  # a value an earlier selection now gives
    for number, sel in enumerate(chosen):
        inside = set(sel.ids)
        prefix = _prefix(sel.ids).rstrip("_")
        remaining = {n.id for n in nodes if n.id not in inside} | set(made)
        node_id = prefix if prefix and not id_problem(prefix) and prefix not in remaining \
            else fresh_id(block.name, remaining)
        made.append(node_id)
        members = [n for n in nodes if n.id in inside]
        xs = [n.pos[0] for n in members if n.pos]
        ys = [n.pos[1] for n in members if n.pos]
        # where the selection starts (a block node is wider than a layer's: at the selection's
        # centre it lay over the node after it), at the selection's mean height
        pos = (min(xs), sum(ys) / len(ys)) if xs else None
        values = {p.name: vectors[p.name][number] for p in block.params}
        index = min(i for i, n in enumerate(nodes) if n.id in inside)
        nodes = [n for n in nodes if n.id not in inside]
        nodes.insert(index, Node(node_id, block.name, values, pos))
        kept = [e for e in edges if e.src not in inside and e.dst not in inside]
        sources = [moved.get(value, value) for value in sel.inputs]
        wired = [Edge(src, node_id, port, index) for index, (src, port) in enumerate(sources)]
        wired += [Edge(node_id, e.dst, sel.outputs.index((e.src, e.src_port)), e.dst_port)
                  for e in edges if e.src in inside and e.dst not in inside]
        first = min((i for i, e in enumerate(edges) if e.src in inside or e.dst in inside), default=len(edges))
        before = sum(1 for e in edges[:first] if e.src not in inside and e.dst not in inside)
        edges = kept[:before] + wired + kept[before:]
        moved.update({value: (node_id, index) for index, value in enumerate(sel.outputs)})
    graph.reset(nodes, edges)
    return made


# -- other edits of the block table ------------------------------------------------------------------
def _all_graphs(top: Graph) -> list[Graph]:
    return [top, *(b.graph for b in _blocks_of(top))]


def rename_block(top: Graph, old: str, new: str) -> BlockEdit:
    """Rename a block and every node that uses it, in the top graph and in every definition."""
    blocks = _blocks_of(top)
    block = blocks.get(old)
    if block is None:
        raise EditError(f"there is no block {old!r}")
    problem = name_problem(new, blocks) if new != old else None
    if problem:
        raise EditError(problem)
    graphs = _all_graphs(top)

    def change() -> None:
        index = blocks.index(old)
        blocks.remove(old)
        blocks.replace_all([*list(blocks)[:index], dataclasses.replace(block, name=new), *list(blocks)[index:]])
        for graph in graphs:
            graph.reset([dataclasses.replace(n, type=new) if n.type == old else n for n in graph.nodes], graph.edges)

    return _record(f"Rename block {old} to {new}", blocks, graphs, change)


def remove_block(top: Graph, name: str) -> BlockEdit:
    """Delete an unused definition (a used one is refused, naming a use)."""
    blocks = _blocks_of(top)
    uses = [n.id for n in top.nodes if n.type == name] + [f"{b.name}.{n.id}" for b, n in blocks.users(name)]
    if uses:
        raise EditError(f"block {name} is used by {uses[0]}" + (f" and {len(uses) - 1} more" if len(uses) > 1 else "")
                        + "; delete those nodes first")
    return _record(f"Delete block {name}", blocks, [], lambda: blocks.remove(name))


def import_blocks(top: Graph, source: Blocks, names: Iterable[str]) -> BlockEdit:
    """Copy blocks from a library into the project, each after the blocks it uses. A block of the
    same name already in the project is kept, so a library block used twice is imported once."""
    blocks = _blocks_of(top)
    wanted: list[str] = []

    def visit(name: str) -> None:
        if name in wanted or name in blocks:
            return
        found = source.get(name)
        if found is None:
            raise EditError(f"the library has no block {name!r}")
        wanted.append(name)  # first, so that a recursive library block cannot loop here
        for used in sorted(t for t in found.used_types() if t in source):
            visit(used)
        wanted.remove(name)
        wanted.append(name)

    for name in names:
        visit(name)

    def change() -> list[str]:
        for name in wanted:
            blocks.add(copy_block(source.get(name)))
        return list(wanted)

    return _record("Add blocks " + ", ".join(wanted), blocks, [], change)


def copy_block(block: BlockDef) -> BlockDef:
    """An independent copy of a definition (its graph's nodes and edges copied)."""
    graph = Graph()
    graph.nodes, graph.edges = copy.deepcopy(block.graph.nodes), list(block.graph.edges)
    return BlockDef(block.name, list(block.params), graph, block.doc, copy.deepcopy(block.extra))
