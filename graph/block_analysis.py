"""Inference through blocks: a block node's shapes, counts and problems come from its definition.

At each use, the definition is *instantiated*: its `"$name"` values replaced by the node's block
parameters and its Input nodes given the shapes and element types of the wires into the node.
That graph is analysed like any other, and the block node gets its Output nodes' shapes and the
summed parameters and MACs (times `repeat`). Problems inside keep their place: a problem of node
`conv1` inside the block node `layer1_0` is reported as `layer1_0.conv1`, and the block node's
`NodeInfo.inside` lists it so that the canvas can mark the node; entering it shows the culprit
(`inner.analysis`). Problems of a definition itself (its name, a `"$name"` with no parameter,
recursion, missing ports) are reported once, rooted at the block's name (`BasicBlock.conv1: ...`),
and uses of a broken definition stop quietly.

graph.analysis calls in here and hands over `analyse` and `Diagnostic` (`BlockContext`), so that
this module need not import it back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from graph.blocks import (
    REPEAT_KEY,
    BlockDef,
    Blocks,
    name_problem,
    repeat_of,
    repeat_problem,
    substitute,
    unknown_references,
)
from graph.model import Edge, Graph, Node
from graph.shape_text import shape_text

if TYPE_CHECKING:
    from graph.analysis import Analysis, Diagnostic, NodeInfo

MAX_DEPTH = 32  # blocks nested deeper than this are refused (a hostile file must not exhaust the stack)


@dataclass
class BlockUse:
    """One use of a block: the definition instantiated with the use's values, and its analysis."""

    block: BlockDef
    graph: Graph
    analysis: Analysis
    repeat: int = 1


@dataclass
class BlockContext:
    """What an analysis of a project with blocks carries down into every block it enters."""

    blocks: Blocks | None
    analyse: Callable[..., Analysis]
    diagnostic: type
    broken: dict[str, list[Diagnostic]] = field(default_factory=dict)  # block name -> its own problems
    depth: int = 0

    @classmethod
    def top(cls, blocks: Blocks | None, analyse: Callable[..., Analysis], diagnostic: type) -> BlockContext:
        context = cls(blocks, analyse, diagnostic)
        context.broken = definition_problems(blocks, diagnostic) if blocks else {}
        return context

    def deeper(self) -> BlockContext:
        return replace(self, depth=self.depth + 1)

    def definition_diagnostics(self) -> list[Diagnostic]:
        return [d for problems in self.broken.values() for d in problems]


def definition_problems(blocks: Blocks, diagnostic: type) -> dict[str, list[Diagnostic]]:
    """The problems of each definition that has any, rooted at the block's name. A block with one
    of them is not inferred (its uses stop quietly); a bad name alone still infers."""
    found: dict[str, list[Diagnostic]] = {}
    seen: set[str] = set()
    for block in blocks:
        problems = found.setdefault(block.name, [])
        root = block.name if isinstance(block.name, str) and block.name.isprintable() else repr(block.name)
        if block.name in seen:
            problems.append(diagnostic(root, f"block {root} is defined twice", field="name",
                                       hint="rename or delete one of the definitions"))
        seen.add(block.name)
        problem = name_problem(block.name)
        if problem:
            problems.append(diagnostic(root, problem, field="name", hint="rename the block"))
        for node_id, fld, message in unknown_references(block):
            problems.append(diagnostic(f"{root}.{node_id}", message, field=fld,
                                       hint="use one of the block's parameters or add this one"))
        if not block.inputs() or not block.outputs():
            problems.append(diagnostic(root, "a block needs at least one Input and one Output node (its ports)",
                                       hint="add the missing port node inside the block"))
    cycle = blocks.cycle()
    if cycle:
        chain = " -> ".join([*cycle, cycle[0]])
        for name in cycle:
            found[name].append(diagnostic(name, f"block {name} uses itself: {chain}",
                                          hint="a block cannot contain itself; remove one of these block nodes"))
    return {name: problems for name, problems in found.items() if problems}


