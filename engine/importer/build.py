"""The traced fx graph as a flat design: one node per mapped module or call, ids from module paths
(`layer1.0.conv1` -> `layer1_0_conv1`), wires on the registry's ports, and every call that cannot
come in collected as a Problem with its module path and line."""
from __future__ import annotations

import inspect
import operator
import re
from dataclasses import dataclass, field
from typing import Any

from torch import fx, nn

from engine.importer import functions
from engine.importer.modules import layer_for, nearest, read_params
from engine.importer.problems import Problem
from engine.importer.source import Source
from engine.importer.trace import Meta
from graph.identifiers import fresh_id, id_problem
from graph.model import Edge, Graph, Node
from graph.params import ParamError
from graph.registry import LayerType

_PORTS_FROM_DOC = re.compile(r"Outputs: (.*?)\.\s*$", re.DOTALL)


@dataclass
class _Port:
    node: str
    port: int = 0


@dataclass
class _Partial:
    """A tuple a multi-output module gave, indexed `path` deep so far."""

    node: str
    path: tuple[int, ...]
    ports: list[tuple[int, ...] | None]
    meta: Meta
    joined: dict[int, tuple[tuple, int]] = field(default_factory=dict)  # functions.joined_ports


@dataclass
class _Row:
    """An item of a multi-output module's result that only a port joining several reads (`h_n[-2]`
    of a bidirectional layer's `torch.cat((h_n[-2], h_n[-1]), dim=1)`)."""

    node: str
    path: tuple[int, ...]
    joined: dict[int, tuple[tuple, int]]


@dataclass
class _Const:
    value: Any


@dataclass
class _PaddingMask:
    """`tokens == padding_id` of a token Input: an attention's key-padding mask, which a design
    writes from that Input's `padding_id`."""

    input: str
    padding_id: int


class _Bad:
    """A value that could not come in; what reads it is not reported again."""


@dataclass
class FlatDesign:
    graph: Graph
    paths: dict[str, str]                     # design node id -> module path of its weights
    owners: dict[str, list[tuple[str, type]]]  # design node id -> enclosing user module instances
    problems: list[Problem] = field(default_factory=list)


