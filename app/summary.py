"""The summary panel: totals (parameters, MACs, validity, memory) and a table of every node."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app.frozen_badge import ICE
from engine.memory import available_bytes
from graph.analysis import Analysis
from graph.footprint import footprint, size_text
from graph.model import Graph
from graph.shape_text import node_shape_text

HEADERS = ("Node", "Type", "Output shape", "Parameters")
_ROOT = QtCore.QModelIndex()


class _NodeTable(QtCore.QAbstractTableModel):
    """Rows are computed when the view asks for them, so a 1,000-node design costs nothing per edit."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graph: Graph | None = None
        self.analysis: Analysis | None = None
        self._ids: list[str] = []

    def reset(self, graph: Graph, analysis: Analysis) -> None:
        self.beginResetModel()
        self.graph, self.analysis = graph, analysis
        self._ids = [n.id for n in graph.nodes]
        self.endResetModel()

    def rowCount(self, parent=_ROOT):
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent=_ROOT):
        return len(HEADERS)

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if role == QtCore.Qt.ItemDataRole.DisplayRole and orientation == QtCore.Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node_id = self._ids[index.row()]
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole and index.column() == 3:
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        if role not in (QtCore.Qt.ItemDataRole.DisplayRole, QtCore.Qt.ItemDataRole.ForegroundRole):
            return None
        node = self.graph.node(node_id)
        info = self.analysis.nodes.get(node_id)
        known = info is not None and info.outputs is not None
        frozen = known and node is not None and not node.trainable and info.params > 0
        if role == QtCore.Qt.ItemDataRole.ForegroundRole:  # frozen rows in the canvas's ice blue
            return QtGui.QColor(ICE) if frozen else None
        column = index.column()
        if column == 0:
            return node_id
        if column == 1:
            return node.type if node else ""
        if column == 2:
            return node_shape_text(info)
        return (f"{info.params:,}" + (" (frozen)" if frozen else "")) if known else "?"

    def node_at(self, row: int) -> str:
        return self._ids[row]


class SummaryPanel(QtWidgets.QWidget):
    node_activated = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.totals = QtWidgets.QLabel()
        self.totals.setObjectName("summaryTotals")
        self.totals.setWordWrap(True)
        self.model = _NodeTable(self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.clicked.connect(lambda index: self.node_activated.emit(self.model.node_at(index.row())))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.totals)
        layout.addWidget(self.table)

    def show_analysis(self, graph: Graph, analysis: Analysis) -> None:
        frozen = sum(analysis.nodes[n.id].params for n in graph.nodes
                     if not n.trainable and isinstance(n.id, str) and n.id in analysis.nodes)
        errors, warnings = len(analysis.errors), len(analysis.diagnostics) - len(analysis.errors)
        state = ("<span style='color:#6fcf7f'>valid</span>" if analysis.valid
                 else f"<span style='color:#ff6b6b'>{errors} problem(s)</span>")
        if warnings:
            state += f", {warnings} warning(s)"
        text = (f"<b>{analysis.total_params:,}</b> parameters"
                + (f" ({frozen:,} frozen)" if frozen else "")
                + f" · {analysis.total_macs:,} MACs per sample · {len(graph.nodes)} nodes · {state}")
        self.totals.setText(f"{text}<br/>{memory_text(analysis, available_bytes())}")
        self.model.reset(graph, analysis)


def memory_text(analysis: Analysis, available: int | None) -> str:
    """The memory line, the figures of `check` (graph/footprint.py): weights, activations per sample,
    training with Adam, and the largest training batch that fits in this machine's free RAM."""
    total = footprint(analysis)
    text = (f"Memory: {size_text(total.weights)} of weights · {size_text(total.per_sample)} of activations "
            f"per sample · training (Adam) {size_text(total.fixed(True))} + {size_text(total.sample(True))} "
            "per sample")
    if available is not None:
        text += (f" · largest training batch in {size_text(available)} of free RAM: "
                 f"{total.largest_batch(available, True):,}")
    return text
