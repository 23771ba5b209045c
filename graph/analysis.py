"""Shape inference and validation in one walk over the graph.

`analyse(graph)` never raises for a user mistake: it returns per-node results (shapes,
parameter and MAC counts, the sizes torch needs) and a list of diagnostics, each naming
the node (or edge) at fault and what would fix it. A node whose inputs are unknown
because something upstream is broken gets no result and no extra complaint, so every
problem is reported once, where it starts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.block_analysis import BlockContext, BlockUse, broken_use, infer_use
from graph.blocks import REPEAT_KEY, BlockType
from graph.connection import CycleError, MissingNodeError, WireError, port_error
from graph.identifiers import id_problem
from graph.model import Edge, Graph, Node
from graph.registry import LayerType, Shape, ShapeError
from graph.topology import find_cycle, topological_order


@dataclass(frozen=True)
class Diagnostic:
    """One problem. `node` is the id at fault (None for the graph as a whole)."""

    node: str | None
    message: str
    field: str | None = None
    hint: str | None = None
    edge: Edge | None = None
    severity: str = "error"

    @property
    def where(self) -> str:
        return self.node if self.node is not None else "graph"

    def text(self) -> str:
        """The message with its hint, without the location."""
        return self.message + (f" ({self.hint})" if self.hint else "")

    def __str__(self) -> str:
        return f"{self.where}: {self.text()}"


@dataclass
class NodeInfo:
    """What inference found for one node; `outputs` is None when it could not be inferred."""

    values: dict[str, Any]
    inputs: tuple[Shape | None, ...] = ()
    outputs: tuple[Shape, ...] | None = None
    dtypes: tuple[str, ...] = ()
    params: int = 0
    macs: int = 0
    derived: dict[str, Any] = field(default_factory=dict)
    inner: BlockUse | None = None  # a block node: its definition at this use, analysed
    inside: list[Diagnostic] = field(default_factory=list)  # a block node: the problems inside it

    @property
    def shape(self) -> Shape | None:
        """The shape to show on the node: its first output, or for an Output node its input."""
        if self.outputs:
            return self.outputs[0]
        return self.inputs[0] if self.inputs and self.outputs is not None else None


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    order: list[str]
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def total_params(self) -> int:
        return sum(info.params for info in self.nodes.values())

    @property
    def total_macs(self) -> int:
        return sum(info.macs for info in self.nodes.values())

    def problems_for(self, node_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node == node_id]


def analyse(graph: Graph, context: BlockContext | None = None) -> Analysis:
    """`context` is for graph.block_analysis, which analyses each block use with it."""
    return _Analyser(graph, context).run()


class _Analyser:
    def __init__(self, graph: Graph, context: BlockContext | None = None):
        self.graph = graph
        self.context = context or BlockContext.top(graph.blocks, analyse, Diagnostic)
        self.diagnostics: list[Diagnostic] = []
        self.infos: dict[str, NodeInfo] = {}
        self.layers: dict[str, LayerType] = {}
        self.by_id: dict[str, Node] = {}

    def report(self, node: str | None, message: str, **kw: Any) -> None:
        self.diagnostics.append(Diagnostic(node, message, **kw))

    def report_wire(self, error: WireError) -> None:
        """A wire the connection rule refuses, in the rule's own words (graph/connection.py)."""
        self.report(error.node, error.message, hint=error.hint, edge=error.edge)

    def run(self) -> Analysis:
        if self.context.depth == 0:
            self.diagnostics += self.context.definition_diagnostics()
        self.check_nodes()
        edges = self.check_edges()
        order, leftover = topological_order(list(self.by_id), edges)
        if leftover:
            self.report_wire(CycleError(find_cycle(leftover, edges)))
        incoming: dict[str, dict[int, Edge]] = {}
        for e in edges:
            incoming.setdefault(e.dst, {})[e.dst_port] = e
        for node_id in order:
            if node_id in self.layers:
                self.infer(self.by_id[node_id], incoming.get(node_id, {}))
        self.check_whole(edges)
        return Analysis(self.infos, [n for n in order if n in self.layers], self.diagnostics)

    # -- nodes and edges --------------------------------------------------------------
    def check_nodes(self) -> None:
        counts: dict[str, int] = {}
        for node in self.graph.nodes:
            if isinstance(node.id, str):  # a file may hold any JSON value here; id_problem reports it
                counts[node.id] = counts.get(node.id, 0) + 1
        for index, node in enumerate(self.graph.nodes):
            problem = id_problem(node.id)
            if problem:
                where = node.id if isinstance(node.id, str) and node.id.isprintable() and node.id else f"nodes[{index}]"
                self.report(where, problem, field="id", hint="give the node an id such as 'fc1'")
                continue
            if counts[node.id] > 1:
                if node.id not in self.by_id:
                    self.report(node.id, f"id is used by {counts[node.id]} nodes", field="id",
                                hint="give each node its own id")
                    self.by_id[node.id] = node
                continue
            self.by_id[node.id] = node
            layer = self.graph.layer_of(node)
            if layer is None:
                self.report(node.id, f"unknown layer type {node.type!r}", field="type",
                            hint="choose a type from the palette")
                continue
            values, problems = layer.resolve(node.params)
            for fld, message in problems:
                self.report(node.id, message, field=fld, hint="fix or remove this parameter")
            stray_repeat = REPEAT_KEY in node.extra and not isinstance(layer, BlockType)
            if stray_repeat:
                self.report(node.id, f"'repeat' is for block nodes, and {node.type} is a layer type",
                            field=REPEAT_KEY, hint="remove 'repeat', or make a block of the layers to repeat")
            self.infos[node.id] = NodeInfo(values)
            if isinstance(layer, BlockType) and node.type in self.context.broken:
                broken_use(node, self.context, self.infos[node.id])
            elif not problems and not stray_repeat:
                self.layers[node.id] = layer

    def check_edges(self) -> list[Edge]:
        """Report bad edges; return the ones inference can follow."""
        good: list[Edge] = []
        taken: dict[tuple[str, int], Edge] = {}
        for e in self.graph.edges:
            src, dst = self.by_id.get(e.src), self.by_id.get(e.dst)
            if src is None or dst is None:
                self.report_wire(MissingNodeError(e, src is not None, dst is not None))
                continue
            if e.src not in self.layers or e.dst not in self.layers:
                good.append(e)  # its node is already reported; inference stops there quietly
                continue
            key = (e.dst, e.dst_port)
            problem = port_error(e, self.layers[e.src].output_ports(self.infos[e.src].values),
                                 self.layers[e.dst].input_ports(self.infos[e.dst].values), taken.get(key))
            if problem is not None:
                self.report_wire(problem)
                continue
            taken[key] = e
            good.append(e)
        return good

    # -- inference --------------------------------------------------------------------
    def infer(self, node: Node, incoming: dict[int, Edge]) -> None:
        layer, info = self.layers[node.id], self.infos[node.id]
        ports = layer.input_ports(info.values)
        shapes: list[Shape | None] = []
        dtypes: list[str] = []
        for index, port in enumerate(ports):
            edge = incoming.get(index)
            if edge is None:
                self.report(node.id, f"input '{port}' is not connected", hint="wire a layer's output into it")
                return
            upstream = self.infos.get(edge.src)
            if upstream is None or upstream.outputs is None:
                return  # the problem upstream is reported there
            shapes.append(upstream.outputs[edge.src_port])
            dtypes.append(upstream.dtypes[edge.src_port])
        info.inputs = tuple(shapes)
        if isinstance(layer, BlockType):
            block = self.graph.blocks.get(node.type)
            self.diagnostics += infer_use(node, block, info, shapes, dtypes, incoming, self.context)
            return
        dtype = self.check_dtype(node, layer, info, dtypes, incoming)
        if dtype is None:
            return
        try:
            result = layer.infer(info.values, shapes)
        except ShapeError as exc:
            self.report(node.id, exc.message, field=exc.field, hint=exc.hint)
            return
        except OverflowError:  # e.g. a size of 10**400 from a file meets float arithmetic
            self.report(node.id, "its sizes are too large to work with", hint="use smaller sizes upstream")
            return
        except Exception as exc:  # noqa: BLE001 -- a bug in a shape rule must not reach the user as a traceback
            self.report(node.id, f"could not infer the shape ({type(exc).__name__}: {exc})",
                        hint="please report this as a LayerLoom bug")
            return
        if len(result.outputs) != len(layer.output_ports(info.values)):
            self.report(node.id, f"could not infer the shape (the rule gave {len(result.outputs)} outputs for "
                        f"{len(layer.output_ports(info.values))} ports)", hint="please report this as a LayerLoom bug")
            return
        info.outputs, info.params, info.macs, info.derived = result.outputs, result.params, result.macs, result.derived
        info.dtypes = (dtype,) * len(result.outputs)

    def check_dtype(self, node: Node, layer: LayerType, info: NodeInfo, dtypes: list[str],
                    incoming: dict[int, Edge]) -> str | None:
        if layer.role == "input":
            return info.values["dtype"]
        if layer.dtype == "same":
            return dtypes[0] if dtypes else "float32"
        wanted = "int64" if layer.dtype == "int" else "float32"
        for index, dtype in enumerate(dtypes):
            if dtype != wanted:
                src = incoming[index].src
                if wanted == "int64":
                    self.report(node.id, f"needs int64 token ids, but {src} gives {dtype} values",
                                hint="set the Input's dtype to int64")
                else:
                    self.report(node.id, f"needs float values, but {src} gives int64 token ids",
                                hint="put an Embedding first, or set the Input's dtype to float32")
                return None
        return "float32"

    # -- the whole graph --------------------------------------------------------------
    def check_whole(self, edges: list[Edge]) -> None:
        if not self.graph.inputs():  # an Input with a bad parameter is still there
            self.report(None, "the graph has no Input node", hint="add an Input from the palette")
        if not self.graph.outputs():
            self.report(None, "the graph has no Output node", hint="add an Output and wire the prediction into it")
        feeding = {e.src for e in edges}
        for node_id, layer in self.layers.items():
            if layer.role != "output" and node_id not in feeding and self.infos[node_id].outputs is not None:
                self.diagnostics.append(Diagnostic(
                    node_id, "its output is not used", hint="wire it onward or delete it", severity="warning"))


def consumers_through_passthrough(graph: Graph, node_id: str) -> list[Node]:
    """The nodes that compute on `node_id`'s values, looking through layers that only pass them on
    (element type "same": Identity, Dropout, Reshape, ...), in the order first reached. The data side
    (an Embedding's vocabulary against the token ids) and the code generator (example token ids) ask
    this one question, so that they cannot disagree about which layers a token Input reaches."""
    found: list[Node] = []
    seen, stack = {node_id}, [node_id]
    while stack:
        for edge in graph.edges_from(stack.pop()):
            node = graph.node(edge.dst)
            if node is None or node.id in seen:
                continue
            seen.add(node.id)
            layer = node.layer
            if layer is not None and layer.dtype == "same":
                stack.append(node.id)
            else:
                found.append(node)
    return found
