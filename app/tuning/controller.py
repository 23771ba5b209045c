"""Search and runs in the window: the `runsTable` dock, the `tunePanel` dock and `actionTune`.

    MainWindow ─► TuneController ─► RunsTable (bottom dock "Runs"): selected rows overlay their curves
                                └─► TunePanel (right dock "Search"): the search section, Start/Stop, trials

The table lists the runs of the design on disk (app.tuning.run_rows); it is refilled when the design
is opened or saved, when a training run ends and as each trial of a search finishes.
"""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from app.training.runs import read_overlay, runs_root
from app.tuning.run_rows import design_runs
from app.tuning.runs_table import RunsTable


class TuneController(QtCore.QObject):
    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window = window
        self.doc = window.doc
        self.training = window.training
        self.table = RunsTable()
        self._overlays: dict[Path, object] = {}
        self.runs_dock = window._dock("runsPanel", "Runs", self.table, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        window.tabifyDockWidget(window.docks["problemsPanel"], self.runs_dock)
        window.docks["problemsPanel"].raise_()
        self.table.overlays_changed.connect(self.overlay)
        self.doc.replaced.connect(self.refresh_runs)
        self.doc.dirty_changed.connect(lambda _dirty: self.refresh_runs())
        self.training.run_ended.connect(lambda _event: self.refresh_runs())
        QtCore.QTimer.singleShot(0, self.refresh_runs)

    def runs_folder(self) -> Path:
        return runs_root(self.doc.path, self.training.user_runs_dir)

    def refresh_runs(self) -> None:
        root = self.runs_folder()
        self.table.show_rows(design_runs(root, self.doc.path, self.doc.project.name), root)

    def overlay(self, runs: list) -> None:
        """The selected runs' curves on the loss and metric plots (the plots' overlay path)."""
        if not runs and self.training.plots is None:
            return
        overlays = []
        for run in runs:
            if run.path not in self._overlays:
                self._overlays[run.path] = read_overlay(run)
            overlays.append(self._overlays[run.path])
        self.training.ensure_plots().set_overlays(overlays)
