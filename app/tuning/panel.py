"""The `tunePanel`: the design's search section as rows, Start/Stop, trials as they arrive, Apply best.

Rows are (key, kind, range); a change of any cell, Add or Remove is one undoable `SetSearch`, and
the section is checked as it is edited by the same torch-free reader the `tune` command uses
(engine.tuning.space.parse_search), its message shown under the rows. The trials are the study's
as its storage holds them (every session's and process's, merged by trial number); the trials plot
(app.tuning.trial_plot, pyqtgraph) is made when the panel is first shown, never at start-up.
"""
from __future__ import annotations

import copy
import json

from PySide6 import QtCore, QtWidgets

from app.tuning.candidates import candidates, with_key, without_keys
from app.tuning.commands import SetSearch
from engine.tuning.report import best_row, format_value
from engine.tuning.space import SearchError, parse_search

METRICS = ("val_loss", "val_accuracy", "train_loss", "train_accuracy", "val_mae")
KIND_NAMES = ("uniform", "log_uniform", "int", "int log", "choice")


def _kind_of(value: dict) -> tuple[str, object]:
    kind = next((k for k in ("uniform", "log_uniform", "int", "choice") if k in value), "uniform")
    return ("int log" if kind == "int" and value.get("log") else kind), value.get(kind)


