"""Search and runs in the window: the `runsTable` dock, the `tunePanel` dock and `actionTune`.

    MainWindow ─► TuneController ─► RunsTable (bottom dock "Runs"): selected rows overlay their curves
                                └─► TunePanel (right dock "Search"): the search section, Start/Stop, trials

The table lists the runs of the design on disk (app.tuning.run_rows); it is refilled when the design
is opened or saved, when a training run ends and as each trial of a search finishes.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.training.runs import read_overlay, runs_root
from app.tuning.commands import ApplyValues
from app.tuning.panel import TunePanel
from app.tuning.run_rows import design_runs
from app.tuning.runs_table import RunsTable
from engine.tuning.space import SearchError, apply, parse_search
from engine.tuning.study import OPTUNA_MISSING


def optuna_available() -> bool:
    """Whether Optuna is installed, without importing it (that is for the search's thread)."""
    return importlib.util.find_spec("optuna") is not None


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

        self.thread = None
        self.best = None            # (trial number, params) of the best trial seen
        self.panel = TunePanel(self.doc)
        self.dock = window._dock("tunePanel", "Search", self.panel, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        window.tabifyDockWidget(window.docks["trainingPanel"], self.dock)
        window.docks["propertiesPanel"].raise_()
        self.action = QtGui.QAction("&Search…", window)
        self.action.setObjectName("actionTune")
        self.action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+T"))
        self.action.setStatusTip("Search training settings and the network's shape with Optuna (the tune command)")
        self.action.triggered.connect(self.open)
        window.addAction(self.action)
        self.panel.start_requested.connect(self.start)
        self.panel.stop_requested.connect(self.stop)
        self.panel.apply_requested.connect(self.apply_best)
        self.doc.replaced.connect(self.stop)
        window.installEventFilter(self)

    # -- search ------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.panel.status.setText(text)
        self.window.show_message(text)

    def open(self) -> bool:
        """actionTune: the Search dock, or the line that installs Optuna."""
        if not optuna_available():
            self._say(OPTUNA_MISSING)
            return False
        self.dock.show()
        self.dock.raise_()
        self.panel.ensure_plot()
        return True

    def start(self, trials: int) -> bool:
        if self.thread is not None:
            return False
        if not optuna_available():
            self._say(OPTUNA_MISSING)
            return False
        if self.doc.path is None:
            self._say("Save the design first: a search keeps its trials in runs/<study> beside the file")
            return False
        if self.training.running:
            self._say("A training run is in progress; start the search when it has ended")
            return False
        try:
            spec = parse_search(self.doc.project)
        except SearchError as exc:
            self._say(str(exc))
            return False
        from app.tuning.worker import SearchThread

        self.best = None
        self.panel.direction = spec.direction
        self.panel.clear_trials([d.key for d in spec.dimensions], spec.metric)
        self.spec = spec
        self.thread = SearchThread(self.doc.project, self.doc.path, trials, self)
        self.thread.trial_done.connect(self._on_trial)
        self.thread.failed.connect(self._say)
        self.thread.finished.connect(self._on_finished)
        self.panel.set_running(True)
        self.panel.status.setText(f"Searching: {trials} trial(s), {spec.direction} {spec.metric}…")
        self.thread.start(QtCore.QThread.Priority.LowPriority)
        return True

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.panel.status.setText("Stopping after the step in flight…")

    @property
    def searching(self) -> bool:
        return self.thread is not None

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best[2] if self.spec.direction == "maximize" else value < self.best[2]

    def _on_trial(self, row) -> None:
        if row.state == "done" and row.value is not None and self._better(row.value):
            self.best = (row.number, dict(row.params), row.value)
        self.panel.add_trial(row, self.best)
        self.refresh_runs()

    def _on_finished(self) -> None:
        thread, self.thread = self.thread, None
        best = thread.best
        if best is not None:
            self.best = (best.number, dict(best.params), best.value)
        self.panel.set_running(False)
        self.panel.apply_button.setEnabled(self.best is not None)
        if not self.panel.status.text().startswith(("the search stopped", "search.", "--")):
            found = f"; best trial {self.best[0]}" if self.best is not None else ""
            self.panel.status.setText(f"Search ended: {len(self.panel.rows)} trial(s){found}")
        thread.deleteLater()
        self.refresh_runs()

    def apply_best(self) -> bool:
        """The best trial's values on the design, as one undoable edit."""
        if self.best is None:
            return False
        number, params, _value = self.best
        try:
            target = apply(self.doc.project, params)
        except (KeyError, ValueError) as exc:
            self._say(f"Cannot apply trial {number}: {exc} (the design changed since the search)")
            return False
        return self.doc.push(ApplyValues(self.doc, target, list(params), f"Apply best trial {number}"))

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QtCore.QEvent.Type.Close and self.thread is not None:
            self.thread.stop()
            self.thread.wait()
        return False

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
