"""The Training panel's "Start from weights" group: `training.initial_weights` shown and edited
(docs/training.md, "Transfer learning").

The key is a file (`"w.safetensors"`) or `{"path", "nodes"}` (engine.training.settings): the
nodes named take their tensors from the file, the others start fresh. The group lists the
design's nodes that have weights, each with a check box; all checked writes the short form (every
node the file has weights for), fewer writes `nodes`. Every change is one SetSection, through the
form's `_write`, so it is undoable like the other settings.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from app.document import Document
from graph.project import Project

WEIGHTS_FILTER = "Weights (*.safetensors *.pt *.pth);;All files (*)"
KEY = "initial_weights"


def read_initial_weights(training: dict[str, Any]) -> tuple[str | None, list[str] | None]:
    """(path, nodes) of the key in either form; (None, None) when absent or not readable as either."""
    value = training.get(KEY)
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict) and isinstance(value.get("path"), str):
        nodes = value.get("nodes")
        return value["path"], list(nodes) if isinstance(nodes, list) else None
    return None, None


def anchor_initial_weights(project: Project, folder: Path) -> None:
    """Make a relative weights path absolute from `folder`: an example opened as an untitled copy has
    no folder of its own, and its weights file lies beside the example."""
    path, nodes = read_initial_weights(project.training)
    if path is None or Path(path).expanduser().is_absolute():
        return
    path = str(folder.resolve() / path)
    project.training[KEY] = path if nodes is None else {"path": path, "nodes": nodes}


class InitialWeightsGroup(QtWidgets.QGroupBox):
    """The file (with … to choose it and × to clear it) and the nodes that take it."""

    def __init__(self, doc: Document, write: Callable[[str, Callable[[dict[str, Any]], None], str, str | None], None]):
        super().__init__("Start from weights")
        self.setObjectName("trainingWeightsGroup")
        self.doc, self._write = doc, write
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(6, 4, 6, 6)
        form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)
        self.path = QtWidgets.QLineEdit(objectName="training_initial_weights")
        self.path.setPlaceholderText("none: the weights start random")
        self.path.setToolTip("training.initial_weights: a .safetensors or state-dict .pt file, relative to the "
                             ".loom file; training starts from its weights (transfer learning)")
        self.path.editingFinished.connect(lambda: self.set_path(self.path.text().strip() or None))
        browse = QtWidgets.QToolButton(text="…", toolTip="choose the weights file")
        browse.clicked.connect(self._browse)
        clear = QtWidgets.QToolButton(text="×", objectName="clearInitialWeights", toolTip="start from random weights")
        clear.clicked.connect(lambda: self.set_path(None))
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        row.addWidget(clear)
        form.addRow("file", row)
        self.problem = QtWidgets.QLabel(objectName="problemText")
        self.problem.setWordWrap(True)
        self.problem.hide()
        form.addRow(self.problem)
        self.nodes = QtWidgets.QListWidget(objectName="initialWeightsNodes")
        self.nodes.setToolTip("the layers that take their weights from the file (unchecked: they start random, "
                              "e.g. a replaced head)")
        self.nodes.setMaximumHeight(140)
        self.nodes.itemChanged.connect(self._on_node_toggled)
        form.addRow("layers", self.nodes)

    # -- edits -------------------------------------------------------------------------
    def set_path(self, path: str | None) -> None:
        _old, nodes = read_initial_weights(self.doc.project.training)

        def mutate(d: dict[str, Any]) -> None:
            if path is None:
                d.pop(KEY, None)
            else:
                d[KEY] = path if nodes is None else {"path": path, "nodes": nodes}
        self._write("training", mutate, "Clear training.initial_weights" if path is None
                    else "Set training.initial_weights", None)

    def set_nodes(self, chosen: list[str] | None) -> None:
        """Which nodes take the file's weights (None: every node it has weights for)."""
        path, _nodes = read_initial_weights(self.doc.project.training)
        if path is None:
            return

        def mutate(d: dict[str, Any]) -> None:
            d[KEY] = path if chosen is None else {"path": path, "nodes": chosen}
        self._write("training", mutate, "Set training.initial_weights.nodes", None)

    def _on_node_toggled(self, _item: QtWidgets.QListWidgetItem) -> None:
        items = [self.nodes.item(i) for i in range(self.nodes.count())]
        chosen = [i.data(QtCore.Qt.ItemDataRole.UserRole) for i in items
                  if i.checkState() == QtCore.Qt.CheckState.Checked]
        self.set_nodes(None if len(chosen) == len(items) else chosen)

    def _browse(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Weights to start from", start, WEIGHTS_FILTER)
        if not path:
            return
        path = self.doc.relative_path(path)
        self.set_path(path)

    # -- the project -> the group ------------------------------------------------------
    def show_values(self) -> None:
        path, nodes = read_initial_weights(self.doc.project.training)
        if not self.path.hasFocus():
            self.path.setText(path or "")
        analysis = self.doc.analysis.nodes
        weighted = [n.id for n in self.doc.graph.nodes   # a broken file's id may be a list: skip it
                    if isinstance(n.id, str) and n.id in analysis and analysis[n.id].params]
        with QtCore.QSignalBlocker(self.nodes):
            self.nodes.clear()
            for node_id in weighted:
                item = QtWidgets.QListWidgetItem(node_id)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, node_id)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
                on = nodes is None or node_id in nodes
                item.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
                self.nodes.addItem(item)
        self.nodes.setEnabled(path is not None)
        missing = path is not None and not self._resolve(path).is_file()
        self.problem.setText(f"{path} is not there: training will stop at its start; choose the file or clear it"
                             if missing else "")
        self.problem.setVisible(missing)

    def _resolve(self, path: str) -> Path:
        found = Path(path).expanduser()
        if found.is_absolute():
            return found
        return (self.doc.path.resolve().parent if self.doc.path is not None else Path.cwd()) / found