class TunePanel(QtWidgets.QWidget):
    start_requested = QtCore.Signal(int)   # trials
    stop_requested = QtCore.Signal()
    apply_requested = QtCore.Signal()

    def __init__(self, doc, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tunePanelWidget")
        self.doc = doc
        self.rows: list = []          # TrialRow of the study, by trial number
        self.metric_name, self.direction, self.keys = "val_loss", "minimize", []
        self.plot = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Metric"))
        self.metric_box = QtWidgets.QComboBox()
        self.metric_box.setObjectName("searchMetric")
        self.metric_box.setEditable(True)
        self.metric_box.addItems(METRICS)
        narrow_combo(self.metric_box)
        self.metric_box.activated.connect(lambda _i: self._commit("Set search metric"))
        top.addWidget(self.metric_box, 1)
        layout.addLayout(top)

        self.space = QtWidgets.QTableWidget(0, 3)
        self.space.setObjectName("searchSpaceTable")
        self.space.setHorizontalHeaderLabels(["key", "kind", "range or choices"])
        self.space.horizontalHeader().setStretchLastSection(True)
        self.space.verticalHeader().hide()
        self.space.itemChanged.connect(lambda _item: self._commit("Edit search range"))
        layout.addWidget(self.space, 1)
        add = QtWidgets.QHBoxLayout()
        self.add_box = QtWidgets.QComboBox()
        self.add_box.setObjectName("searchAddKey")
        self.add_box.setToolTip("a training setting or node parameter to search")
        narrow_combo(self.add_box)
        add.addWidget(self.add_box, 1)
        self.add_button = QtWidgets.QPushButton("Add parameter")
        self.add_button.setObjectName("searchAddButton")
        self.add_button.clicked.connect(lambda: self.add_key(self.add_box.currentText()))
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        add.addWidget(self.add_button)
        add.addWidget(self.remove_button)
        layout.addLayout(add)
        self.problem = QtWidgets.QLabel()
        self.problem.setObjectName("searchProblem")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)

        run = QtWidgets.QHBoxLayout()
        run.addWidget(QtWidgets.QLabel("Trials"))
        self.trials_box = QtWidgets.QSpinBox()
        self.trials_box.setObjectName("searchTrials")
        self.trials_box.setRange(1, 10_000)
        self.trials_box.setValue(20)
        run.addWidget(self.trials_box)
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setObjectName("searchStart")
        self.start_button.clicked.connect(lambda: self.start_requested.emit(self.trials_box.value()))
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setObjectName("searchStop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.apply_button = QtWidgets.QPushButton("Apply best")
        self.apply_button.setObjectName("searchApplyBest")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_requested.emit)
        for button in (self.start_button, self.stop_button, self.apply_button):
            run.addWidget(button)
        layout.addLayout(run)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("searchStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.trials = QtWidgets.QTableWidget(0, 0)
        self.trials.setObjectName("tuneTrialsTable")
        self.trials.verticalHeader().hide()
        self.trials.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.trials, 1)
        self.plot_host = QtWidgets.QVBoxLayout()
        layout.addLayout(self.plot_host, 1)

        doc.settings_changed.connect(lambda section: self.show_section() if section == "search" else None)
        # the keys Add offers (every node parameter: 0.1 s at 5,000 nodes) are listed while the
        # dock shows (`set_shown`), once per change of the design, never for a hidden panel
        self.shown = False
        self._candidates_stale = True
        self._candidates_timer = QtCore.QTimer(self)
        self._candidates_timer.setSingleShot(True)
        self._candidates_timer.setInterval(0)  # `replaced` and `analysed` of one open: one listing
        self._candidates_timer.timeout.connect(self._fill_candidates)
        doc.replaced.connect(self.show_section)
        doc.analysed.connect(lambda _a: self._candidates_changed())
        self.show_section()

    # -- the search section --------------------------------------------------------------
    def section(self) -> dict | None:
        value = self.doc.project.extra.get("search")
        return value if isinstance(value, dict) else None

    def show_section(self) -> None:
        section = self.section() or {}
        self.space.blockSignals(True)
        space = section.get("space") if isinstance(section.get("space"), dict) else {}
        self.space.setRowCount(len(space))
        for i, (key, value) in enumerate(space.items()):
            kind, bounds = _kind_of(value if isinstance(value, dict) else {})
            key_item = QtWidgets.QTableWidgetItem(key)
            key_item.setFlags(key_item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
            self.space.setItem(i, 0, key_item)
            self.space.setItem(i, 1, QtWidgets.QTableWidgetItem(kind))
            self.space.setItem(i, 2, QtWidgets.QTableWidgetItem(json.dumps(bounds)))
        self.space.resizeColumnToContents(0)
        self.space.blockSignals(False)
        self.metric_box.setCurrentText(str(section.get("metric", "val_loss")))
        self._check()
        self._candidates_changed()

    def _candidates_changed(self) -> None:
        self._candidates_stale = True
        if self.shown:
            self._candidates_timer.start()

    def set_shown(self, shown: bool) -> None:
        """The dock's tab was chosen (or left): a panel tabbed behind another is still "visible" to Qt."""
        self.shown = shown
        self._fill_candidates()

    def _fill_candidates(self) -> None:
        if not self._candidates_stale or not self.shown:
            return
        self._candidates_stale = False
        taken = {self.space.item(i, 0).text() for i in range(self.space.rowCount())}
        keys = [key for key, _p, _v in candidates(self.doc.project) if key not in taken]
        if keys != [self.add_box.itemText(i) for i in range(self.add_box.count())]:
            self.add_box.clear()
            self.add_box.addItems(keys)

    def _check(self) -> None:
        if self.section() is None:
            self.problem.setText("No search section yet: add a parameter to search.")
            return
        try:
            spec = parse_search(self.doc.project)
        except SearchError as exc:
            self.problem.setText(str(exc))
            return
        self.problem.setText(f"{len(spec.dimensions)} key(s), {spec.direction} {spec.metric}")

    def _space_from_rows(self) -> dict:
        space = {}
        for i in range(self.space.rowCount()):
            key, kind, text = (self.space.item(i, j).text() if self.space.item(i, j) else "" for j in range(3))
            try:
                bounds = json.loads(text)
            except ValueError:
                bounds = text   # kept as typed; the check says what is wrong with it
            space[key] = {"int": bounds, "log": True} if kind == "int log" else {kind: bounds}
        return space

    def _commit(self, text: str) -> None:
        section = copy.deepcopy(self.section() or {})
        section["space"] = self._space_from_rows()
        metric = self.metric_box.currentText().strip()
        if metric and metric != section.get("metric", "val_loss"):
            section["metric"] = metric
            section.pop("direction", None)   # the metric's own default direction
        if section != self.section():
            self.doc.push(SetSearch(self.doc, section, text))

    def add_key(self, key: str) -> None:
        section = with_key(self.doc.project, key)
        if section is not None:
            self.doc.push(SetSearch(self.doc, section, f"Search {key}"))

    def remove_selected(self) -> None:
        picked = sorted({i.row() for i in self.space.selectedIndexes()})
        if not picked or self.section() is None:
            return
        keys = [self.space.item(i, 0).text() for i in picked]
        self.doc.push(SetSearch(self.doc, without_keys(self.doc.project, keys), f"Stop searching {', '.join(keys)}"))

    # -- trials ----------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def clear_trials(self) -> None:
        """Another design (or study): no trials until its storage is read."""
        self.rows = []
        self._fill()

    def set_study(self, metric: str, direction: str, keys: list[str] = ()) -> None:
        """The study's metric and direction, and the searched keys shown first among the columns."""
        self.metric_name, self.direction, self.keys = metric, direction, list(keys)
        self._fill()

    def merge_trials(self, rows) -> None:
        """Trials by number: the storage's rows (every session's and process's) replace those held,
        and a row of this session that the storage does not hold yet is kept."""
        merged = {r.number: r for r in self.rows}
        merged.update({r.number: r for r in rows})
        self.rows = [merged[n] for n in sorted(merged)]
        self._fill()

    def add_trial(self, row) -> None:
        self.merge_trials([row])

    def columns(self) -> list[str]:
        """The searched keys: the section's first, then any other a trial was given (an older section's)."""
        keys = list(self.keys)
        for row in self.rows:
            keys += [k for k in row.params if k not in keys]
        return keys

    def _fill(self) -> None:
        keys = self.columns()
        self.trials.setRowCount(len(self.rows))
        self.trials.setColumnCount(5 + len(keys))
        self.trials.setHorizontalHeaderLabels(["trial", "state", self.metric_name, "epochs", "time", *keys])
        for i, row in enumerate(self.rows):
            seconds = f"{row.seconds:.1f}s" if row.seconds is not None else "-"
            cells = [str(row.number), row.state + (f" ({row.error})" if row.error else ""),
                     format_value(self.metric_name, row.value), str(row.epochs if row.epochs is not None else "-"),
                     seconds]
            cells += [format_value("", row.params.get(k)) for k in keys]
            for j, text in enumerate(cells):
                item = self.trials.item(i, j)
                if item is None:
                    self.trials.setItem(i, j, QtWidgets.QTableWidgetItem(text))
                elif item.text() != text:
                    item.setText(text)
        if self.plot is not None:
            self.plot.set_keys(keys)
            self.plot.show_trials(self.rows, self.metric_name, self.direction)

    def best(self):
        """The study's best finished trial among the rows (Optuna's best_trial), or None."""
        return best_row(self.rows, self.direction)

    def ensure_plot(self):
        if self.plot is None:
            from app.tuning.trial_plot import TrialPlot  # pyqtgraph: once the dock is first shown

            self.plot = TrialPlot()
            self.plot_host.addWidget(self.plot)
            self._fill()
        return self.plot


def narrow_combo(box: QtWidgets.QComboBox) -> None:
    """A combo box as narrow as a dozen characters: its longest key (a node parameter path) would
    otherwise set the dock's minimum width and squeeze the canvas at 1280x800."""
    box.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(12)
