"""Block classes (DESIGN §5): one `nn.Module` subclass per block used, named as the block.

A class's constructor takes the sizes its layers need from its inputs (required, passed at each
use: `in_channels`), then the block's parameters with their defaults. Inside, every constructor
argument is written as what it is at every use: a number that is the same everywhere, a block
parameter (`"$channels"` in the definition, or a size that follows from it), an input size, or,
where none of these fits, one more required argument named after the node and size. Which
parameter a size follows from is decided by a probe: the first use is inferred again with that
parameter doubled, and a size that doubles with it follows it (a BasicBlock whose `in_channels`
equals its `channels` still writes `nn.BatchNorm2d(channels)`).

A repeated block node is `nn.Sequential(*(Block(...) for _ in range(n)))`, so state-dict keys
follow the nesting (`layer1_0.conv1.weight`, `encoder.0.attn.in_proj_weight`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.codegen_body import Body
from engine.codegen_text import CodegenError, Raw, docstring, literal, names_in, same_value
from graph.analysis import Analysis, NodeInfo, analyse
from graph.block_analysis import instantiate
from graph.blocks import REPEAT_KEY, BlockDef, BlockType, reference, repeat_of
from graph.model import Graph, Node
from graph.registry import Code


def _norm(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class _Symbol:
    """One constructor argument of a block class and how to read its value at one use."""

    name: str
    kind: str                              # "size", "extra" or "param"
    value_of: Callable[[NodeInfo], Any]    # the use's NodeInfo -> the value
    default: Any = None
    probe: tuple[str, Any] | None = None   # how the first use is perturbed to test a dependence


@dataclass
class _Use:
    node: Node
    info: NodeInfo


@dataclass
class _Class:
    block: BlockDef
    uses: list[_Use]
    symbols: list[_Symbol] = field(default_factory=list)
    source: str = ""

    def required(self) -> list[_Symbol]:
        return [s for s in self.symbols if s.kind != "param"]


class BlockClasses:
    """The block classes of one design, inner blocks first, and the call that builds each use."""

    def __init__(self, graph: Graph, analysis: Analysis, live: set[str]):
        self.classes: dict[str, _Class] = {}
        self._collect(graph, analysis, live)
        for cls in self.classes.values():
            _ClassWriter(self, cls).write()

    def _collect(self, graph: Graph, analysis: Analysis, live: set[str]) -> None:
        for node in graph.nodes:
            info = analysis.nodes.get(node.id)
            if node.id not in live or info is None or info.inner is None:
                continue
            inner = info.inner
            self._collect(inner.graph, inner.analysis, _live(inner.graph))
            cls = self.classes.setdefault(node.type, _Class(inner.block, []))
            cls.uses.append(_Use(node, info))

    def sources(self) -> list[str]:
        return [cls.source for cls in self.classes.values()]

    def call(self, node: Node, info: NodeInfo) -> str:
        """The expression that builds a block node of the design, with its values as numbers."""
        cls = self.classes[node.type]
        return self.call_with(cls, [s.value_of(info) for s in cls.symbols], repeat_of(node))

    def call_with(self, cls: _Class, values: list[Any], repeat: Any) -> str:
        args = []
        for symbol, value in zip(cls.symbols, values):
            if symbol.kind != "param":
                args.append(literal(value))
            elif not same_value(value, symbol.default if not isinstance(symbol.default, list)
                                else tuple(symbol.default)):
                args.append(f"{symbol.name}={literal(value)}")
        one = f"{cls.block.name}({', '.join(args)})"
        if repeat == 1:
            return one
        return f"nn.Sequential(*({one} for _ in range({literal(repeat)})))"


def _live(graph: Graph) -> set[str]:
    incoming: dict[str, list[str]] = {}
    for e in graph.edges:
        incoming.setdefault(e.dst, []).append(e.src)
    live: set[str] = set()
    stack = [n.id for n in graph.outputs()]
    while stack:
        current = stack.pop()
        if current not in live:
            live.add(current)
            stack.extend(incoming.get(current, ()))
    return live


class _ClassWriter:
    """Writes one block class: finds its constructor arguments and fills in its Body."""

    def __init__(self, owner: BlockClasses, cls: _Class):
        self.owner, self.cls, self.block = owner, cls, cls.block
        self.first = cls.uses[0].info
        self.params = [_Symbol(p.name, "param", (lambda info, n=p.name: info.values[n]), p.default,
                               ("param", p.name)) for p in self.block.params]
        self.sizes: dict[tuple[int, int], _Symbol] = {}
        self.extras: list[_Symbol] = []
        self.names = {p.name for p in self.block.params}
        self.probes: dict[tuple, NodeInfo | None] = {}

    # -- values at every use ----------------------------------------------------------------
    def vector(self, read: Callable[[NodeInfo], Any]) -> list[Any]:
        return [_norm(read(use.info)) for use in self.cls.uses]

    def express(self, read: Callable[[NodeInfo], Any], hint: str) -> Any:
        """A value inside the class: Raw(an argument's name) or a number the same at every use."""
        vector = self.vector(read)
        candidates = [s for s in self.params if self.vector(s.value_of) == vector and _is_int(vector[0])]
        shapes = self.first.inputs
        for port, shape in enumerate(shapes):
            for dim, _ in enumerate(shape):
                reader = (lambda info, p=port, d=dim: info.inputs[p][d])
                if self.vector(reader) == vector:
                    candidates.append(self.sizes.get((port, dim)) or _Symbol("", "size", reader, None,
                                                                              ("size", (port, dim))))
        same = all(v == vector[0] for v in vector)
        chosen = None
        if candidates and self._depends(candidates, read, vector[0]) is not False:
            # the size follows these arguments together (or a probe cannot tell): take the one it follows
            # alone, else the first (a block parameter before an input size)
            chosen = next((s for s in candidates if self._depends([s], read, vector[0])), candidates[0])
        if chosen is None:
            return vector[0] if same else Raw(self._extra(read, hint).name)
        if chosen.kind == "size" and not chosen.name:
            port, dim = chosen.probe[1]
            chosen.name = self._fresh(hint if len(shapes) == 1 else f"{self.block.inputs()[port].id}_{hint}")
            self.sizes[(port, dim)] = chosen
        return Raw(chosen.name)

    def _extra(self, read: Callable[[NodeInfo], Any], hint: str) -> _Symbol:
        symbol = _Symbol(self._fresh(hint), "extra", read)
        self.extras.append(symbol)
        return symbol

    def _fresh(self, stem: str) -> str:
        name, number = stem, 2
        while name in self.names:
            name, number = f"{stem}_{number}", number + 1
        self.names.add(name)
        return name

    def _depends(self, symbols: list[_Symbol], read: Callable[[NodeInfo], Any], value: Any) -> bool | None:
        """Whether `read` doubles at the first use when `symbols` double there together; None when
        the doubled design does not infer (the block ties them to other sizes)."""
        if not _is_int(value):
            return False
        probed = self._probe(symbols)
        if probed is None:
            return None
        try:
            return _norm(read(probed)) == 2 * value
        except (KeyError, IndexError, TypeError, AttributeError):
            return False

    def _probe(self, symbols: list[_Symbol]) -> NodeInfo | None:
        key = tuple(s.probe for s in symbols)
        if key not in self.probes:
            values, shapes = dict(self.first.values), [list(s) for s in self.first.inputs]
            for symbol in symbols:
                if symbol.kind == "param":
                    values[symbol.name] = 2 * values[symbol.name]
                else:
                    port, dim = symbol.probe[1]
                    shapes[port][dim] *= 2
            graph = instantiate(self.block, values, [tuple(s) for s in shapes], self._dtypes())
            result = analyse(graph)
            self.probes[key] = NodeInfo(values, tuple(map(tuple, shapes)), inner=_Probe(graph, result)) \
                if result.valid else None
        return self.probes[key]

    def _dtypes(self) -> list[str]:
        graph = self.first.inner.graph
        return [graph[n.id].params["dtype"] for n in self.block.inputs()]

    # -- the class ---------------------------------------------------------------------------
    def write(self) -> None:
        inner = self.first.inner
        graph = self.block.graph
        infos = inner.analysis.nodes
        taken = {"self", "super", "nn", "torch", "math"} | self.names
        body = Body(graph, infos, inner.analysis.order, taken=taken, comments=False, fields=self._fields)
        init = body.init_lines(lambda node_id, code: self._constructor(body, node_id, code))
        forward, results = body.forward_lines()
        self.cls.symbols = [*self.sizes.values(), *self.extras, *self.params]
        signature = ", ".join(["self", *(s.name for s in self.cls.required()),
                               *(f"{s.name}={literal(s.default)}" for s in self.params)])
        doc = self.block.doc or f"Block {self.block.name}."
        lines = [f"class {self.block.name}(nn.Module):", f"    {docstring(doc)}", "",
                 f"    def __init__({signature}):", "        super().__init__()",
                 *(f"        {line}" for line in init), "",
                 f"    def forward({', '.join(['self', *body.inputs])}):",
                 *(f"        {line}" for line in forward),
                 f"        return {', '.join(results)}"]
        self.cls.source = "\n".join(lines)

    def _at(self, node_id: str) -> Callable[[Callable[[NodeInfo], Any]], Callable[[NodeInfo], Any]]:
        """Turn a reader of an inner node's info into a reader of the block use's info."""
        return lambda read: (lambda info: read(info.inner.analysis.nodes[node_id]))

    def _raw(self, value: Any) -> Any:
        """A definition value with its `"$name"`s as the class's parameter names."""
        if isinstance(value, list):
            items = [Raw(reference(v)) if reference(v) else v for v in value]
            return Raw(literal(items)) if any(isinstance(v, Raw) for v in items) else value
        return Raw(reference(value)) if reference(value) else value

    def _constructor(self, body: Body, node_id: str, code: Code) -> str | None:
        node, layer, at = self.block.graph[node_id], body.layers[node_id], self._at(node_id)
        if isinstance(layer, BlockType):
            cls = self.owner.classes[node.type]
            values = []
            for symbol in cls.symbols:
                raw = node.params.get(symbol.name, symbol.default) if symbol.kind == "param" else None
                values.append(self._raw(raw) if symbol.kind == "param"
                              else self.express(at(symbol.value_of), symbol.name))
            return self.owner.call_with(cls, values, self._raw(node.extra.get(REPEAT_KEY, 1)))
        info = body.info[node_id]
        values = {k: self._raw(node.params[k]) if k in node.params and (reference(node.params[k]) or
                  isinstance(node.params[k], list) and any(map(reference, node.params[k]))) else v
                  for k, v in info.values.items()}
        derived = {k: self.express(at(lambda i, k=k: i.derived[k]), k) for k in info.derived}
        return body.constructor(node_id, code, values, derived)

    def _fields(self, node_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """Template fields (a Concat's dim, a Reshape's shape): the same at every use, or refused."""
        code = self.block.graph.layer_of(self.block.graph[node_id]).code
        used = set()
        if code is not None:
            used = {n for t in (code.call, *code.outputs, code.unpack) for n in names_in(t)}
        if "masks" in used:
            used.add("is_causal")
        at = self._at(node_id)
        for name in used & ({"out"} | set(values)):
            read = (lambda i: i.outputs[0]) if name == "out" else (lambda i, n=name: i.values[n])
            vector = [at(read)(use.info) for use in self.cls.uses]
            if any(v != vector[0] for v in vector):
                raise CodegenError(f"{self.cls.uses[0].node.id}.{node_id}: its '{name}' differs between the uses of "
                                   f"block {self.block.name}, which its forward() cannot take as an argument yet; "
                                   "make it the same in every use, or make two blocks", node_id)
        return values


@dataclass
class _Probe:
    graph: Graph
    analysis: Analysis
