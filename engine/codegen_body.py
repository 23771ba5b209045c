"""The `__init__` and `forward` lines of one graph: the model class's, or a block class's.

`forward` keeps a value in a variable only as long as something still reads it: a node whose
input dies with it writes its output under that input's name (`x = self.bn1(x)`), and a name
whose value is no longer needed is taken again by the next value that needs one. A value read
twice (a residual's skip) keeps its own name until its last reader, so a tensor stays alive
only while the code needs it, as in a hand-written forward (torchvision's `out = ...`). Values
that `forward` returns stay until the end; its arguments are never renamed.
"""
from __future__ import annotations

import ast
import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.codegen_text import (
    DEFAULT_CODE,
    REQUIRED,
    CodegenError,
    Formatter,
    Joined,
    Raw,
    constructor_signature,
    fresh_name,
    is_atom,
    literal,
    names_in,
    same_value,
)
from graph.analysis import NodeInfo
from graph.blocks import BlockType
from graph.masks import padding_sources
from graph.model import Edge, Graph
from graph.registry import Code, LayerType
from graph.shape_text import shape_text

_POOL = ("x", "y", "z")  # names for values, then x1, y1, z1, x2, ...


def block_code(outputs: int) -> Code:
    """How a block node is called: its module returns one tensor, or a tuple unpacked into
    variables (`{y}`, `{y1}`, ...) that take names as any value does."""
    names = ["{y}", *(f"{{y{i}}}" for i in range(1, outputs))]
    return Code(unpack=", ".join(names), outputs=tuple(names))


@dataclass
class _Emitted:
    """What the forward pass knows about one node: an expression per output port."""

    ports: list[str] = field(default_factory=list)


