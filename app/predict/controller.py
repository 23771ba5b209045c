"""Predict in the window: `actionPredict` (Run menu, Ctrl+Shift+P) opens the dock `predictPanel`,
which predicts with the chosen run (newest first) or the random weights, on the sample the user
picks; the trace goes onto the canvas and the selected node's inside into the panel.

    actionPredict ─► PredictPanel (built once PyTorch has loaded) ─► JobRunner thread: PredictWork
        ▲ done(kind, result) on the GUI thread: bars, overlays, plots  ◄──────────────┘

Every torch call runs on the runner's thread (app.predict.work); the GUI thread only draws the
NumPy it gets back, once per answer. A design edited meanwhile is predicted afresh (a copy of the
project is taken at each load), and a run that ends is offered at once.
"""
from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.predict.generation import Streamer, stream
from app.predict.jobs import JobRunner
from app.predict.trace_overlay import TraceOverlays
from app.training.loader import engine_loader
from graph.blocks import repeat_of
from graph.project import from_dict, to_dict

RELOAD_MS = 400          # an edited design is reloaded this long after the last edit
MAP_PASSES = 30          # the uncertainty map's passes while the MC box is off
RANDOM = "Random weights (untrained)"
PANEL_WIDTH = 430


class PredictController(QtCore.QObject):
    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window = window
        self.doc = window.doc
        self.panel = None
        self.runner = JobRunner(self)
        self.overlays = TraceOverlays(window.canvas)
        self.work: Any = None          # app.predict.work.PredictWork, used only on the runner's thread
        self.setup: Any = None
        self.runs: list = []
        self.source: tuple | None = None
        self.last_prediction: Any = None
        self.last_map: Any = None
        self.last_inside: tuple | None = None
        self.error: str | None = None
        self.streamer = Streamer(self)
        self.generation = 0                       # the number of the newest generation asked for
        self.stop_generating = threading.Event()  # the running generation's stop flag
        self.action = QtGui.QAction("&Predict…", window)
        self.action.setObjectName("actionPredict")
        self.action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+P"))
        self.action.setStatusTip("Follow one sample through the network: prediction, uncertainty, trace, attention")
        self.action.setToolTip("Predict one sample (Ctrl+Shift+P)")
        self.action.triggered.connect(self.open)
        window.addAction(self.action)
        self.host = QtWidgets.QStackedWidget()
        waiting = QtWidgets.QLabel("Predict (Ctrl+Shift+P) follows one sample through the network.")
        waiting.setWordWrap(True)
        waiting.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.host.addWidget(waiting)
        self.dock = window._dock("predictPanel", "Predict", self.host, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        window.tabifyDockWidget(window.docks["trainingPanel"], self.dock)
        self.dock.hide()
        self.reload_timer = QtCore.QTimer(self)
        self.reload_timer.setSingleShot(True)
        self.reload_timer.setInterval(RELOAD_MS)
        self.reload_timer.timeout.connect(self.load)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.streamer.chunk.connect(self._chunk)
        self.doc.replaced.connect(self._design_changed)
        self.doc.analysed.connect(lambda _a: self._design_changed())
        window.canvas.selection_changed.connect(self._on_selection)
        self.doc.level_changed.connect(self._level_changed)
        window.training.run_ended.connect(lambda _r: self._design_changed())

    # -- opening and loading ----------------------------------------------------------------
    def open(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self._make_room()
        loader = engine_loader()
        if loader.is_ready:
            self._build()
        else:
            self.window.show_message("Loading PyTorch…", 0)
            loader.ready.connect(self._build, QtCore.Qt.ConnectionType.UniqueConnection)
            loader.start()

    def _make_room(self) -> None:
        """The panel is tall (input, bars, the inside's plots): most of the right column, and wide
        enough for its plots."""
        window, code = self.window, self.window.docks.get("codeDock")
        height = window.height()
        if code is not None and code.isVisible():
            window.resizeDocks([self.dock, code], [int(height * 0.8), int(height * 0.12)],
                               QtCore.Qt.Orientation.Vertical)
        bottom = next((window.docks[n] for n in ("plotsPanel", "problemsPanel", "summaryPanel")
                       if n in window.docks and window.docks[n].isVisible()), None)
        if bottom is not None and bottom.height() > height * 0.34:   # the bottom docks keep a third
            window.resizeDocks([bottom], [int(height * 0.3)], QtCore.Qt.Orientation.Vertical)
        if self.dock.width() < PANEL_WIDTH:
            window.resizeDocks([self.dock], [PANEL_WIDTH], QtCore.Qt.Orientation.Horizontal)

    def _build(self) -> None:
        if self.panel is None:
            from app.predict.panel import PredictPanel  # imports pyqtgraph: only once torch has loaded

            self.panel = PredictPanel()
            self.host.addWidget(self.panel)
            self.host.setCurrentWidget(self.panel)
            self.panel.run_chosen.connect(lambda _i: self.load())
            self.panel.sample_picked.connect(lambda k: self.predict(("sample", k)))
            self.panel.picker.picked.connect(self._point)
            self.panel.file_requested.connect(self._open_file)
            self.panel.settings_changed.connect(self._settings_changed)
            self.panel.neuron.index_changed.connect(lambda _i: self._on_selection())
            self.panel.generate.generate_requested.connect(self.generate)
            self.panel.generate.stop_requested.connect(self.stop_generating.set)
        self.window.show_message("Predict: choose a sample", 5000)
        self.load(refresh_runs=True)

    @property
    def idle(self) -> bool:
        """Nothing asked of the worker is still to come."""
        return not self.runner.busy and not self.reload_timer.isActive()

    def _design_changed(self) -> None:
        self.overlays.clear()
        if self.panel is not None and self.dock.isVisible():
            self.reload_timer.start()

    def load(self, refresh_runs: bool = True) -> None:
        """Predict with the run chosen in the panel (the newest, after a refresh) on a copy of the design."""
        if self.panel is None:
            return
        self.reload_timer.stop()
        if not self.doc.analysis.valid:
            self._show_error(f"the design has {len(self.doc.analysis.errors)} problem(s); fix them to predict")
            return
        if refresh_runs:
            chosen = self.panel.run.currentText()
            self.runs = [r for r in self.window.training.refresh_runs() if r.weights.exists()]
            names = [r.summary() for r in self.runs] + [RANDOM]
            self.panel.set_runs(names)
            if chosen in names and chosen != RANDOM:
                self.panel.run.setCurrentText(chosen)
        index = self.panel.run.currentIndex()
        run_dir = self.runs[index].path if 0 <= index < len(self.runs) else None
        project = from_dict(copy.deepcopy(to_dict(self.doc.project)))
        base_dir = self.doc.path.resolve().parent if self.doc.path is not None else Path.cwd()
        self.work = None
        self.error = None
        self.stop_generating.set()   # new weights or a new design: the text being drawn is of the old ones

        def job():
            from app.predict.work import PredictWork

            work = PredictWork(project, base_dir, run_dir)
            return work, work.setup()

        self.runner.submit("load", job)

    # -- asking -----------------------------------------------------------------------------
    def predict(self, source: tuple) -> None:
        self.source = source
        work = self.work
        if work is None or self.panel is None:
            return
        passes = self.panel.mc.value()
        self.runner.submit("predict", lambda: work.predict(source, passes))

    def generate(self) -> None:
        """Draw the Generate section's text on the worker; characters arrive by Streamer.chunk."""
        work = self.work
        if work is None or self.panel is None:
            return
        prompt, steps, temperature, top_k, seed = self.panel.generate.settings()
        self.stop_generating.set()
        self.stop_generating = stop = threading.Event()
        self.generation += 1
        number, emit = self.generation, self.streamer.chunk.emit
        self.panel.generate.started(prompt)
        self.runner.submit("generate", lambda: (prompt,) + stream(
            work.generate(prompt, steps, temperature, top_k, seed), number, stop, emit))

    def _chunk(self, number: int, text: str) -> None:
        if number == self.generation and self.panel is not None:
            self.panel.generate.append(text)

    def pick_point(self, x: float, y: float) -> None:
        """A click on the 2-D data plot at (x, y) (tests call it as the click does)."""
        self.panel.picker.pick(x, y)

    def _point(self, x: float, y: float) -> None:
        self.panel.uncertainty.show_point(x, y)
        self.predict(("point", (x, y)))

    def _uncertainty(self) -> None:
        work, setup = self.work, self.setup
        if work is None or setup is None or setup.kind != "points" or setup.extent is None:
            return
        passes = self.panel.mc.value() or MAP_PASSES
        self.runner.submit("uncertainty", lambda: work.uncertainty(passes, setup.extent))

    def _settings_changed(self) -> None:
        if self.source is not None:
            self.predict(self.source)
        self._uncertainty()
        if not self.panel.trace.isChecked():
            self.overlays.clear()

    def _open_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Predict a file", "",
                                                        "Samples (*.npy *.png *.pgm *.ppm *.jpg *.jpeg *.csv *.txt);;"
                                                        "All files (*)")
        if path:
            self.predict(("file", path))

    def level_prefix(self) -> str:
        """Where the level the canvas shows lies in the model, as the trace names paths: `layer1_0.`
        inside block node layer1_0, `encoder.0.` inside copy 0 (the first) of a repeated block."""
        prefix = ""
        for depth, step in enumerate(self.doc.level):
            node = self.doc.graph_at(self.doc.level[:depth]).node(step)
            prefix += f"{step}.0." if node is not None and repeat_of(node) != 1 else f"{step}."
        return prefix

    def _level_changed(self) -> None:
        """A block entered or left: the canvas's node items are new, so are their pictures."""
        self.overlays.forget()
        QtCore.QTimer.singleShot(0, self, self._show_overlays)   # once the canvas has built the level's items

    def _show_overlays(self) -> None:
        from app.predict.glance import glance

        prediction = self.last_prediction
        if self.panel is None or prediction is None or not self.panel.trace.isChecked():
            self.overlays.clear()
            return
        graph = self.window.canvas.graph
        ids = {n.id for n in graph.nodes} if graph is not None else set()
        prefix = self.level_prefix()
        self.overlays.show({path[len(prefix):]: glance(value, path) for path, value in prediction.values.items()
                            if path.startswith(prefix) and path[len(prefix):] in ids})

    def _on_selection(self) -> None:
        ids = self.window.canvas.selected_ids()
        work = self.work
        if self.panel is None or work is None or len(ids) != 1:
            return
        node = self.level_prefix() + ids[0]
        if self.panel.attention.choose(node):
            self.panel.attention.show()
            self.panel.bring_into_view(self.panel.attention)
        index = self.panel.neuron.index.value() if self.panel.neuron.neuron is not None and \
            self.panel.neuron.neuron.path == node else 0
        self.runner.submit("inside", lambda: (node, work.inside(node, index)))

    # -- answers (GUI thread) -----------------------------------------------------------------
    def _done(self, kind: str, result: Any) -> None:
        if self.panel is None:
            return
        if kind == "load":
            self.work, self.setup = result
            self.panel.set_setup(self.setup)
            first = ("point", _first_point(self.setup)) if self.setup.kind == "points" and self.setup.count else \
                ("sample", 0) if self.setup.count else None
            if first is not None and first[0] == "point":
                self.pick_point(*first[1])
            elif first is not None:
                self.predict(first)
            self._uncertainty()
        elif kind == "predict":
            self._show_prediction(result)
        elif kind == "generate":
            prompt, number, text, stopped = result
            if number == self.generation:
                self.panel.generate.finished(prompt + text)
                self.window.show_message(f"Generate: {'stopped after' if stopped else 'drew'} {len(text)} "
                                         "characters", 5000)
        elif kind == "uncertainty":
            self.last_map = result
            self.panel.uncertainty.set_map(result)
            self.panel.picker.set_boundary(result.boundary, result.extent)
        elif kind == "inside":
            node, (neuron, curve) = result
            self.last_inside = (node, neuron, curve)
            self.panel.neuron.setVisible(neuron is not None)
            if neuron is not None:
                self.panel.neuron.show_neuron(neuron)
            self.panel.activation.setVisible(curve is not None)
            if curve is not None:
                self.panel.activation.show_curve(curve)
            shown = self.panel.neuron if neuron is not None else self.panel.activation if curve is not None else None
            if shown is not None:   # the clicked node's view comes into sight (after the layout settles)
                QtCore.QTimer.singleShot(0, lambda: self.panel.bring_into_view(shown))

    def _show_prediction(self, prediction) -> None:
        self.last_prediction = prediction
        panel = self.panel
        panel.set_notes(prediction.notes)
        if prediction.outputs:
            panel.bars.show_output(prediction.outputs[0])
        sample = prediction.sample
        target = f" · target {prediction.target}" if prediction.target is not None else ""
        if self.setup is not None and self.setup.kind in ("sequence", "vector"):
            values = sample.reshape(-1) if sample.ndim == 1 or sample.shape[-1] != 1 else sample[..., 0]
            shown = " ".join(f"{v:g}" for v in values.reshape(-1)[:64])
            panel.show_sample_values(f"[{shown}]")
        panel.input_title.setText(panel.input_title.text().split("  ·")[0] + f"  · {prediction.source}{target}")
        tokens = None
        if self.setup is not None and self.setup.dtype == "int64":
            tokens = [str(int(v)) for v in sample.reshape(-1)]
        panel.attention.set_weights(prediction.attention, tokens)
        panel.attention.setVisible(bool(prediction.attention))
        if panel.trace.isChecked():
            self._show_overlays()
        self._on_selection()

    def _failed(self, kind: str, message: str) -> None:
        if kind == "generate" and self.panel is not None:
            self.panel.generate.finished(None)
        self._show_error(message.splitlines()[0] if kind != "load" or "Error:" not in message else message)

    def _show_error(self, message: str) -> None:
        self.error = message
        if self.panel is not None:
            self.panel.set_notes([f"cannot predict: {message}"])
        self.window.show_message(f"Predict: {message}", 15_000)


def _first_point(setup) -> tuple[float, float]:
    x, y = setup.points[0]
    return float(x), float(y)