def instantiate(block: BlockDef, values: dict[str, Any], shapes: list[tuple[int, ...]],
                dtypes: list[str]) -> Graph:
    """The definition with `values` put in for `"$name"` and the wires' shapes and dtypes given to
    its Input nodes: a graph that analyses like a model of its own."""
    graph = Graph()
    graph.blocks = block.graph.blocks
    inputs = {id(n): i for i, n in enumerate(block.inputs())}
    nodes = []
    for node in block.graph.nodes:
        params = {k: substitute(v, values) for k, v in node.params.items()}
        extra = dict(node.extra)
        if REPEAT_KEY in extra:
            extra[REPEAT_KEY] = substitute(extra[REPEAT_KEY], values)
        if id(node) in inputs:
            port = inputs[id(node)]
            params = {"shape": list(shapes[port]), "dtype": dtypes[port]}
        nodes.append(Node(node.id, node.type, params, node.pos, node.label, node.trainable, extra))
    graph.nodes = nodes
    graph.edges = list(block.graph.edges)
    return graph


def infer_use(node: Node, block: BlockDef, info: NodeInfo, shapes: list[tuple[int, ...]], dtypes: list[str],
              incoming: dict[int, Edge], context: BlockContext) -> list[Diagnostic]:
    """Infer one block node: fills `info` (outputs, dtypes, params, MACs, `inner`, `inside`) and
    returns the diagnostics to report, inner ones under their path (`node.inner_id`)."""
    make = context.diagnostic
    repeat = repeat_of(node)
    problem = repeat_problem(repeat)
    if problem:
        return [make(node.id, problem, field=REPEAT_KEY, hint="repeat counts copies of the block: 1, 2, 3, ...")]
    if context.depth >= MAX_DEPTH:
        return [make(node.id, f"blocks are nested more than {MAX_DEPTH} deep here",
                     hint="use fewer levels of blocks inside blocks")]
    for port, want in enumerate(block.inputs()):
        given = want.params.get("dtype")
        if given is not None and given != dtypes[port]:
            return [make(node.id, f"input '{want.id}' of block {block.name} takes {given} values, but "
                                  f"{incoming[port].src} gives {dtypes[port]}",
                         hint="wire a matching value in, or change the block's Input dtype")]
    graph = instantiate(block, info.values, shapes, dtypes)
    inner = context.analyse(graph, context.deeper())
    # problems of the definition as a whole (no Input, ...) are reported once, by definition_problems
    found = [replace(d, node=f"{node.id}.{d.node}") for d in inner.diagnostics if d.node is not None]
    info.inner = BlockUse(block, graph, inner, repeat)
    info.inside = list(found)
    if not inner.valid:
        return found
    outputs, out_dtypes = [], []
    for out in block.outputs():
        edge = next(iter(graph.edges_into(out.id)), None)
        source = inner.nodes.get(edge.src) if edge is not None else None
        if source is None or source.outputs is None:
            return found
        outputs.append(source.outputs[edge.src_port])
        out_dtypes.append(source.dtypes[edge.src_port])
    if repeat != 1 and (len(shapes) != 1 or len(outputs) != 1 or outputs[0] != shapes[0] or out_dtypes != dtypes):
        changes = (f"turns {shape_text(shapes[0])} into {shape_text(outputs[0])}" if len(shapes) == len(outputs) == 1
                   else f"has {len(shapes)} inputs and {len(outputs)} outputs")
        return [*found, make(node.id, f"'repeat' is {repeat}, but block {block.name} {changes}", field=REPEAT_KEY,
                             hint="repeat needs one input and one output of the same shape; set repeat to 1")]
    info.outputs, info.dtypes = tuple(outputs), tuple(out_dtypes)
    info.params, info.macs = inner.total_params * repeat, inner.total_macs * repeat
    return found


def broken_use(node: Node, context: BlockContext, info: NodeInfo) -> None:
    """A use of a definition with problems of its own: no inference, but the node is marked."""
    info.inside = list(context.broken.get(node.type, ()))


def analysis_at(analysis: Analysis, path: list[str]) -> Analysis | None:
    """The analysis of the level a breadcrumb shows: `[]` is the top, `["layer1_0"]` the inside of
    that block node at its use, `["layer1_0", "inner"]` one level deeper; None where a step is not
    an inferred block node."""
    for step in path:
        info = analysis.nodes.get(step)
        use = getattr(info, "inner", None)
        if use is None:
            return None
        analysis = use.analysis
    return analysis


def instance_infos(analysis: Analysis) -> dict[str, NodeInfo]:
    """Every node's analysis through every block, keyed by its path (`layer1_0.conv1`): what
    `check --expand` prints and what the code generator reads."""
    out: dict[str, NodeInfo] = {}

    def walk(prefix: str, level: Analysis) -> None:
        for node_id, info in level.nodes.items():
            out[prefix + node_id] = info
            if info.inner is not None:
                walk(f"{prefix}{node_id}.", info.inner.analysis)

    walk("", analysis)
    return out