class Body:
    """The lines of one class over `graph`, with `infos` as analysed (for a block class, one use).

    `taken`: names the lines must not use for values (module-level names, reserved words).
    `fields`: (node id, Code, the node's template fields) -> the fields to use; a block class puts
    its parameters in where a design has numbers. `comments`: shape comments on forward lines.
    `tap`: a function name; each layer's line is then followed by `tap("id", port, value)` per output
    port read, so that prediction (engine/inference) sees every node's value, functional ones too."""

    def __init__(self, graph: Graph, infos: dict[str, NodeInfo], order: list[str], *, taken: set[str],
                 comments: bool, fields: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
                 tap: str | None = None):
        self.graph = graph
        self.info = infos
        self.comments = comments
        self.tap = tap
        self.layers: dict[str, LayerType] = {n.id: graph.layer_of(n) for n in graph.nodes}
        self.incoming: dict[str, dict[int, Edge]] = {}
        for e in graph.edges:
            self.incoming.setdefault(e.dst, {})[e.dst_port] = e
        self.inputs = [n.id for n in graph.inputs()]
        self.outputs = [n.id for n in graph.outputs()]
        self.live = self._live_nodes()
        self.order = [n for n in order if n in self.live]
        self.uses = self._count_uses()
        self.taken = set(taken) | set(self.inputs) | {"_"}
        self.fields = fields or (lambda node_id, values: values)
        self.padded = padding_sources(graph, infos)

    # -- facts about the graph -------------------------------------------------------------
    def code(self, node_id: str) -> Code:
        layer = self.layers[node_id]
        if isinstance(layer, BlockType):
            return block_code(len(layer.output_ports({})))
        return (layer.code or DEFAULT_CODE).for_values(self.info[node_id].values)

    def _live_nodes(self) -> set[str]:
        """The nodes some Output depends on; everything else is left out of the code."""
        live: set[str] = set()
        stack = list(self.outputs)
        while stack:
            current = stack.pop()
            if current not in live:
                live.add(current)
                stack.extend(e.src for e in self.incoming.get(current, {}).values())
        return live

    def _count_uses(self) -> dict[tuple[str, int], int]:
        uses: dict[tuple[str, int], int] = {}
        for e in self.graph.edges:
            if e.dst in self.live:
                uses[(e.src, e.src_port)] = uses.get((e.src, e.src_port), 0) + 1
        return uses

    def fresh(self, stem: str) -> str:
        """A variable name not used by any argument, module-level name or earlier fresh name."""
        return fresh_name(stem, self.taken)

    # -- __init__ ---------------------------------------------------------------------------
    def init_lines(self, constructor: Callable[[str, Code], str | None]) -> list[str]:
        """Submodules in the graph's node order, which is also their state_dict order."""
        lines = []
        for node in self.graph.nodes:
            if node.id not in self.live or self.code(node.id).role != "layer":
                continue
            ctor = constructor(node.id, self.code(node.id))
            if ctor is not None:
                lines.append(f"self.{node.id} = {ctor}")
        return lines

    def constructor(self, node_id: str, code: Code, values: dict[str, Any] | None = None,
                    derived: dict[str, Any] | None = None) -> str | None:
        """`nn.<Class>(...)` for a layer node, from its values and derived sizes (by default the
        analysed ones; a block class passes Raw expressions of its parameters instead)."""
        layer, info = self.layers[node_id], self.info[node_id]
        values = info.values if values is None else values
        derived = info.derived if derived is None else derived
        if layer.torch_class:
            prefix = f"nn.{layer.torch_class}"
        elif code.module:
            prefix = code.module
        else:
            if "m" in names_in(code.call):
                raise CodegenError(f"{node_id}: type {layer.name} has neither a torch_class nor a Code module, "
                                   "but its call uses {m}", node_id)
            return None
        # name -> (value, always): derived sizes and fixed arguments are always passed.
        given: dict[str, tuple[Any, bool]] = {
            k: (v[0] if isinstance(v, list) and len(v) == 1 else v, True) for k, v in derived.items()}
        for p in layer.params:
            if p.ctor:
                value = values[p.name]
                if p.kind in ("size", "padding") and isinstance(value, list) and len(set(value)) == 1:
                    value = value[0]
                given[p.name] = (value, False)
        given.update((k, (v, True)) for k, v in layer.fixed_ctor)
        signature = constructor_signature(layer, derived, code)
        unknown = sorted(given.keys() - dict(signature).keys())
        if unknown:
            raise CodegenError(f"{node_id}: the {layer.name} declaration passes {', '.join(unknown)}, which its "
                               f"constructor signature does not list (a bug in its declaration)", node_id)
        positional: list[str] = []
        keywords: list[str] = []
        for name, default in signature:
            if name not in given:
                continue  # left at torch's default
            value, always = given[name]
            if default is REQUIRED and len(positional) < 2 and not keywords:
                positional.append(literal(value))
            elif default is REQUIRED or always or not same_value(value, default):
                keywords.append(f"{name}={literal(value)}")
        return f"{prefix}({', '.join(positional + keywords)})"

    # -- forward ----------------------------------------------------------------------------
    def forward_lines(self) -> tuple[list[str], list[str]]:
        """The statements of forward() and the expressions it returns (one per Output)."""
        self._pending = dict(self.uses)      # (node, port) -> readers still to come
        self._mentions: dict[tuple[str, int], set[str]] = {}
        self._load: dict[str, int] = {}      # variable -> reads still to come of values naming it
        self._kept = {(e.src, e.src_port) for o in self.outputs for e in self.incoming.get(o, {}).values()}
        self._pool: list[str] = []           # names made so far, for reuse once their value is dead
        emitted: dict[str, _Emitted] = {}
        lines: list[str] = []
        self._padding_names: dict[str, str] = {}
        self._causal_names: dict[int, str] = {}
        for source in dict.fromkeys(s for n, s in self.padded.items() if n in self.live):
            name = self._padding_names[source] = self.fresh(f"{source}_padding")
            lines.append(f"{name} = {source} == {self.graph[source].params['padding_id']}  # True where padding")
        for node_id in self.order:
            code = self.code(node_id)
            if code.role == "input":
                emitted[node_id] = _Emitted([node_id])
                self._bind(node_id, 0, node_id)
            elif code.role == "layer":
                emitted[node_id] = self._node_lines(node_id, code, emitted, lines)
                if self.tap:
                    lines += [f"{self.tap}({node_id!r}, {port}, {expr})"
                              for port, expr in enumerate(emitted[node_id].ports) if expr]
        results = [self._input_exprs(o, emitted, consume=False)[0] for o in self.outputs]
        return lines, results

    def _bind(self, node_id: str, port: int, expr: str) -> None:
        names = {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)} if expr else set()
        self._mentions[(node_id, port)] = names
        reads = self._pending.get((node_id, port), 0) + (1 if (node_id, port) in self._kept else 0)
        for name in names:
            self._load[name] = self._load.get(name, 0) + reads

    def _input_exprs(self, node_id: str, emitted: dict[str, _Emitted], consume: bool = True) -> list[str]:
        incoming = self.incoming.get(node_id, {})
        exprs = []
        for i in sorted(incoming):
            e = incoming[i]
            exprs.append(emitted[e.src].ports[e.src_port])
            if consume:
                for name in self._mentions.get((e.src, e.src_port), ()):
                    self._load[name] -= 1
        return exprs

    def _dead(self, name: str) -> bool:
        return self._load.get(name, 0) == 0 and name not in self.inputs

    def _target(self, inputs: list[str], claimed: set[str]) -> str:
        """The name for a node's output: an input's name that dies here, else a dead name, else a new
        one; never one `claimed` by another output of the same statement."""
        for name in [*(e for e in inputs if e in self._pool), *self._pool]:
            if self._dead(name) and name not in claimed:
                return name
        number = 0
        while True:
            for stem in _POOL:
                name = stem + (str(number) if number else "")
                if name not in self.taken and not keyword.iskeyword(name):
                    self.taken.add(name)
                    self._pool.append(name)
                    return name
            number += 1

    def _causal_mask(self, node_id: str, query: str, lines: list[str]) -> str:
        """The boolean causal mask for the node's query length (True hides a later position), made once
        per length on the line before its first use, from the tensor's own length so that shorter
        sequences (a prompt while generating) work too."""
        length = self.info[node_id].outputs[0][0]
        if length not in self._causal_names:
            name = self._causal_names[length] = self.fresh("causal")
            lines.append(f"{name} = torch.ones({query}.size(1), {query}.size(1), dtype=torch.bool, "
                         f"device={query}.device).triu(1)  # True above the diagonal: later positions hidden")
        return self._causal_names[length]

    def _masks(self, node_id: str, values: dict[str, Any], inputs: list[str], lines: list[str]) -> str:
        """The mask keywords of an attention call (LayerType.masks): `, attn_mask=..., is_causal=True`
        for a causal node, `, key_padding_mask=tokens_padding` for one fed by a padded token Input."""
        masks = getattr(self.layers[node_id], "masks", None)
        if masks is None:
            return ""
        parts = []
        if values.get("is_causal"):
            mask, flag = masks.causal
            parts += [f"{mask}={self._causal_mask(node_id, inputs[0], lines)}", f"{flag}=True"]
        if node_id in self.padded:
            parts.append(f"{masks.padding}={self._padding_names[self.padded[node_id]]}")
        return "".join(f", {part}" for part in parts)

    def _node_lines(self, node_id: str, code: Code, emitted: dict[str, _Emitted], lines: list[str]) -> _Emitted:
        layer, info = self.layers[node_id], self.info[node_id]
        ports = layer.output_ports(info.values)
        templates = code.outputs
        if len(templates) == 1 and len(ports) != 1:
            templates = templates * len(ports)
        if len(templates) != len(ports):
            raise CodegenError(f"{node_id}: type {layer.name} has {len(ports)} output ports but its Code "
                               f"gives {len(code.outputs)} output expressions", node_id)
        inputs = self._input_exprs(node_id, emitted)
        fields: dict[str, Any] = self.fields(node_id, {p.name: info.values[p.name] for p in layer.params
                                                       if p.name in info.values})
        fields.update(m=Raw(f"self.{node_id}"), xs=Joined(inputs), masks=Raw(self._masks(node_id, fields, inputs, lines)))
        fields.setdefault("out", info.outputs[0] if info.outputs else ())
        fields.update({f"x{i}": Raw(expr) for i, expr in enumerate(inputs)})
        if inputs:
            fields["x"] = Raw(inputs[0])
        used_ports = [i for i in range(len(ports)) if self.uses.get((node_id, i))]
        call = code.call
        for port, lean in code.unused:
            if port not in used_ports:
                call = lean
                break
        fmt = Formatter(node_id)
        call = fmt.format(call, **fields)

        # Which of the unpacked names the used ports need; the rest become `_`.
        needed = {name for i in used_ports for name in names_in(templates[i])}
        names: dict[str, Raw] = {}
        for name in names_in(code.unpack):
            if name not in needed:
                names[name] = Raw("_")
            elif name == "y" or (isinstance(layer, BlockType) and name[1:].isdigit()):
                names[name] = Raw(self._target(inputs, set(names.values())))
            else:
                names[name] = Raw(self.fresh(f"{node_id}_{name}"))
        target = code.unpack.format(**names)
        comment = ""
        if self.comments and len(ports) == 1:
            comment = f"  # {shape_text(info.outputs[0])}"
        elif self.comments and ports:
            comment = "  # " + ", ".join(f"{port} {shape_text(s)}" for port, s in zip(ports, info.outputs))
        lines.append(f"{target} = {call}{comment}")

        result = _Emitted()
        for i, template in enumerate(templates):
            if i not in used_ports:
                result.ports.append("")
                continue
            expr = fmt.format(template, **{**fields, **names, "i": i})
            if not expr.isidentifier() and (not is_atom(expr) or (self.uses[(node_id, i)] > 1 and "(" in expr)):
                var = self.fresh(f"{node_id}_{ports[i]}")
                shape = f"  # {shape_text(info.outputs[i])}" if self.comments else ""
                lines.append(f"{var} = {expr}{shape}")
                expr = var
            result.ports.append(expr)
            self._bind(node_id, i, expr)
        return result

