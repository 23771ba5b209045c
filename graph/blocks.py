"""Blocks (DESIGN §3.1): named, parameterised sub-networks that nodes use as their `type`.

A `BlockDef` is a project-level definition: a class name, typed parameters (`graph.params.Param`,
the kinds int, float, bool, choice and ints) and a `Graph` whose `Input` and `Output` nodes are
the block's ports, in file order. Inside it, a parameter value written `"$name"` (the whole value
or one item of a list) stands for the block parameter `name`.

Block types resolve through the project that defines them (`Graph.blocks`, shared by the top graph
and every definition's graph), never through the global registry: two projects may define two
different `BasicBlock`s, and the palette lists project blocks apart from layer types.

This module holds the definitions and the rules about them (names, `$name` substitution, `repeat`,
recursion); inference through blocks is graph/block_analysis.py, edits that make or undo blocks are
graph/block_edit.py.
"""
from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graph import registry
from graph.model import EditError, Graph, Node
from graph.params import Param, ParamError

KINDS = ("int", "float", "bool", "choice", "ints")
CATEGORY = "Blocks"
REPEAT_KEY = "repeat"  # a key of a block node beside "params": N copies in sequence
_CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*\Z")
_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\Z")


def _no_rule(values, inputs):
    raise registry.ShapeError("a block is inferred through its definition (graph/block_analysis.py)")


class BlockType(registry.LayerType):
    """A block seen as a layer type, so that ports, parameters and their checks work as for any
    layer. Made per lookup from the definition (cheap) and never registered."""

    def __post_init__(self) -> None:  # the category "Blocks" is not a registry category
        pass


@dataclass(eq=False)
class BlockDef:
    """One block definition. `extra` keeps unknown keys of the file entry, written back unchanged."""

    name: str
    params: list[Param] = field(default_factory=list)
    graph: Graph = field(default_factory=Graph)
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def inputs(self) -> list[Node]:
        """The block's input ports: its Input nodes in file order."""
        return [n for n in self.graph.nodes if n.type == "Input"]

    def outputs(self) -> list[Node]:
        """The block's output ports: its Output nodes in file order."""
        return [n for n in self.graph.nodes if n.type == "Output"]

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def layer_type(self) -> BlockType:
        return BlockType(
            name=self.name, category=CATEGORY, doc=self.doc or f"Block {self.name}.", infer=_no_rule,
            params=tuple(self.params), inputs=tuple(str(n.id) for n in self.inputs()),
            outputs=tuple(str(n.id) for n in self.outputs()), dtype="same")

    def used_types(self) -> set[str]:
        return {n.type for n in self.graph.nodes if isinstance(n.type, str)}


class Blocks:
    """A project's block definitions, in file order. Every definition's graph points back here
    (`graph.blocks`), so that blocks may use blocks."""

    def __init__(self, defs: Iterable[BlockDef] = ()):
        self._defs: list[BlockDef] = []
        for block in defs:
            self._attach(block, None)

    def __iter__(self) -> Iterator[BlockDef]:
        return iter(list(self._defs))

    def __len__(self) -> int:
        return len(self._defs)

    def __bool__(self) -> bool:
        return bool(self._defs)

    def __contains__(self, name: object) -> bool:
        return self.get(name) is not None

    def names(self) -> list[str]:
        return [b.name for b in self._defs]

    def get(self, name: object) -> BlockDef | None:
        """The first definition of that name (a broken file may define one twice; check says so)."""
        return next((b for b in self._defs if b.name == name), None)

    def index(self, name: str) -> int:
        return next(i for i, b in enumerate(self._defs) if b.name == name)

    def layer_type(self, name: str) -> BlockType | None:
        block = self.get(name)
        return block.layer_type() if block is not None else None

    # -- edits (the canvas wraps them in undoable commands; graph/block_edit.py) ------------
    def add(self, block: BlockDef, index: int | None = None) -> BlockDef:
        """Add a definition; its name must be a free class name (`name_problem`)."""
        problem = name_problem(block.name, self)
        if problem:
            raise EditError(problem)
        self._attach(block, index)
        return block

    def remove(self, name: str) -> tuple[BlockDef, int]:
        """Remove a definition; returns it and its place, for undo. Uses are not checked here."""
        index = self.index(name)
        return self._defs.pop(index), index

    def replace_all(self, defs: Iterable[BlockDef]) -> None:
        """Put back a whole table (undo of a make-block)."""
        self._defs = []
        for block in defs:
            self._attach(block, None)

    def _attach(self, block: BlockDef, index: int | None) -> None:
        block.graph.blocks = self
        self._defs.insert(len(self._defs) if index is None else index, block)

    # -- queries over all definitions --------------------------------------------------------
    def cycle(self) -> list[str] | None:
        """One chain of blocks that uses itself (`["A", "B"]`: A uses B, B uses A), or None."""
        uses = {b.name: sorted(t for t in b.used_types() if t in self and registry.get(t) is None)
                for b in self._defs}
        state: dict[str, int] = {}  # 1 on the current path, 2 done
        path: list[str] = []

        def visit(name: str) -> list[str] | None:
            state[name] = 1
            path.append(name)
            for used in uses.get(name, ()):
                if state.get(used) == 1:
                    return path[path.index(used):]
                if used not in state:
                    found = visit(used)
                    if found:
                        return found
            path.pop()
            state[name] = 2
            return None

        for name in uses:
            if name not in state:
                found = visit(name)
                if found:
                    return found
        return None

    def users(self, name: str) -> list[tuple[BlockDef, Node]]:
        """The nodes of definitions that use block `name` (the top graph is the Project's to ask)."""
        return [(b, n) for b in self._defs for n in b.graph.nodes if n.type == name]


