"""Undo commands: every change a user makes to a design is one of these, on the window's one stack.

They call only Graph methods (STYLE.md: Orange's document/commands), record what they need to
put things back exactly (node and wire order included), and end every redo and undo with one
`Document.refresh()`, so one user action is one analysis and one repaint however many nodes
it touches. Derived state (shapes, problems) is never part of a command.
"""
from __future__ import annotations

import copy
import sys
from typing import TYPE_CHECKING, Any

from PySide6 import QtGui

from graph.model import Edge, Node

if TYPE_CHECKING:
    from app.document import Document

_MERGE_PARAM = 1


class GraphCommand(QtGui.QUndoCommand):
    """A change of the graph edited when it was made (the top graph or a block's definition).
    Undoing or redoing it first shows that level again, so the user sees what changes."""

    def __init__(self, doc: Document, text: str):
        super().__init__(text)
        self.doc = doc
        self.level = doc.level
        self._graph = doc.edited_graph

    @property
    def graph(self):
        return self._graph

    def show_level(self) -> None:
        self.doc.set_level(self.level)

    # QUndoStack calls these from C++: an exception must not unwind through Qt (PySide can crash),
    # so it is reported through sys.excepthook (which pytest-qt turns into a test failure).
    def redo(self) -> None:
        self.show_level()
        try:
            self._redo()
        except Exception:  # noqa: BLE001
            sys.excepthook(*sys.exc_info())
        self.doc.refresh()

    def undo(self) -> None:
        self.show_level()
        try:
            self._undo()
        except Exception:  # noqa: BLE001
            sys.excepthook(*sys.exc_info())
        self.doc.refresh()

    def _redo(self) -> None:
        raise NotImplementedError

    def _undo(self) -> None:
        raise NotImplementedError


class AddNodes(GraphCommand):
    """Add nodes (new from the palette, pasted or duplicated) and the wires among them."""

    def __init__(self, doc: Document, nodes: list[Node], edges: list[Edge] = (), text: str | None = None):
        names = ", ".join(n.id for n in nodes[:3]) + ("…" if len(nodes) > 3 else "")
        super().__init__(doc, text or f"Add {names}")
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = list(edges)

    def _redo(self) -> None:
        for node in self.nodes:
            self.graph.insert_node(copy.deepcopy(node))
        for edge in self.edges:
            self.graph.insert_edge(edge)

    def _undo(self) -> None:
        for node in reversed(self.nodes):
            self.graph.remove_node(node.id)


class RemoveItems(GraphCommand):
    """Delete nodes (with their wires) and loose wires; undo puts all back in their old places."""

    def __init__(self, doc: Document, node_ids: list[str], edges: list[Edge] = (), text: str | None = None):
        count = len(node_ids) + len(edges)
        super().__init__(doc, text or (f"Delete {node_ids[0]}" if count == 1 and node_ids else
                                       f"Delete {count} item(s)"))
        self.node_ids = list(node_ids)
        self.loose_edges = [e for e in edges if e.src not in node_ids and e.dst not in node_ids]
        self._nodes: list[tuple[int, Node]] = []
        self._edges: list[tuple[int, Edge]] = []

    def _redo(self) -> None:
        gone = set(self.node_ids)
        loose = list(self.loose_edges)
        self._edges = []
        for index, edge in enumerate(self.graph.edges):
            if edge.src in gone or edge.dst in gone:
                self._edges.append((index, edge))
            elif edge in loose:
                loose.remove(edge)
                self._edges.append((index, edge))
        self._nodes = [(i, n) for i, n in enumerate(self.graph.nodes) if n.id in gone]
        for _, edge in reversed(self._edges):
            self.graph.remove_edge(edge)
        for _, node in reversed(self._nodes):
            self.graph.remove_node(node.id)

    def _undo(self) -> None:
        for index, node in self._nodes:
            self.graph.insert_node(node, index=index)
        for index, edge in self._edges:
            self.graph.insert_edge(edge, index=index)


