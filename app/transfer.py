"""Transfer learning on the canvas (docs/training.md, "Transfer learning"): a node's context menu
offers "Freeze up to here" (the node and everything upstream of it that has weights, one undoable
edit of `trainable`), "Unfreeze all", and "Replace head" (the last layer's output size set to the
data set's class count, one undoable edit; the registry's `size_param` names that parameter).

They edit the top-level design only: the trainer freezes the design's own nodes (a block node as a
whole), so inside a block's definition the menu does not offer them. The class count is read from
the data set on a background thread (engine.data.classes), like everything that may load data.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

from app.background import Job, Refusal
from app.commands import SetTrainable

if TYPE_CHECKING:
    from app.main_window import MainWindow


def upstream(graph, node_id: str) -> list[str]:
    """`node_id` and every node it reads from, directly or not, in the graph's order."""
    seen, todo = {node_id}, [node_id]
    while todo:
        for edge in graph.edges_into(todo.pop()):
            if edge.src not in seen:
                seen.add(edge.src)
                todo.append(edge.src)
    return [n.id for n in graph.nodes if n.id in seen]


def head_of(graph, node_id: str) -> tuple[str, str] | None:
    """(node, parameter) that sets the output size at `node_id`: the node itself when its type has
    a `size_param`, else the nearest such node up a chain of one-input nodes (an Output, a Softmax,
    a Flatten selected instead of the Linear before them)."""
    current = node_id
    while True:
        node = graph.node(current)
        layer = graph.layer_of(node) if node is not None else None
        size = getattr(layer, "size_param", None)
        if size is not None:
            return current, size
        into = graph.edges_into(current) if node is not None else []
        if len(into) != 1:
            return None
        current = into[0].src


class TransferEdits(QtCore.QObject):
    """The three edits and their place in the canvas's context menu."""

    head_replaced = QtCore.Signal(object)  # (node id, parameter, class count), or a Refusal

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window, self.doc, self.editor = window, window.doc, window.editor

    def add_to_menu(self, menu: QtWidgets.QMenu, node_id: str) -> None:
        if self.doc.level:
            return
        menu.addSeparator()
        freeze = menu.addAction("Freeze up to here", lambda: self.freeze_up_to(node_id))
        freeze.setObjectName("actionFreezeUpToHere")
        freeze.setEnabled(bool(self._weighted(upstream(self.doc.graph, node_id), trainable=True)))
        thaw = menu.addAction("Unfreeze all", self.unfreeze_all)
        thaw.setObjectName("actionUnfreezeAll")
        thaw.setEnabled(bool(self._weighted([n.id for n in self.doc.graph.nodes], trainable=False)))
        head = head_of(self.doc.graph, node_id)
        replace = menu.addAction("Replace head" + (f" ({head[0]}.{head[1]} = classes)" if head else ""),
                                 lambda: self.replace_head(node_id))
        replace.setObjectName("actionReplaceHead")
        replace.setEnabled(head is not None and bool(self.doc.project.data.get("dataset")))

    def _weighted(self, ids: list[str], trainable: bool) -> list[str]:
        """Those of `ids` that have parameters and are `trainable` now."""
        nodes, graph = self.doc.analysis.nodes, self.doc.graph
        return [i for i in ids if graph[i].trainable == trainable and i in nodes and nodes[i].params]

    def freeze_up_to(self, node_id: str) -> list[str]:
        """Freeze `node_id` and everything upstream that has weights; returns the nodes frozen."""
        ids = self._weighted(upstream(self.doc.graph, node_id), trainable=True)
        return self._set(ids, False, f"Freeze up to {node_id}")

    def unfreeze_all(self) -> list[str]:
        ids = self._weighted([n.id for n in self.doc.graph.nodes], trainable=False)
        return self._set(ids, True, "Unfreeze all")

    def _set(self, ids: list[str], trainable: bool, text: str) -> list[str]:
        if not ids or self.editor.refuse_if_locked(text):
            return []
        self.doc.push(SetTrainable(self.doc, dict.fromkeys(ids, trainable), text))
        self.window.show_message(f"{text}: {len(ids)} layer(s) {'unfrozen' if trainable else 'frozen'}")
        return ids

    def replace_head(self, node_id: str) -> bool:
        """Read the data set's class count in the background, then set the head's output size."""
        head = head_of(self.doc.graph, node_id)
        if head is None:
            self._refuse(f"{node_id}: no layer there sets an output size (select the last Linear or Conv)")
            return False
        project, analysis = self.doc.project, self.doc.analysis
        base = self.doc.path.resolve().parent if self.doc.path is not None else QtCore.QDir.currentPath()

        def work() -> int | Refusal:
            from engine.data.classes import class_count
            from engine.data.registry import DataError

            try:
                return class_count(project.data, project.graph, analysis, base)
            except DataError as exc:
                return Refusal(str(exc))
        self.window.show_message(f"Counting the classes of {project.data.get('dataset')}…", 0)
        Job(work, lambda result: self._set_head(head, result), self)
        return True

    def _set_head(self, head: tuple[str, str], result: Any) -> None:
        if isinstance(result, Refusal):
            self._refuse(result.message)
            return
        node_id, param = head
        if self.doc.graph.node(node_id) is None:
            return  # deleted meanwhile
        if self.doc.graph[node_id].values().get(param) == result:
            self.window.show_message(f"{node_id}.{param} is {result} already, the data set's class count")
        else:
            self.editor.set_param(node_id, param, result)
            self.window.show_message(f"Replace head: {node_id}.{param} = {result}, the data set's class count")
        self.head_replaced.emit((node_id, param, result))

    def _refuse(self, message: str) -> None:
        self.window.show_message(f"Replace head: {message}")
        self.head_replaced.emit(Refusal(message))