# -- names -------------------------------------------------------------------------------------
def name_problem(name: object, blocks: Blocks | None = None) -> str | None:
    """Why `name` cannot name a new block (None when it can): a Python class name, not a layer
    type, not already a block of `blocks`."""
    if not isinstance(name, str) or not _CLASS_NAME.match(name) or keyword.iskeyword(name):
        return (f"block name {name!r} is not a class name: start with a capital letter, then letters, "
                "digits and '_' (e.g. 'BasicBlock')")
    if registry.get(name) is not None:
        return f"block name {name!r} is a layer type's name; choose another"
    if blocks is not None and name in blocks:
        return f"block name {name!r} is already used by another block"
    return None


def fresh_name(candidate: str, blocks: Blocks) -> str:
    """A free block name from any text: 'basic block' -> 'BasicBlock', then 'BasicBlock2', ..."""
    parts = re.findall(r"[A-Za-z0-9]+", candidate)
    stem = "".join(p[0].upper() + p[1:] for p in parts) or "Block"
    if not stem[0].isalpha():
        stem = "Block" + stem
    name, number = stem, 2
    while name_problem(name, blocks):
        name, number = f"{stem}{number}", number + 1
    return name


# -- parameters and "$name" ---------------------------------------------------------------------
def param_from_dict(entry: Any) -> Param:
    """A block parameter from its file entry {"name", "kind", "default", ...}; ParamError says what
    is wrong with it."""
    if not isinstance(entry, dict):
        raise ParamError('a block parameter must be an object {"name", "kind", "default"}')
    name, kind = entry.get("name"), entry.get("kind")
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name == "self":
        raise ParamError(f"parameter name {name!r} is not a Python identifier")
    if kind not in KINDS:
        raise ParamError(f"parameter {name!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
    choices = entry.get("choices", ())
    if kind == "choice" and (not isinstance(choices, list) or not choices):
        raise ParamError(f'parameter {name!r}: kind "choice" needs a non-empty list "choices"')
    if "default" not in entry:
        raise ParamError(f'parameter {name!r} needs a "default"')
    bounds = {k: entry[k] for k in ("minimum", "maximum") if isinstance(entry.get(k), (int, float))
              and not isinstance(entry.get(k), bool)}
    help_text = entry.get("help", "")
    param = Param(name, kind, entry["default"], help_text if isinstance(help_text, str) else "",
                  choices=tuple(choices) if kind == "choice" else (), **bounds)
    param.check(param.default)  # a default that its own kind refuses is a broken declaration
    return param


def param_to_dict(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": param.name, "kind": param.kind, "default": param.default}
    if param.choices:
        out["choices"] = list(param.choices)
    for key in ("minimum", "maximum"):
        if getattr(param, key) is not None:
            out[key] = getattr(param, key)
    if param.help:
        out["help"] = param.help
    return out


def reference(value: Any) -> str | None:
    """The parameter name a `"$name"` value stands for, or None for an ordinary value."""
    if isinstance(value, str):
        match = _REFERENCE.match(value)
        if match:
            return match.group(1)
    return None


def references(value: Any) -> list[str]:
    """Every parameter a value refers to: itself, or items of a list."""
    if isinstance(value, list):
        return [r for item in value if (r := reference(item))]
    found = reference(value)
    return [found] if found else []


def substitute(value: Any, values: dict[str, Any]) -> Any:
    """`value` with `"$name"` (the whole value or a list item) replaced from `values`; names not in
    `values` stay as they are (`unknown_references` reports them)."""
    if isinstance(value, list):
        return [values.get(reference(v), v) if reference(v) else v for v in value]
    name = reference(value)
    return values.get(name, value) if name else value


def unknown_references(block: BlockDef) -> list[tuple[str, str, str]]:
    """(node id, field, message) for each `"$name"` in the definition naming no block parameter."""
    known = {p.name for p in block.params}
    found = []
    for node in block.graph.nodes:
        fields = [(k, v) for k, v in node.params.items()] + [(REPEAT_KEY, node.extra.get(REPEAT_KEY))]
        for key, value in fields:
            for name in references(value):
                if name not in known:
                    listed = ", ".join(sorted(known)) or "none"
                    message = (f"'{key}' is \"${name}\", but block {block.name} has no parameter {name!r} "
                               f"(its parameters: {listed})")
                    found.append((str(node.id), key, message))
    return found


# -- repeat --------------------------------------------------------------------------------------
def repeat_of(node: Node) -> Any:
    """The node's `repeat` as written (default 1); `repeat_problem` says whether it is usable."""
    return node.extra.get(REPEAT_KEY, 1)


def repeat_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"'repeat' is {value!r}; expected a whole number >= 1"
    return None
