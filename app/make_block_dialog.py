"""The Make Block dialog (the new block's name and which layer values become block parameters)
and the Rename Block dialog; both refuse a name that cannot be a block's in place.

Each parameter of the selected layers is a checkable row "node · parameter = value"; a checked
row becomes a block parameter (rows of one name and one value share one: `out_channels` of conv1
and conv2). The layers' size parameters (`out_channels`, `out_features`: LayerType.size_param)
start checked, since the size is what changes between the uses of a block. Advanced parameters
are listed only where the layer sets them.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.properties import value_text
from graph.blocks import Blocks, name_problem
from graph.model import Graph

SLOT_ROLE = QtCore.Qt.ItemDataRole.UserRole


class MakeBlockDialog(QtWidgets.QDialog):
    def __init__(self, graph: Graph, node_ids: list[str], suggested: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("makeBlockDialog")
        self.setWindowTitle("Make block")
        self.graph = graph
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel(f"{len(node_ids)} layer(s) become one block node; "
                                          "its definition can be entered and edited (double-click)."))
        form = QtWidgets.QFormLayout()
        self.name_edit = QtWidgets.QLineEdit(suggested)
        self.name_edit.setObjectName("blockName")
        self.name_edit.setToolTip("the block's class name in exported code, e.g. BasicBlock")
        self.name_edit.selectAll()
        form.addRow("Name", self.name_edit)
        layout.addLayout(form)
        self.name_problem = _problem_label()
        layout.addWidget(self.name_problem)
        layout.addWidget(QtWidgets.QLabel("Block parameters (checked values can differ between the block's uses):"))
        self.rows = QtWidgets.QTreeWidget()
        self.rows.setObjectName("blockParams")
        self.rows.setHeaderLabels(["parameter", "value"])
        self.rows.setRootIsDecorated(False)
        for node_id in node_ids:
            self._add_rows(node_id)
        self.rows.resizeColumnToContents(0)
        layout.addWidget(self.rows, 1)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Make block")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._check_name)
        self._check_name(suggested)
        self.resize(440, 420)

    def _add_rows(self, node_id: str) -> None:
        node = self.graph[node_id]
        layer = self.graph.layer_of(node)
        if layer is None:
            return
        values = layer.resolve(node.params)[0] if layer.params else {}
        for param in layer.params:
            if param.advanced and param.name not in node.params:
                continue
            row = QtWidgets.QTreeWidgetItem([f"{node_id} · {param.name}", value_text(values.get(param.name))])
            row.setData(0, SLOT_ROLE, (node_id, param.name))
            row.setToolTip(0, param.help)
            row.setFlags(row.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            checked = param.name == layer.size_param
            row.setCheckState(0, QtCore.Qt.CheckState.Checked if checked else QtCore.Qt.CheckState.Unchecked)
            self.rows.addTopLevelItem(row)

    def _check_name(self, text: str) -> None:
        _show_problem(name_problem(text.strip(), self.graph.blocks), self.name_problem, self.buttons)

    def name(self) -> str:
        return self.name_edit.text().strip()

    def marked(self) -> set[tuple[str, str]]:
        """(node id, parameter) of every checked row."""
        out = set()
        for i in range(self.rows.topLevelItemCount()):
            row = self.rows.topLevelItem(i)
            if row.checkState(0) == QtCore.Qt.CheckState.Checked:
                out.add(tuple(row.data(0, SLOT_ROLE)))
        return out

    def set_marked(self, slots: set[tuple[str, str]]) -> None:
        """Check exactly these rows (tests and scripted use)."""
        for i in range(self.rows.topLevelItemCount()):
            row = self.rows.topLevelItem(i)
            on = tuple(row.data(0, SLOT_ROLE)) in slots
            row.setCheckState(0, QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)


class RenameBlockDialog(QtWidgets.QDialog):
    """A block's new name: every use takes it (the caller renames on `accepted`)."""

    def __init__(self, blocks: Blocks, old: str, uses: int, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("renameBlockDialog")
        self.setWindowTitle(f"Rename block {old}")
        self.blocks, self.old = blocks, old
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel(f"The block's class name in exported code; its {uses} use(s) follow."))
        self.name_edit = QtWidgets.QLineEdit(old)
        self.name_edit.setObjectName("blockName")
        self.name_edit.selectAll()
        layout.addWidget(self.name_edit)
        self.problem = _problem_label()
        layout.addWidget(self.problem)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Rename")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._check_name)
        self._check_name(old)
        self.setMinimumWidth(440)

    def _check_name(self, text: str) -> None:
        unchanged = text.strip() == self.old
        _show_problem(None if unchanged else name_problem(text.strip(), self.blocks), self.problem, self.buttons)
        if unchanged:
            self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.adjustSize()  # room for the wrapped message, or none

    def name(self) -> str:
        return self.name_edit.text().strip()


def _problem_label() -> QtWidgets.QLabel:
    label = QtWidgets.QLabel()
    label.setObjectName("problemText")
    label.setWordWrap(True)
    label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    return label


def _show_problem(problem: str | None, label: QtWidgets.QLabel, buttons: QtWidgets.QDialogButtonBox) -> None:
    """A name that cannot be a block's: said under the field, and OK disabled."""
    label.setText(problem or "")
    label.setVisible(bool(problem))
    buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
