"""The problems panel: every diagnostic of the latest analysis; clicking one shows its node.

Its rows are the one count of problems: the status bar's figure is `tally()` of the rows shown
here (`changed` says when it moved), so the two can never disagree. An empty panel says so."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app import theme
from graph.analysis import Analysis, Diagnostic

NODE_ROLE = QtCore.Qt.ItemDataRole.UserRole
EDGE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
RUN_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2   # a training run's failure, not the design's
SEVERITY_ROLE = QtCore.Qt.ItemDataRole.UserRole + 3
EMPTY_TEXT = "No problems: every node is connected and its shape is known."


def _dot(rgb: tuple[int, int, int]) -> QtGui.QIcon:
    pixmap = QtGui.QPixmap(12, 12)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(*rgb))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QtGui.QIcon(pixmap)


class ProblemsPanel(QtWidgets.QTreeWidget):
    """Columns: node, problem (with the hint). Errors first, then warnings; a training run's
    failure (`show_run_problem`) comes first of all and stays until the next run starts."""

    node_activated = QtCore.Signal(str)
    setting_activated = QtCore.Signal(str)          # a training run's failure row: the key it names
    remove_wire_requested = QtCore.Signal(object)   # Edge
    delete_node_requested = QtCore.Signal(str)
    changed = QtCore.Signal()                       # the rows (and so `tally()`) changed

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Node", "Problem"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.header().setStretchLastSection(True)
        self.setColumnWidth(0, 160)
        self._icons = {"error": _dot(theme.ERROR_COLOR), "warning": _dot(theme.WARNING_COLOR)}
        self._shown: list[tuple] = []
        self.itemClicked.connect(self._on_clicked)
        self.itemActivated.connect(self._on_clicked)
        self.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self._deletable: set[str] = set()
        self._analysis: Analysis | None = None
        self._run_problems: list[tuple[str, str, str | None]] = []  # (where, message, node)

    def show_run_problem(self, where: str, message: str, node: str | None = None) -> None:
        """A training run failed: list why (it is not part of the design's analysis)."""
        self._run_problems = [(where, message, node)]
        self._redraw()

    def clear_run_problems(self) -> None:
        if self._run_problems:
            self._run_problems = []
            self._redraw()

    def run_problems(self) -> list[tuple[str, str, str | None]]:
        return list(self._run_problems)

    def _redraw(self) -> None:
        self._shown = None
        if self._analysis is not None:
            self.show_analysis(self._analysis, self._deletable)

    def show_analysis(self, analysis: Analysis, deletable: set[str] = frozenset()) -> None:
        """`deletable`: ids that a row may offer to delete (ids the Graph can address alone)."""
        self._deletable = set(deletable)
        self._analysis = analysis
        diagnostics = sorted(analysis.diagnostics, key=lambda d: d.severity != "error")
        key = [(d.severity, d.node, d.field, d.text()) for d in diagnostics] + list(self._run_problems)
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        items = []
        for where, message, node in self._run_problems:
            item = QtWidgets.QTreeWidgetItem([where, message])
            item.setIcon(0, self._icons["error"])
            item.setData(0, NODE_ROLE, node)
            item.setData(0, RUN_ROLE, True)
            item.setToolTip(1, f"training run: {message}")
            item.setData(0, SEVERITY_ROLE, "error")
            items.append(item)
        for d in diagnostics:
            items.append(self._item(d))
        self.addTopLevelItems(items)
        self.changed.emit()

    def status_text(self, parameters: int) -> str:
        """The status bar's line: the parameter total and this panel's rows, counted by severity."""
        tally = self.tally()
        errors, warnings = tally["error"], tally["warning"]
        state = (f"<span style='color:#ff6b6b'>{errors} problem{'s' if errors != 1 else ''}</span>" if errors
                 else "<span style='color:#6fcf7f'>valid</span>")
        if warnings:
            state += f" · <span style='color:#f0c060'>{warnings} warning{'s' if warnings != 1 else ''}</span>"
        return f"{parameters:,} parameters · {state}"

    def tally(self) -> dict[str, int]:
        """Rows shown, by severity: {"error": n, "warning": m} (a failed run's row is an error)."""
        counts = {"error": 0, "warning": 0}
        for i in range(self.topLevelItemCount()):
            severity = self.topLevelItem(i).data(0, SEVERITY_ROLE)
            counts[severity if severity in counts else "error"] += 1
        return counts

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        super().paintEvent(event)
        if self.topLevelItemCount() == 0 and self._analysis is not None:
            painter = QtGui.QPainter(self.viewport())
            painter.setPen(self.palette().color(QtGui.QPalette.ColorGroup.Disabled, QtGui.QPalette.ColorRole.Text))
            painter.drawText(self.viewport().rect().adjusted(8, 8, -8, -8),
                             QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap, EMPTY_TEXT)

    def _item(self, d: Diagnostic) -> QtWidgets.QTreeWidgetItem:
        where = d.where + (f".{d.field}" if d.field and d.field != "id" else "")
        item = QtWidgets.QTreeWidgetItem([where, d.text()])
        item.setIcon(0, self._icons.get(d.severity, self._icons["error"]))
        item.setData(0, NODE_ROLE, d.node)
        item.setData(0, EDGE_ROLE, d.edge)
        item.setData(0, SEVERITY_ROLE, d.severity)
        item.setToolTip(1, f"{d.severity}: {d.text()}")
        return item

    def actions_for(self, item: QtWidgets.QTreeWidgetItem) -> list[QtGui.QAction]:
        """What a right-click on a problem offers: mending what the canvas cannot show (a wire to
        a missing node or port, a node of an unknown type)."""
        actions = []
        if item.data(0, RUN_ROLE):
            return actions
        edge = item.data(0, EDGE_ROLE)
        if edge is not None:
            action = QtGui.QAction(f"Remove the wire {edge.src} → {edge.dst}", self)
            action.triggered.connect(lambda: self.remove_wire_requested.emit(edge))
            actions.append(action)
        node = item.data(0, NODE_ROLE)
        if isinstance(node, str) and node in self._deletable:
            action = QtGui.QAction(f"Delete the node {node}", self)
            action.triggered.connect(lambda: self.delete_node_requested.emit(node))
            actions.append(action)
        return actions

    def _context_menu(self, pos: QtCore.QPoint) -> None:
        item = self.itemAt(pos)
        actions = self.actions_for(item) if item is not None else []
        if actions:
            menu = QtWidgets.QMenu(self)
            menu.addActions(actions)
            menu.exec(self.viewport().mapToGlobal(pos))

    def rows(self) -> list[tuple[str, str]]:
        return [(self.topLevelItem(i).text(0), self.topLevelItem(i).text(1)) for i in range(self.topLevelItemCount())]

    def _on_clicked(self, item: QtWidgets.QTreeWidgetItem, _column: int = 0) -> None:
        node = item.data(0, NODE_ROLE)
        if node:
            self.node_activated.emit(node)
        elif item.data(0, RUN_ROLE):
            self.setting_activated.emit(item.text(0))
