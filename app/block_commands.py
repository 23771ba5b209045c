"""Undo commands for blocks: a model edit of graph/block_edit.py (make, import, rename a block) on
the window's one stack, and a block node's `repeat`. Like every GraphCommand they remember the
level they were made at and show it again when undone or redone (docs/blocks.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.commands import GraphCommand
from graph.block_edit import BlockEdit
from graph.blocks import REPEAT_KEY, BlockType
from graph.model import Graph, Node
from graph.params import Param
from graph.registry import LayerType

if TYPE_CHECKING:
    from app.document import Document


# the Properties row of a block node's repeat, shown where the block can repeat (DESIGN §3.1)
REPEAT = Param(REPEAT_KEY, "int", 1, "copies of the block in sequence (one input and one output of the same shape)",
               minimum=1)


def repeatable(layer: LayerType | None) -> bool:
    return isinstance(layer, BlockType) and len(layer.inputs) == 1 and len(layer.outputs) == 1


def page_key(graph: Graph, node: Node) -> object:
    """Which Properties page shows a node: one per layer type; one per block *as it is now*, since
    editing its definition may change its parameters and ports."""
    layer = graph.layer_of(node)
    if not isinstance(layer, BlockType):
        return node.type
    return (node.type, tuple((p.name, p.kind, repr(p.default), p.choices) for p in layer.params), repeatable(layer))


class ApplyBlockEdit(GraphCommand):
    """A `BlockEdit` that has already happened when the command is made: the first redo (the
    push) only refreshes; later ones put the state after it back, undo the state before it."""

    def __init__(self, doc: Document, edit: BlockEdit, text: str | None = None):
        super().__init__(doc, text or edit.text)
        self.edit = edit
        self._pushed = False

    def _redo(self) -> None:
        if self._pushed:
            self.edit.redo()
        self._pushed = True

    def _undo(self) -> None:
        self.edit.undo()


class SetRepeat(GraphCommand):
    """A block node's `repeat` (N copies in sequence); consecutive edits of one node merge."""

    def __init__(self, doc: Document, node_id: str, count: Any):
        super().__init__(doc, f"Set {node_id}.repeat")
        self.node_id, self.count = node_id, count
        self.old = self.graph[node_id].extra.get("repeat", 1)

    def id(self) -> int:
        return 2

    def _redo(self) -> None:
        self.graph.set_repeat(self.node_id, self.count)

    def _undo(self) -> None:
        self.graph.set_repeat(self.node_id, self.old)

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetRepeat) or other.node_id != self.node_id or other.graph is not self.graph:
            return False
        self.count = other.count
        return True
