"""Search and runs in the window: the `runsTable` dock, the `tunePanel` dock and `actionTune`.

    MainWindow ─► TuneController ─► RunsTable (bottom dock "Runs"): selected rows overlay their curves
                                └─► TunePanel (right dock "Search"): the search section, Start/Stop, trials

The table lists the runs of the design on disk (app.tuning.run_rows); it is refilled when the design
is opened or saved, when a training run ends and as each trial of a search finishes. The Search
panel's trials are the study's, read from its storage (every session's and process's trials) on a
background thread when the dock is shown, after each trial, and every few seconds while it shows.
"""
from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.background import Job, Refusal
from app.training.runs import read_overlay, runs_root
from app.tuning.commands import ApplyValues
from app.tuning.panel import TunePanel
from app.tuning.run_rows import design_runs
from app.tuning.runs_table import RunsTable
from engine.tuning.space import SearchError, apply, parse_search
from engine.tuning.study import OPTUNA_MISSING, default_storage, default_study_name

POLL_MS = 5000   # the storage is read this often while the Search dock shows (other processes' trials)


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
        QtCore.QTimer.singleShot(0, self, self.refresh_runs)

        self.thread = None
        self.best = None            # (trial number, params, value) of the study's best trial
        self._reading: tuple | None = None   # the (storage, study) being read, None when no read is in flight
        self._read_again = False
        self.panel = TunePanel(self.doc)
        scroll = QtWidgets.QScrollArea()   # its 300 px minimum would squeeze the Code dock below it
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(self.panel)
        self.dock = window._dock("tunePanel", "Search", scroll, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
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
        self.doc.replaced.connect(self._design_replaced)
        self.poll = QtCore.QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self.read_study)
        self.dock.visibilityChanged.connect(self._dock_shown)
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

        self.panel.set_study(spec.metric, spec.direction, [d.key for d in spec.dimensions])
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

    def _show_best(self) -> None:
        row = self.panel.best()
        self.best = (row.number, dict(row.params), row.value) if row is not None else None
        self.panel.apply_button.setEnabled(self.best is not None and self.thread is None)

    def _on_trial(self, row) -> None:
        self.panel.add_trial(row)
        self._show_best()
        self.refresh_runs()
        self.read_study()

    def _on_finished(self) -> None:
        thread, self.thread = self.thread, None
        self.panel.set_running(False)
        self._show_best()
        if not self.panel.status.text().startswith(("the search stopped", "search.", "--")):
            found = f"; best trial {self.best[0]}" if self.best is not None else ""
            self.panel.status.setText(f"Search ended: {len(self.panel.rows)} trial(s) in the study{found}")
        thread.deleteLater()
        self.refresh_runs()
        self.read_study()

    # -- the study as its storage holds it --------------------------------------------------
    def study_place(self) -> tuple[str, str] | None:
        """(storage URL, study name) of the design's search, as `tune` and the Start button use them."""
        if self.doc.path is None:
            return None
        return default_storage(self.doc.path), default_study_name(self.doc.project.name)

    def _dock_shown(self, visible: bool) -> None:
        self.panel.set_shown(visible)
        if visible:
            self.read_study()
            self.poll.start()
        else:
            self.poll.stop()

    def _design_replaced(self) -> None:
        self.panel.clear_trials()
        self._show_best()
        if self.dock.isVisible():
            self.read_study()

    def read_study(self) -> None:
        """Read the study's trials from its storage on a background thread (Optuna is imported there)."""
        place = self.study_place()
        if place is None or not optuna_available():
            return
        if self._reading is not None:
            self._read_again = True
            return
        self._reading = place

        def work():
            from engine.tuning.study import stored_study

            try:
                return stored_study(*place)
            except SearchError as exc:
                return Refusal(str(exc))

        Job(work, self._on_study_read, self)

    def _on_study_read(self, result) -> None:
        place, self._reading = self._reading, None
        if place == self.study_place():
            if isinstance(result, Refusal):
                self.panel.status.setText(result.message)
            elif result is not None:
                if result.metric is not None and self.thread is None:
                    keys = list(self.panel.keys)
                    with contextlib.suppress(SearchError):
                        keys = [d.key for d in parse_search(self.doc.project).dimensions]
                    self.panel.set_study(result.metric, result.direction, keys)
                self.panel.merge_trials(result.rows)
                self._show_best()
        if self._read_again:
            self._read_again = False
            self.read_study()

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
