"""Editing: turns canvas gestures and panel edits into undo commands, and says why when it refuses.

Decision on wires (issue 6 left it open): a wire that the Graph cannot hold (a cycle, an input
that is already wired, a port that does not exist) is refused with a message and disappears
from the canvas. A wire the Graph can hold but whose shapes do not fit is *kept* and flagged:
its destination node turns red with the message, the wire is drawn red and dashed, and the
status bar says what is wrong; Ctrl+Z takes it away. Keeping it lets the user mend the design
in either order (wire first, then fix the parameter upstream), which refusing would not.
"""
from __future__ import annotations

import atexit
import copy
import json

from PySide6 import QtCore, QtGui, QtWidgets

from app import commands
from app.block_commands import SetRepeat
from app.canvas import Canvas
from app.document import Document
from app.layout import layered_positions
from graph.identifiers import fresh_id
from graph.model import Edge, EditError, Graph, Node
from graph.project import LoomFileError, Project, from_dict, to_dict

NODES_MIME = "application/x-layerloom-nodes"
PASTE_OFFSET = 40.0


class Editor(QtCore.QObject):
    """The editing logic between the views (canvas, panels, actions) and the Document."""

    message = QtCore.Signal(str)  # for the status bar

    def __init__(self, doc: Document, canvas: Canvas, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.canvas = canvas
        canvas.create_requested.connect(self.add_node)
        canvas.wires_requested.connect(self.rewire)
        canvas.move_requested.connect(self.move_nodes)
        canvas.rename_requested.connect(self.rename)
        canvas.viewer.busy = lambda: doc.locked   # a run trains: zoom and pan keep to its CPU budget
        self._paste_count = 0

    @property
    def graph(self) -> Graph:
        """The graph being edited: the top graph or the definition of the block entered."""
        return self.doc.edited_graph

    def _say(self, text: str) -> None:
        self.message.emit(text)

    def refuse_if_locked(self, what: str, sync: set[str] = frozenset()) -> bool:
        """While a training run locks the design: say so, put the canvas back, return True."""
        reason = self.doc.lock_reason
        if reason is None:
            return False
        self._say(f"{what}: {reason}")
        if sync:
            self.canvas.sync_nodes(sync)
        return True

    # -- nodes ------------------------------------------------------------------------
    def add_node(self, type_name: str, pos: tuple[float, float] | None = None) -> str | None:
        """A palette drop or a Tab search: one new node with a fresh id, selected."""
        if self.graph.layer_type(type_name) is None:  # a layer type or one of the project's blocks
            self._say(f"Unknown layer type {type_name!r}")
            return None
        if self.refuse_if_locked(f"Add {type_name}"):
            return None
        if pos is None:  # from the palette by double-click: the middle of the view, not on top of another
            x, y = self.canvas.scene_pos_at_view_center()
            taken = {n.pos for n in self.graph.nodes}
            while (x, y) in taken:
                x, y = x + 30.0, y + 30.0
            pos = (x, y)
        node_id = self.graph.fresh_id(type_name)
        self.doc.push(commands.AddNodes(self.doc, [Node(node_id, type_name, {}, (float(pos[0]), float(pos[1])))]))
        self.canvas.select([node_id])
        return node_id

    def delete_selection(self) -> None:
        ids, edges = self.canvas.selected_ids(), self.canvas.selected_edges()
        if (ids or edges) and self.refuse_if_locked("Delete"):
            return
        shared = [i for i in ids if sum(1 for n in self.graph.nodes if n.id == i) > 1]
        if shared:  # a broken file: the Graph cannot tell such nodes apart, nor put one back
            self._say(f"{', '.join(shared)}: another node has the same id; rename this one first")
            ids = [i for i in ids if i not in shared]
        if ids or edges:
            self.doc.push(commands.RemoveItems(self.doc, ids, edges))

    def rename(self, old_id: str, new_id: str) -> bool:
        new_id = new_id.strip()
        if new_id == old_id:
            return True
        if self.refuse_if_locked(f"Rename {old_id}"):
            return False
        problem = self.graph.id_problem(new_id, renaming=old_id)
        if problem:
            self._say(f"Cannot rename {old_id}: {problem}")
            return False
        if sum(1 for n in self.graph.nodes if n.id == old_id) > 1:
            # twins from a broken file: the Graph cannot put a shared id back, so this repair
            # is not undoable; the history before it is dropped rather than left wrong
            self.graph.rename_node(old_id, new_id)
            self.doc.repaired()
            self._say(f"Renamed one of the nodes called {old_id} to {new_id} (a repair: it cannot be undone)")
            return True
        self.doc.push(commands.Rename(self.doc, old_id, new_id))
        return True

    def set_param(self, node_id: str, name: str, value) -> None:
        node = self.graph.node(node_id)
        if node is None or node.params.get(name, _MISSING) == value:
            return
        layer = self.graph.layer_of(node)
        spec = layer.param(name) if layer else None
        if spec is not None and name not in node.params and value == spec.default:
            return
        if self.refuse_if_locked(f"Set {node_id}.{name}"):
            return
        self.doc.push(commands.SetParam(self.doc, node_id, name, value))

    def set_repeat(self, node_id: str, count) -> None:
        """A block node's `repeat`: N copies of the block in sequence."""
        node = self.graph.node(node_id)
        if node is None or node.extra.get("repeat", 1) == count or self.refuse_if_locked(f"Set {node_id}.repeat"):
            return
        self.doc.push(SetRepeat(self.doc, node_id, count))

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        node = self.graph.node(node_id)
        if node is not None and node.trainable != bool(trainable):
            if self.refuse_if_locked(f"{'Unfreeze' if trainable else 'Freeze'} {node_id}"):
                return
            self.doc.push(commands.SetTrainable(self.doc, {node_id: trainable}))

    def move_nodes(self, moves: dict) -> None:
        moves = {k: v for k, v in moves.items() if self.graph.node(k) is not None and tuple(v[0]) != tuple(v[1])}
        if moves:
            self.doc.push(commands.MoveNodes(self.doc, moves))

    # -- wires ------------------------------------------------------------------------
    def connect(self, src: str, dst: str, src_port: int = 0, dst_port: int = 0) -> bool:
        return self.rewire([], [Edge(src, dst, src_port, dst_port)])

    def rewire(self, removed: list[Edge], added: list[Edge]) -> bool:
        """Remove and add wires as one undo step, or refuse the whole gesture with a message."""
        if (removed or added) and self.refuse_if_locked(
                "Rewire", {e.src for e in [*removed, *added]} | {e.dst for e in [*removed, *added]}):
            return False
        trial = Graph()
        trial.blocks = self.graph.blocks  # block nodes' ports come from the project's blocks
        trial.nodes = self.graph.nodes
        trial.edges = list(self.graph.edges)
        for edge in removed:
            if edge in trial.edges:
                trial.remove_edge(edge)
        removed = [e for e in removed if e in self.graph.edges]
        for edge in added:
            try:
                trial.check_connection(edge)
            except EditError as exc:
                self._say(f"Wire refused: {exc}")
                self.canvas.sync_nodes({edge.src, edge.dst, *(e.src for e in removed), *(e.dst for e in removed)})
                return False
            trial.insert_edge(edge)
        if not removed and not added:
            return False
        before = {(d.node, d.message) for d in self.doc.analysis.errors}
        self.doc.push(commands.Rewire(self.doc, removed, added))
        for edge in added:
            new = [d for d in self.doc.analysis.errors if d.node == edge.dst and (d.node, d.message) not in before]
            if new:
                self._say(f"Wire {edge.src} → {edge.dst} does not fit: {new[0].text()} — kept and marked red; "
                          "Ctrl+Z removes it")
                break
        return True

    # -- clipboard --------------------------------------------------------------------
    def selection_document(self, node_ids: list[str] | None = None) -> dict | None:
        """The selected nodes and the wires among them, as a .loom document."""
        ids = node_ids if node_ids is not None else self.canvas.selected_ids()
        if not ids:
            return None
        chosen = set(ids)
        sub = Graph()
        sub.nodes = [copy.deepcopy(n) for n in self.graph.nodes if n.id in chosen]
        sub.edges = [e for e in self.graph.edges if e.src in chosen and e.dst in chosen]
        return to_dict(Project(name="clipboard", graph=sub))

    def copy(self) -> bool:
        doc = self.selection_document()
        if doc is None:
            return False
        text = json.dumps(doc)
        mime = QtCore.QMimeData()
        mime.setData(NODES_MIME, QtCore.QByteArray(text.encode()))
        mime.setText(text)
        QtWidgets.QApplication.clipboard().setMimeData(mime)
        self._paste_count = 0
        return True

    def paste(self) -> list[str]:
        mime = QtWidgets.QApplication.clipboard().mimeData()
        if mime is None:
            return []
        if mime.hasFormat(NODES_MIME):
            text = bytes(mime.data(NODES_MIME).data()).decode()
        elif mime.hasText():
            text = mime.text()
        else:
            return []
        try:
            doc = json.loads(text)
            project = from_dict(doc)
        except (ValueError, LoomFileError):
            self._say("The clipboard holds no LayerLoom nodes")
            return []
        self._paste_count += 1
        return self._insert_copy(project.graph, PASTE_OFFSET * self._paste_count, "Paste")

    def duplicate(self) -> list[str]:
        doc = self.selection_document()
        if doc is None:
            return []
        return self._insert_copy(from_dict(doc).graph, PASTE_OFFSET, "Duplicate")

    def _insert_copy(self, source: Graph, offset: float, verb: str) -> list[str]:
        """Add copies of `source`'s nodes with fresh ids, shifted by `offset`, and their wires."""
        taken = set(self.graph.ids())
        renamed: dict[str, str] = {}
        nodes = []
        for node in source.nodes:
            if not isinstance(node.id, str) or self.graph.layer_type(node.type) is None:
                continue
            new_id = fresh_id(node.id, taken)
            taken.add(new_id)
            renamed[node.id] = new_id
            pos = (node.pos[0] + offset, node.pos[1] + offset) if node.pos else self.canvas.scene_pos_at_view_center()
            nodes.append(Node(new_id, node.type, copy.deepcopy(node.params), pos, node.label, node.trainable,
                              copy.deepcopy(node.extra)))
        edges = [Edge(renamed[e.src], renamed[e.dst], e.src_port, e.dst_port)
                 for e in source.edges if e.src in renamed and e.dst in renamed]
        if not nodes or self.refuse_if_locked(verb):
            return []
        self.doc.push(commands.AddNodes(self.doc, nodes, edges, text=f"{verb} {len(nodes)} node(s)"))
        ids = [n.id for n in nodes]
        self.canvas.select(ids)
        return ids

    # -- layout -----------------------------------------------------------------------
    def auto_layout(self) -> None:
        if not self.graph.nodes:
            return
        self.canvas.finish_loading()
        sizes = {n.id: self.canvas.node_size(n.id) for n in self.graph.nodes}
        origin = min(((n.pos or (0.0, 0.0)) for n in self.graph.nodes), key=lambda p: (p[0], p[1]))
        positions = layered_positions(self.graph, sizes, origin=(origin[0], origin[1]))
        moves = {n.id: (n.pos, positions[n.id]) for n in self.graph.nodes
                 if n.pos is None or tuple(n.pos) != positions[n.id]}
        if moves:
            self.doc.push(commands.MoveNodes(self.doc, moves, text="Auto-layout"))
        self.canvas.fit_view()


_MISSING = object()


@atexit.register
def _release_clipboard() -> None:
    """PySide6 6.11 crashes the interpreter's exit (a segmentation fault after everything else,
    so `pytest` exits 139) when the clipboard still holds mime data set from Python. LayerLoom
    lets go of the nodes it copied before that."""
    app = QtWidgets.QApplication.instance()
    if app is not None:
        data = app.clipboard().mimeData()
        if data is not None and data.hasFormat(NODES_MIME):
            app.clipboard().clear()


def standard_key(action: QtGui.QAction, key: QtGui.QKeySequence.StandardKey, fallback: str) -> None:
    """Platform shortcut where Qt has one, else `fallback` (Delete, Save As are missing on some)."""
    sequences = QtGui.QKeySequence.keyBindings(key)
    action.setShortcuts(sequences or [QtGui.QKeySequence(fallback)])