class Builder:
    def __init__(self, module: fx.GraphModule, source: Source):
        self.gm, self.source = module, source
        self.graph = Graph()
        self.values: dict[fx.Node, Any] = {}
        self.design = FlatDesign(self.graph, {}, {})
        self.called: set[str] = set()
        self.fx_of: dict[str, fx.Node] = {}

    # -- helpers ---------------------------------------------------------------------------
    def problem(self, node: fx.Node, where: str, message: str) -> _Bad:
        line = node.meta.get("line")
        self.design.problems.append(Problem(where, message, f"{self.source.path.name}:{line}" if line else None))
        return _Bad()

    def _id(self, stem: str) -> str:
        candidate = stem.replace(".", "_")
        if candidate in self.graph.ids() or id_problem(candidate):
            return fresh_id(candidate, self.graph.ids())
        return candidate

    def _owner(self, node: fx.Node, leaf: bool) -> list[tuple[str, type]]:
        stack = list((node.meta.get("nn_module_stack") or {}).values())
        return stack[:-1] if leaf and stack else stack

    def _add(self, node: fx.Node, type_name: str, stem: str, params: dict[str, Any], inputs: list[_Port],
             leaf: bool = False) -> str:
        node_id = self._id(stem)
        self.graph.nodes = [*self.graph.nodes, Node(node_id, type_name, params)]
        self.graph.edges = [*self.graph.edges, *(Edge(p.node, node_id, p.port, i) for i, p in enumerate(inputs))]
        self.design.owners[node_id] = [(path, cls) for path, cls in self._owner(node, leaf)]
        self.fx_of[node_id] = node
        return node_id

    def _where(self, node: fx.Node) -> str:
        owner = self._owner(node, node.op == "call_module")
        prefix = owner[-1][0] + "." if owner else ""
        name = called(node) or str(node.target)
        return node.target if node.op == "call_module" else f"{prefix}{name}()"

    # -- the walk --------------------------------------------------------------------------
    def build(self) -> FlatDesign:
        for node in self.gm.graph.nodes:
            if node.op.startswith("call_") and not node.users:
                self.values[node] = _Bad()  # read by nothing (`o, (h, c) = lstm(x)` with c unused): not the model's
                continue
            self.values[node] = getattr(self, f"_{node.op}")(node)
        return self.design

    def _placeholder(self, node: fx.Node) -> Any:
        meta: Meta = node.meta["traced"]
        dtype = "int64" if not meta.dtype.is_floating_point else "float32"
        params = {"shape": list(meta.shape[1:])}
        if dtype != "float32":
            params["dtype"] = dtype
        node_id = self._id(node.target)
        self.graph.nodes = [*self.graph.nodes, Node(node_id, "Input", params)]
        return _Port(node_id)

    def _get_attr(self, node: fx.Node) -> Any:
        module = self.source.module
        buffers = {k for k, _ in module.named_buffers()}
        if node.target not in buffers | {k for k, _ in module.named_parameters()}:
            return _Const(None)  # a tensor forward made of constants alone (`torch.ones(6, 6).triu(1)`), kept by fx
        traced = node.meta.get("traced")
        if node.target in buffers and traced is not None and traced.causal:
            return _Const(None)  # a causal mask the module holds (`register_buffer("mask", ...)`): is_causal
        return self.problem(node, node.target, "a tensor held by the module is used directly (a learned parameter "
                            "or buffer outside any layer); LayerLoom's layers hold their own weights")

    def _output(self, node: fx.Node) -> Any:
        results = node.args[0] if isinstance(node.args[0], (tuple, list)) else (node.args[0],)
        names = self._output_names(len(results))
        for result, name in zip(results, names):
            value = self.values.get(result) if isinstance(result, fx.Node) else _Const(result)
            if isinstance(value, _Bad):
                continue
            if not isinstance(value, _Port):
                self.problem(node, "forward() return", "returns something other than tensors (a nested tuple or a "
                             "number); return one tensor per output")
                continue
            node_id = self._id(name)
            self.graph.nodes = [*self.graph.nodes, Node(node_id, "Output", {})]
            self.graph.edges = [*self.graph.edges, Edge(value.node, node_id, value.port, 0)]

    def _output_names(self, count: int) -> list[str]:
        """The output names a LayerLoom-exported class states in its docstring, else y, y0, y1, ..."""
        doc = type(self.source.module).__doc__ or ""
        match = _PORTS_FROM_DOC.search(doc)
        if match:
            names = [part.split(" (")[0].strip() for part in re.split(r",\s*(?=[A-Za-z_]\w* \()", match.group(1))]
            if len(names) == count and not any(id_problem(n) for n in names):
                return names
        return ["y"] if count == 1 else [f"y{i}" for i in range(count)]

    def _call_module(self, node: fx.Node) -> Any:
        module = self.gm.get_submodule(node.target)
        where = node.target
        layer = layer_for(module)
        if layer is None:
            name = type(module).__name__
            hint = nearest(name)
            return self.problem(node, where, f"{name} is not a layer type LayerLoom knows"
                                + (f" (nearest: {hint})" if hint else ""))
        if node.target in self.called and any(True for _ in module.parameters()):
            return self.problem(node, where, f"the {layer.name} is called more than once, sharing its weights; "
                                "a design gives each use its own layer")
        self.called.add(node.target)
        params, problems = read_params(module, layer)
        for message in problems:
            self.problem(node, where, message)
        args, kwargs = list(node.args), dict(node.kwargs)
        if layer.masks is not None:
            padded = self._padding(module, layer, args, kwargs)
            if isinstance(padded, str):
                return self.problem(node, where, padded)
        causal = self._causal(module, layer, args, kwargs) if layer.masks is not None else False
        if isinstance(causal, (str, _Bad)):
            return self.problem(node, where, causal) if isinstance(causal, str) else causal
        if causal:
            params["is_causal"] = True
        extra = [k for k, v in kwargs.items() if v is not None and (k != "need_weights" or v not in (False, True))]
        if extra:
            return self.problem(node, where, f"{layer.name} called with {', '.join(k + '=' for k in extra)}, which "
                                "LayerLoom's layer does not take")
        inputs = self._tensors(node, args, where)
        if inputs is None or problems:
            return _Bad()
        ports = layer.input_ports(layer.resolve(params)[0])
        if len(inputs) != len(ports):
            return self.problem(node, where, f"{layer.name} called with {len(inputs)} tensors; LayerLoom's takes "
                                f"{len(ports)} ({', '.join(ports)}) (an initial state cannot be given)")
        node_id = self._add(node, layer.name, node.target, params, inputs, leaf=True)
        self.design.paths[node_id] = node.target
        outputs = layer.output_ports(layer.resolve(params)[0])
        if len(outputs) == 1:
            return _Port(node_id)
        values = layer.resolve(params)[0]
        return _Partial(node_id, (), functions.port_paths(layer, values, len(outputs)), node.meta["traced"],
                        functions.joined_ports(layer, values, len(outputs)))

    def _padding_mask(self, node: fx.Node, first: Any) -> _PaddingMask | None:
        """`tokens == 0` (or `tokens.eq(0)`) on a token Input: a key-padding mask in the making."""
        if called(node) != "eq" or not isinstance(first, _Port) or len(node.args) != 2:
            return None
        value = node.args[1]
        source = next((n for n in self.graph.nodes if n.id == first.node), None)
        if source is None or source.type != "Input" or source.params.get("dtype") != "int64" \
                or not isinstance(value, int) or isinstance(value, bool):
            return None
        return _PaddingMask(source.id, value)

    def _padding(self, module: nn.Module, layer: LayerType, args: list[Any], kwargs: dict[str, Any]) -> str | None:
        """An attention call's key-padding mask (`masks.padding`, by keyword or by position), taken out
        of `args`/`kwargs`: `tokens == padding_id` sets that token Input's `padding_id`, from which the
        design writes the same mask. A message for another mask."""
        key = layer.masks.padding
        names = list(inspect.signature(type(module).forward).parameters)[1:]
        if key in names and names.index(key) < len(args):
            at = names.index(key)
            kwargs.update(zip(names[at:], args[at:]))
            del args[at:]
        mask = kwargs.pop(key, None)
        if mask is None:
            return None
        held = self.values.get(mask) if isinstance(mask, fx.Node) else None
        if not isinstance(held, _PaddingMask):
            return (f"{key}= is not `tokens == padding_id` of a token Input; LayerLoom masks the padding "
                    "of a token Input with a padding_id")
        source = next(n for n in self.graph.nodes if n.id == held.input)
        if source.params.get("padding_id", held.padding_id) != held.padding_id:
            return f"{key}= masks padding id {held.padding_id}, another mask of '{held.input}' padding id " \
                   f"{source.params['padding_id']}; an Input has one padding id"
        source.params["padding_id"] = held.padding_id
        return None

    def _causal(self, module: nn.Module, layer: LayerType, args: list[Any], kwargs: dict[str, Any]) -> bool | str | _Bad:
        """Whether an attention call passes the causal mask by its type's keywords (`masks.causal`:
        `attn_mask=mask, is_causal=True`), taking them (and the arguments after a positional one) out of
        `args` and `kwargs`. The mask decides, whatever made it (LayerLoom's `ones(L, L).triu(1)`,
        `generate_square_subsequent_mask`, ...: `Meta.causal`); the flag is only torch's hint beside it.
        A message for another mask."""
        mask_key, flag_key = layer.masks.causal
        names = list(inspect.signature(type(module).forward).parameters)[1:]
        first = min((names.index(k) for k in (mask_key, flag_key) if k in names), default=len(args))
        kwargs.update(zip(names[first:], args[first:]))
        del args[first:]
        mask, flag = kwargs.pop(mask_key, None), kwargs.pop(flag_key, False)
        if mask is None and flag is False:
            return False
        held = self.values.get(mask) if isinstance(mask, fx.Node) else None
        if isinstance(held, _Bad):
            return held
        traced = mask.meta.get("traced") if isinstance(mask, fx.Node) else None
        if traced is None or not traced.causal or flag not in (True, False):
            return (f"{mask_key}= is not the causal mask (True or -inf exactly above the diagonal, as "
                    f"`torch.ones(L, L, dtype=torch.bool).triu(1)` makes it); LayerLoom's {layer.name} masks only "
                    "causally (its is_causal)")
        return True

    def _tensors(self, node: fx.Node, args: list[Any], where: str) -> list[_Port] | None:
        """The design values of a call's tensor arguments, or None after reporting a problem."""
        found = []
        for arg in args:
            value = self.values.get(arg) if isinstance(arg, fx.Node) else _Const(arg)
            if isinstance(value, _Bad):
                return None
            if isinstance(value, _Port):
                found.append(value)
                continue
            what = "a number or constant" if isinstance(value, _Const) else "a tuple"
            self.problem(node, where, f"takes {what} where LayerLoom's layers take a tensor wire; compute it "
                         "with layers, or index the tuple first")
            return None
        return found

    def _call_method(self, node: fx.Node) -> Any:
        return self._call_function(node)

    def _call_function(self, node: fx.Node) -> Any:
        where = self._where(node)
        args = [self.values.get(a) for a in node.args if isinstance(a, fx.Node)]
        if any(isinstance(a, _Bad) for a in args):
            return self._after_bad(node, where)
        first = self.values.get(node.args[0]) if node.args and isinstance(node.args[0], fx.Node) else None
        meta: Meta = node.meta["traced"]
        if node.target is operator.getitem:
            return self._getitem(node, first, where)
        padding = self._padding_mask(node, first)
        if padding is not None:
            return padding
        if (isinstance(first, _Const) or (not meta.is_tensor and meta.items is None)
                or (node.all_input_nodes and all(isinstance(self.values.get(a), _Const) for a in node.all_input_nodes))):
            return _Const(meta.value)  # sizes, numbers, and what is made of them alone (a mask: torch.ones(x.size(1), ...))
        name = called(node)
        if node.op == "call_method" and name in functions.PASS_THROUGH and isinstance(first, _Port):
            return first
        if node.target is functions.JOIN and node.args and isinstance(node.args[0], (list, tuple)):
            joined = self._joined(node)
            if joined is not None:
                return joined
        stem = self._stem(node, name)
        reasons = []
        for pattern in functions.patterns_for(node):
            bound = functions.bind(pattern, node)
            if isinstance(bound, str):
                reasons.append(bound)
                continue
            made = self._from_pattern(node, pattern, bound, stem, where, meta)
            if isinstance(made, str):
                reasons.append(made)
                continue
            return made
        if reasons:
            return self.problem(node, where, reasons[0])
        space = getattr(node.target, "namespace", None) or getattr(node.target, "__module__", "") or ""  # aten.mean
        call = f".{name}()" if node.op == "call_method" else f"{space}.{name}()"
        hint = nearest(name.replace("_", "")) or nearest(name.capitalize())
        return self.problem(node, where, f"{call.lstrip('.') if node.op != 'call_method' else 'Tensor' + call} has "
                            "no LayerLoom layer type" + (f" (nearest: {hint})" if hint else ""))

    def _joined(self, node: fx.Node) -> _Port | None:
        """torch.cat of items of one module's result that its Code joins as one port: that port."""
        rows = [self.values.get(a) if isinstance(a, fx.Node) else None for a in node.args[0]]
        if not rows or not all(isinstance(r, _Row) and r.node == rows[0].node for r in rows):
            return None
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        for port, (items, wanted) in rows[0].joined.items():
            if tuple(r.path for r in rows) == items and dim == wanted:
                return _Port(rows[0].node, port)
        return None

    def _after_bad(self, node: fx.Node, where: str) -> _Bad:
        """A call on a value that could not come in: still named when it could not come in either,
        so that one run lists every problem."""
        source = node.args[0].meta.get("traced") if node.args and isinstance(node.args[0], fx.Node) else None
        if node.target is operator.getitem:
            if source is not None and source.is_tensor:
                return self.problem(node, where, "indexes or slices a tensor (x[...]), which has no LayerLoom layer "
                                    "type yet; use Select, Slice, Chunk or Reshape")
            return _Bad()
        name = called(node)
        known = functions.patterns_for(node) or name in functions.PASS_THROUGH
        if not known and node.meta["traced"].is_tensor:
            return self.problem(node, where, f"{name}() has no LayerLoom layer type")
        return _Bad()

    def _stem(self, node: fx.Node, name: str) -> str:
        owner = self._owner(node, False)
        base = name.strip("_") or "op"
        base = {"iadd": "add", "imul": "mul", "concat": "cat", "concatenate": "cat"}.get(base, base)
        return f"{owner[-1][0]}.{base}" if owner else base

    def _getitem(self, node: fx.Node, first: Any, where: str) -> Any:
        index = node.args[1]
        if isinstance(first, _Const):
            return _Const(node.meta["traced"].value)
        if not isinstance(first, _Partial) or not isinstance(index, int):
            return self.problem(node, where, "indexes or slices a tensor (x[...]), which has no LayerLoom layer "
                                "type yet; use Select, Slice, Chunk or Reshape")
        size = len(first.meta.items) if first.meta.items is not None else (first.meta.shape or (1,))[0]
        index = index % size if first.meta.items is not None else index - size if index >= 0 else index
        path = first.path + (index,)
        for port, wanted in enumerate(first.ports):
            if wanted == path:  # a tensor's rows count from the end (-1), as the Code writes them
                return _Port(first.node, port)
        reached = [*first.ports, *(item for items, _ in first.joined.values() for item in items)]
        if any(w is not None and len(w) > len(path) and w[:len(path)] == path for w in reached):
            return _Partial(first.node, path, first.ports, node.meta["traced"], first.joined)
        if any(path in items for items, _ in first.joined.values()):
            return _Row(first.node, path, first.joined)
        return self.problem(node, where, f"takes item {list(path)} of {first.node}'s result, which is none of its "
                            "output ports")

    def _from_pattern(self, node, pattern, bound, stem, where, meta) -> Any:
        layer = pattern.layer
        inputs = self._tensors(node, bound.inputs, where)
        if inputs is None:
            return _Bad()
        params: dict[str, Any] = {}
        for key, value in bound.params.items():
            if isinstance(value, fx.Node):
                held = self.values.get(value)
                if not isinstance(held, _Const):
                    return f"its '{key}' is computed from tensors"
                value = held.value
            spec = layer.param(key)
            if spec is None:
                return f"LayerLoom's {layer.name} has no '{key}'"
            if spec.kind == "ints" and isinstance(value, int):
                value = [value]
            elif isinstance(value, (tuple, list)):
                value = [self.values[v].value if isinstance(v, fx.Node) and isinstance(self.values.get(v), _Const)
                         else v for v in value]
            if value is None and not spec.optional:
                return f"'{key}' is None; LayerLoom's {layer.name} needs a value"
            try:
                params[key] = spec.check(value)
            except ParamError as exc:
                return str(exc)
        if layer.name == "Reshape":
            if not meta.is_tensor or not node.args or self._batch(node) != meta.shape[0]:
                return "changes the batch dimension, which a design keeps first"
            params["shape"] = list(meta.shape[1:])
        if layer.param("num_inputs") is not None:
            inputs = self._folded(layer.name, inputs)
            params["num_inputs"] = len(inputs)
        if layer.param("dims") is not None and params.get("dims", [0])[0] % max(len(meta.shape or ()), 1) != 0:
            return "moves the batch dimension, which a design keeps first"
        node_id = self._add(node, layer.name, stem, layer.non_default(params), inputs)
        outputs = layer.output_ports(layer.resolve(params)[0])
        if len(outputs) == 1:
            return _Port(node_id)
        return _Partial(node_id, (), functions.port_paths(layer, layer.resolve(params)[0], len(outputs)), meta)

    def _batch(self, node: fx.Node) -> int | None:
        source = node.args[0]
        traced = source.meta.get("traced") if isinstance(source, fx.Node) else None
        return traced.shape[0] if traced is not None and traced.is_tensor else None

    def _folded(self, type_name: str, inputs: list[_Port]) -> list[_Port]:
        """`a + b + c` traces as add(add(a, b), c): an Add read only by the next one is merged into it."""
        first = inputs[0]
        inner = self.graph.node(first.node)
        if inner is None or inner.type != type_name or first.port != 0:
            return inputs
        if len(self.fx_of[inner.id].users) != 1:
            return inputs
        wires = sorted(self.graph.edges_into(inner.id), key=lambda e: e.dst_port)
        self.graph.nodes = [n for n in self.graph.nodes if n.id != inner.id]
        self.graph.edges = [e for e in self.graph.edges if e.dst != inner.id]
        self.design.owners.pop(inner.id, None)
        return [_Port(e.src, e.src_port) for e in wires] + inputs[1:]


def called(node: fx.Node) -> str:
    """The name of what a node calls: a method's, a function's, an ATen operation's (`conv2d`, not
    `conv2d.default`)."""
    if isinstance(node.target, str):
        return node.target
    return getattr(node.target, "_opname", None) or getattr(node.target, "__name__", "")


def flat_design(module: fx.GraphModule, source: Source) -> FlatDesign:
    return Builder(module, source).build()
