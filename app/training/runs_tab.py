"""The Training panel's Runs tab: the runs kept for this design, newest first, ticked to overlay
their curves on the plots; export, resume and show the folder of the selected one (buttons, and a
run's context menu)."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.text_fit import WrappingDelegate
from app.training.runs import RunInfo

RUN_ROLE = QtCore.Qt.ItemDataRole.UserRole


class RunsTab:
    """The Runs tab of the TrainingPanel (a mixin of it: the panel declares the signals
    `overlays_changed` and `export_run_requested` and owns `tabs` and `_actions`)."""

    def _make_runs_tab(self) -> QtWidgets.QWidget:
        tab = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(tab)
        layout.setContentsMargins(2, 4, 2, 2)
        hint = QtWidgets.QLabel("Runs of this design, newest first. Tick runs to overlay their curves on the plots.")
        hint.setWordWrap(True)
        hint.setObjectName("derivedValue")
        layout.addWidget(hint)
        self.runs_list = QtWidgets.QTreeWidget()
        self.runs_list.setObjectName("runsList")
        self.runs_list.setHeaderHidden(True)
        self.runs_list.setRootIsDecorated(False)
        self.runs_list.setAlternatingRowColors(True)
        self.runs_list.setWordWrap(True)   # a long row wraps at a word, never "val accu…"
        self.runs_list.setItemDelegate(WrappingDelegate(self.runs_list))
        self.runs_list.itemChanged.connect(self._on_run_item_changed)
        self.runs_list.itemDoubleClicked.connect(lambda item, _c: self.export_run_requested.emit(item.data(0, RUN_ROLE)))
        self.runs_list.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.runs_list.customContextMenuRequested.connect(self._show_run_menu)
        layout.addWidget(self.runs_list, 1)
        row = QtWidgets.QHBoxLayout()
        self.export_button = QtWidgets.QPushButton("Export trained model…")
        self.export_button.setObjectName("exportRunButton")
        self.export_button.setToolTip("write the selected run's model as code plus its trained weights")
        self.export_button.clicked.connect(self._export_selected)
        self.folder_button = QtWidgets.QPushButton("Show folder")
        self.folder_button.setObjectName("showRunFolderButton")
        self.folder_button.clicked.connect(self._show_selected_folder)
        row.addWidget(self.export_button)
        row.addWidget(self.folder_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.runs_folder = QtWidgets.QLabel()
        self.runs_folder.setObjectName("derivedValue")
        self.runs_folder.setWordWrap(True)
        self.runs_folder.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.runs_folder)
        return tab


    def show_runs(self, runs: list[RunInfo], folder: Path | None, overlaid: set[Path] = frozenset()) -> None:
        self.runs_list.blockSignals(True)
        try:
            self.runs_list.clear()
            for run in runs:
                item = QtWidgets.QTreeWidgetItem([run.summary()])
                item.setData(0, RUN_ROLE, run)
                item.setToolTip(0, f"{run.summary()}\n{run.path}")
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, QtCore.Qt.CheckState.Checked if run.path in overlaid
                                   else QtCore.Qt.CheckState.Unchecked)
                if run.status == "failed":
                    item.setForeground(0, QtGui.QBrush(QtGui.QColor(255, 123, 123)))
                self.runs_list.addTopLevelItem(item)
            if runs:
                self.runs_list.setCurrentItem(self.runs_list.topLevelItem(0))
        finally:
            self.runs_list.blockSignals(False)
        self.runs_folder.setText(f"Kept in {folder}" if folder is not None else "")
        self.tabs.setTabText(1, f"Runs ({len(runs)})" if runs else "Runs")

    def runs(self) -> list[RunInfo]:
        return [self.runs_list.topLevelItem(i).data(0, RUN_ROLE) for i in range(self.runs_list.topLevelItemCount())]

    def set_overlay(self, path: Path, on: bool) -> None:
        for i in range(self.runs_list.topLevelItemCount()):
            item = self.runs_list.topLevelItem(i)
            if item.data(0, RUN_ROLE).path == path:
                item.setCheckState(0, QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)

    def overlaid(self) -> list[RunInfo]:
        out = []
        for i in range(self.runs_list.topLevelItemCount()):
            item = self.runs_list.topLevelItem(i)
            if item.checkState(0) == QtCore.Qt.CheckState.Checked:
                out.append(item.data(0, RUN_ROLE))
        return out

    def _on_run_item_changed(self, _item, _column) -> None:
        self.overlays_changed.emit(self.overlaid())

    def selected_run(self) -> RunInfo | None:
        item = self.runs_list.currentItem()
        return item.data(0, RUN_ROLE) if item is not None else None

    def run_menu(self, item: QtWidgets.QTreeWidgetItem) -> QtWidgets.QMenu:
        """A run's context menu: Resume Run (the window's action, which acts on the selected run),
        export, show the folder. The run is selected first, so that the actions act on it."""
        self.runs_list.setCurrentItem(item)
        menu = QtWidgets.QMenu(self.runs_list)
        menu.setObjectName("runMenu")
        menu.addAction(self._actions["resume"])
        menu.addSeparator()
        menu.addAction("Export trained model…", self._export_selected)
        menu.addAction("Show folder", self._show_selected_folder)
        return menu

    def _show_run_menu(self, pos: QtCore.QPoint) -> None:
        item = self.runs_list.itemAt(pos)
        if item is not None:
            menu = self.run_menu(item)
            menu.exec(self.runs_list.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def _export_selected(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.export_run_requested.emit(run)

    def _show_selected_folder(self) -> None:
        run = self.selected_run()
        if run is not None:
            QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(run.path)))
