"""The `runsTable`: every run of the design, training runs and search trials, in one sortable table.

Columns: the run, its kind (training, or study #trial), how it ended, epochs, seconds, its final
figures, then one column per setting that is not the same in every run listed (the settings all
runs share would only repeat themselves; the hint under the table counts them). Selecting several
rows marks the settings that differ *between them* (amber cells, the column's header bold) and
asks for their curves overlaid (`overlays_changed`), drawn by the plots' existing overlay path.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.training.runs import RunInfo
from app.tuning.run_rows import RunRow, differing, figure_columns

ROW_ROLE = QtCore.Qt.ItemDataRole.UserRole
FIXED = ("run", "kind", "status", "epochs", "seconds")
DIFFERS = QtGui.QColor(120, 95, 20)


class _Item(QtWidgets.QTableWidgetItem):
    """A cell that sorts by its number where it has one (missing values last)."""

    def __init__(self, text: str, number: float | None = None):
        super().__init__(text)
        self.number = number
        self.setFlags(self.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        mine, theirs = self.number, getattr(other, "number", None)
        if mine is not None or theirs is not None:
            if mine is None or theirs is None:
                return theirs is None and mine is not None
            return mine < theirs
        return self.text() < other.text()


def _text(value) -> tuple[str, float | None]:
    if isinstance(value, bool) or value is None:
        return json.dumps(value), None
    if isinstance(value, (int, float)):
        return (f"{value:.4g}" if isinstance(value, float) else str(value)), float(value)
    return (value if isinstance(value, str) else json.dumps(value)), None


class RunsTable(QtWidgets.QWidget):
    overlays_changed = QtCore.Signal(list)   # [RunInfo]: the selected runs

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.table = QtWidgets.QTableWidget()
        self.table.setObjectName("runsTable")
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._on_selection)
        layout.addWidget(self.table, 1)
        self.hint = QtWidgets.QLabel()
        self.hint.setObjectName("derivedValue")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.rows: list[RunRow] = []
        self.settings: list[str] = []

    def show_rows(self, rows: list[RunRow], folder: Path | None = None) -> None:
        """Fill the table (newest first), keeping the selection of runs still there."""
        keep = {r.run.path for r in self.selected_rows()}
        self.rows = rows
        figures = figure_columns(rows)
        every = sorted({k for r in rows for k in r.settings})
        self.settings = differing(rows) if len(rows) > 1 else every
        table = self.table
        table.blockSignals(True)
        table.setSortingEnabled(False)
        table.clear()
        table.setColumnCount(len(FIXED) + len(figures) + len(self.settings))
        table.setHorizontalHeaderLabels([*FIXED, *figures, *self.settings])
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            run = row.run
            name = _Item(run.name)
            name.setData(ROW_ROLE, row)
            name.setToolTip(str(run.path))
            cells = [name, _Item(row.kind), _Item(run.reason or run.status if run.status != "failed" else "failed"),
                     _Item(str(run.epochs_done), run.epochs_done), _Item(f"{run.seconds:.1f}", run.seconds)]
            for key in figures:
                value = run.final.get(key)
                ok = isinstance(value, (int, float)) and math.isfinite(value)
                shown = (f"{value * 100:.2f}%" if key.endswith("accuracy") else f"{value:.4g}") if ok else "-"
                cells.append(_Item(shown, float(value) if ok else None))
            for key in self.settings:
                cells.append(_Item(*_text(row.settings[key])) if key in row.settings else _Item("-"))
            if run.status == "failed":
                cells[2].setToolTip(run.error)
            for j, cell in enumerate(cells):
                table.setItem(i, j, cell)
        table.setSortingEnabled(True)
        table.resizeColumnsToContents()
        for i in range(table.rowCount()):
            if table.item(i, 0).data(ROW_ROLE).run.path in keep:
                table.selectRow(i)
        table.blockSignals(False)
        hidden = len(every) - len(self.settings) if len(rows) > 1 else 0
        where = f" · kept in {folder}" if folder is not None else ""
        self.hint.setText(f"{len(rows)} run(s); {hidden} setting(s) the same in all of them not shown; select "
                          f"several to overlay their curves and mark what differs{where}")
        self._mark()

    def selected_rows(self) -> list[RunRow]:
        picked = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.table.item(i, 0).data(ROW_ROLE) for i in picked]

    def differing_columns(self) -> list[str]:
        """The settings marked as differing between the selected runs."""
        picked = self.selected_rows()
        return [k for k in differing(picked) if k in self.settings] if len(picked) > 1 else []

    def _mark(self) -> None:
        marked = set(self.differing_columns())
        selected = {r.run.path for r in self.selected_rows()}
        first = self.table.columnCount() - len(self.settings)
        for j, key in enumerate(self.settings, start=first):
            header = self.table.horizontalHeaderItem(j)
            font = header.font()
            font.setBold(key in marked)
            header.setFont(font)
            for i in range(self.table.rowCount()):
                on = key in marked and self.table.item(i, 0).data(ROW_ROLE).run.path in selected
                self.table.item(i, j).setBackground(QtGui.QBrush(DIFFERS) if on else QtGui.QBrush())

    def _on_selection(self) -> None:
        self._mark()
        self.overlays_changed.emit([r.run for r in self.selected_rows()])

    def runs(self) -> list[RunInfo]:
        return [r.run for r in self.rows]
