"""A search in the background: Optuna's study filled by a QThread, one trial at a time (jobs=1).

The same path as `python main.py tune FILE --trials N` with one job (engine.tuning): the study
in the SQLite file beside the project (so a `tune` in a terminal can join it), the trials in
runs/<study>/trial-NNN. Torch and Optuna are imported on this thread, never on the GUI thread;
the GUI thread only receives one row per finished trial. Stop ends the run in flight (a failed
trial, "stopped") and starts no other.
"""
from __future__ import annotations

import copy
import threading
from pathlib import Path

from PySide6 import QtCore

from graph.project import from_dict, to_dict


class SearchThread(QtCore.QThread):
    trial_done = QtCore.Signal(object)   # engine.tuning.report.TrialRow
    failed = QtCore.Signal(str)          # the search could not go on: why

    def __init__(self, project, project_file: Path, trials: int, parent=None):
        super().__init__(parent)
        self.project = from_dict(copy.deepcopy(to_dict(project)))   # edits meanwhile do not reach it
        self.project_file = Path(project_file)
        self.trials = trials
        self.study_name = ""
        self._stop = threading.Event()
        self._trainer = None

    def stop(self) -> None:
        self._stop.set()
        trainer = self._trainer
        if trainer is not None:
            trainer.stop("stopped")

    def _on_trainer(self, trainer) -> None:
        self._trainer = trainer
        if self._stop.is_set():
            trainer.stop("stopped")

    def run(self) -> None:
        from engine.tuning.space import SearchError

        try:
            self._search()
        except SearchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 -- the window says what happened rather than lose the thread
            self.failed.emit(f"the search stopped: {type(exc).__name__}: {exc}")

    def _search(self) -> None:
        from engine.tuning.objective import Objective
        from engine.tuning.parallel import optimize
        from engine.tuning.space import parse_search
        from engine.tuning.study import default_storage, default_study_name, open_study

        spec = parse_search(self.project)
        self.study_name = default_study_name(self.project.name)
        study = open_study(spec, self.study_name, default_storage(self.project_file), self.project.name)
        runs_dir = self.project_file.resolve().parent / "runs" / self.study_name
        objective = Objective(self.project, spec, project_file=self.project_file, study_name=self.study_name,
                              runs_dir=runs_dir, on_trainer=self._on_trainer)

        def on_row(row) -> None:
            self.trial_done.emit(row)
            if self._stop.is_set():
                study.stop()

        if not self._stop.is_set():
            optimize(study, objective, self.trials, None, on_row)