class Rewire(GraphCommand):
    """Remove some wires and add others as one step (a wire dragged from one port to another)."""

    def __init__(self, doc: Document, removed: list[Edge], added: list[Edge], text: str | None = None):
        if text is None:
            if added and not removed:
                text = "Connect " + ", ".join(f"{e.src} → {e.dst}" for e in added)
            elif removed and not added:
                text = "Disconnect " + ", ".join(f"{e.src} → {e.dst}" for e in removed)
            else:
                text = "Rewire"
        super().__init__(doc, text)
        self.removed = list(removed)
        self.added = list(added)
        self._positions: list[tuple[int, Edge]] = []

    def _redo(self) -> None:
        self._positions = sorted((self.graph.edges.index(e), e) for e in self.removed)
        for _, edge in reversed(self._positions):
            self.graph.remove_edge(edge)
        for edge in self.added:
            self.graph.connect(edge.src, edge.dst, edge.src_port, edge.dst_port)

    def _undo(self) -> None:
        for edge in reversed(self.added):
            self.graph.remove_edge(edge)
        for index, edge in self._positions:
            self.graph.insert_edge(edge, index=index)


class SetParam(GraphCommand):
    """Set one parameter. Wires on ports that the new value removes (fewer Add inputs, fewer
    Chunk outputs) go with it, so that nothing invisible is left behind; undo restores them.
    Consecutive edits of the same field merge into one undo step (typing "128")."""

    def __init__(self, doc: Document, node_id: str, name: str, value: Any):
        super().__init__(doc, f"Set {node_id}.{name}")
        self.node_id, self.name, self.value = node_id, name, value
        self.old_params = dict(self.graph[node_id].params)
        self._dropped: list[tuple[int, Edge]] = []

    def id(self) -> int:
        return _MERGE_PARAM

    def _redo(self) -> None:
        self.graph.set_param(self.node_id, self.name, self.value)
        node = self.graph[self.node_id]
        n_in, n_out = len(self.graph.input_ports(node)), len(self.graph.output_ports(node))
        dropped = [(i, e) for i, e in enumerate(self.graph.edges)
                   if (e.dst == self.node_id and e.dst_port >= n_in) or (e.src == self.node_id and e.src_port >= n_out)]
        for _, edge in reversed(dropped):
            self.graph.remove_edge(edge)
        self._dropped = dropped

    def _undo(self) -> None:
        for index, edge in self._dropped:
            self.graph.insert_edge(edge, index=index)
        self.graph.set_params(self.node_id, self.old_params)

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        if (not isinstance(other, SetParam) or (other.node_id, other.name) != (self.node_id, self.name)
                or other.graph is not self.graph):
            return False
        if self._dropped or other._dropped:
            return False
        self.value = other.value
        return True


class SetTrainable(GraphCommand):
    """Freeze or unfreeze nodes, as one step however many (Freeze up to here, Unfreeze all)."""

    def __init__(self, doc: Document, changes: dict[str, bool], text: str | None = None):
        if text is None:
            (node_id, on), = changes.items()
            text = f"{'Unfreeze' if on else 'Freeze'} {node_id}"
        super().__init__(doc, text)
        self.changes = {k: bool(v) for k, v in changes.items()}
        self.old = {k: self.graph[k].trainable for k in changes}

    def _redo(self) -> None:
        for node_id, trainable in self.changes.items():
            self.graph.set_trainable(node_id, trainable)

    def _undo(self) -> None:
        for node_id, trainable in self.old.items():
            self.graph.set_trainable(node_id, trainable)


class Rename(GraphCommand):
    def __init__(self, doc: Document, old_id: str, new_id: str):
        super().__init__(doc, f"Rename {old_id} to {new_id}")
        self.old_id, self.new_id = old_id, new_id

    def _redo(self) -> None:
        self.graph.rename_node(self.old_id, self.new_id)

    def _undo(self) -> None:
        self.graph.rename_node(self.new_id, self.old_id)


class MoveNodes(GraphCommand):
    """Move nodes: `moves` maps id -> (old position, new position). Analysis is not rerun:
    positions change no shape, so a move is allowed while a training run locks the design."""

    allowed_while_locked = True

    def __init__(self, doc: Document, moves: dict[str, tuple], text: str | None = None):
        super().__init__(doc, text or (f"Move {next(iter(moves))}" if len(moves) == 1 else f"Move {len(moves)} nodes"))
        self.moves = {k: (None if old is None else tuple(old), tuple(new)) for k, (old, new) in moves.items()}

    def redo(self) -> None:
        self.show_level()
        for node_id, (_, new) in self.moves.items():
            self.graph.move_node(node_id, new)

    def undo(self) -> None:
        self.show_level()
        for node_id, (old, _) in self.moves.items():
            if old is not None:
                self.graph.move_node(node_id, old)
