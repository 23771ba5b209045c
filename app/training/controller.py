"""Training in the window: the Train / Pause / Stop / Resume Run actions, the design lock, the redraw timer,
the canvas's live badges, failures, and the runs kept beside the design.

    actionTrain ─► snapshot of the project ─► TrainingSession (QThread) ─► events (queued, coalesced)
                                                                             │
    QTimer (REDRAW_MS) ◄── RunData (revisions) ◄────────────────────────────┘
        └─► plots.refresh() (only changed, visible plots) · canvas badges · progress bar

A run trains a copy of the design, so nothing the user does meanwhile can reach the training
thread; still, edits that would change the model are refused while it runs (the Document
lock), so that the design on screen is the one being trained. Moves are allowed.
"""
from __future__ import annotations

import copy
import math
import re
import shutil
import time
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.exporting import export_file_name, export_with_cursor
from app.node_item import LiveBadge
from app.training.loader import engine_loader
from app.training.panel import TrainingPanel
from app.training.progress_line import duration_text
from app.training.runs import DESIGN_NAME, RunInfo, list_runs, new_run_dir, read_overlay, run_stem, runs_root
from app.training.store import RunData
from graph.project import LoomFileError, from_dict, load, save, to_dict

REDRAW_MS = 100            # the redraw timer: 10 ticks a second; the plots' CPU budget decides which redraw
STATUS_S = 0.5             # canvas badges and the progress bar: at most twice a second
CLOSE_WAIT_MS = 10_000     # closing the window waits this long for the run to stop
LOCK_REASON = "the design is locked while it trains (moving nodes is allowed); stop the run to edit it"
BANNER = ("Training — the design is locked: changes to the model wait until the run ends "
          "(nodes can still be moved). Stop the run to edit.")
VANISHING = 1e-6           # gradient norms below this (or 1e-4 of the largest layer's) are vanishing
RELATIVE_VANISHING = 1e-4
EXPLODING = 1e3            # and above this exploding
DEAD = 0.5                 # a ReLU-like layer with this fraction of units never active is marked dead


def default_runs_dir() -> Path:
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".layerloom") / "runs"


def failure_place(failed: Any, node_ids: set[str]) -> tuple[str, str | None]:
    """Where a failed run's message points: a settings key, the data, the design; and a node
    named in it, if any (a click in the problems panel then shows that node)."""
    message = failed.message
    node = next((m for m in re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", message) if m in node_ids), None)
    head = message.split(":", 1)[0].split(" is ", 1)[0].strip()
    if re.fullmatch(r"(training|data)(\.[A-Za-z_]+)+", head):
        return head, node
    where = {"nan": "training.learning_rate", "out_of_memory": "training.batch_size", "device": "training.device",
             "data": "data", "graph": "design", "weights": "training.initial_weights",
             "settings": "training"}.get(failed.reason, "training")
    return where, node


def badges(store: RunData, node_ids: list[str]) -> dict[str, LiveBadge]:
    """Each node's live badge: its gradient norm (layers with weights), its dead fraction
    (ReLU-like layers), or its activations' spread (other layers)."""
    out: dict[str, LiveBadge] = {}
    norms = {n: s.array[-1, 2] for n, s in store.gradients.items() if len(s)}
    healthy = [v for v in norms.values() if math.isfinite(v) and v <= EXPLODING]
    largest = max(healthy) if healthy else 0.0   # vanishing is judged against the layers that do not explode
    for node in node_ids:
        if node not in store.node_types or store.is_model_end(node):
            continue
        if node in norms:
            norm = norms[node]
            if not math.isfinite(norm) or norm > EXPLODING:
                state, why = "exploding", "exploding"
            elif norm < VANISHING or (largest > 0 and norm < largest * RELATIVE_VANISHING):
                state, why = "vanishing", "vanishing"
            else:
                state, why = "ok", "healthy"
            out[node] = LiveBadge(f"∇ {norm:.1e}", state, f"gradient norm {norm:.3g} ({why})")
            continue
        stats = store.activation_stats.get(node)
        if stats is None or not len(stats):
            continue
        row = stats.array[-1]
        if store.is_relu_like(node):
            dead = row[4]
            out[node] = LiveBadge(f"dead {dead * 100:.0f}%", "dead" if dead >= DEAD else "ok",
                                  f"{dead * 100:.1f}% of the units never fire on the probe batch")
        else:
            out[node] = LiveBadge(f"σ {row[3]:.2g}", "info", f"activations: mean {row[2]:.3g}, std {row[3]:.3g}")
    return out


class TrainingController(QtCore.QObject):
    """Owns the training panel, the plots dock's contents and the run in progress."""

    run_started = QtCore.Signal()
    run_ended = QtCore.Signal(object)   # Finished | Failed

    def __init__(self, window: QtWidgets.QMainWindow, runs_dir: Path | None = None):
        super().__init__(window)
        self.window = window
        self.doc = window.doc
        self.user_runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.session = None
        self.store = RunData()
        self.plots = None
        self.close_when_stopped = False
        self._overlays: dict[Path, Any] = {}
        self._overlaid: set[Path] = set()
        self._badge_key: tuple | None = None
        self._status_at = -1e9
        self.runs_root: Path | None = None
        self._resumed = None   # the ResumePlan of a resumed run in progress
        self.last_run: Path | None = None

        self.action_train = self._action("actionTrain", "&Train", self.train, "F5",
                                         "Train the design on its data set, with live plots")
        self.action_pause = self._action("actionPause", "&Pause", self.toggle_pause, "F6",
                                         "Pause the run between two steps; again to resume")
        self.action_pause.setCheckable(True)
        self.action_stop = self._action("actionStop", "&Stop", self.stop, "Shift+F5",
                                        "Stop the run after the step in flight (it is kept)")
        self.action_export_trained = self._action(
            "actionExportTrained", "Export &Trained Model…", self.export_trained, None,
            "Write the selected (or latest) run's model as PyTorch code plus its trained weights")
        self.action_resume = self._action(
            "actionResumeRun", "&Resume Run", self.resume_run, None,
            "Go on with the selected (or latest) stopped run from its checkpoint, in its own folder")
        self.panel = TrainingPanel(self.doc, window.editor, {"train": self.action_train, "pause": self.action_pause,
                                                             "stop": self.action_stop, "resume": self.action_resume})
        self.plots_host = QtWidgets.QStackedWidget()
        self.plots_host.setObjectName("trainingPlotsHost")
        # the plots' own 200 px minimum, once built, made the bottom docks take a third of a
        # 1280x800 window even while they showed the Problems tab
        self.plots_host.setMinimumHeight(60)
        waiting = QtWidgets.QLabel("The plots appear here when you press Train.")
        waiting.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.plots_host.addWidget(waiting)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.tick)

        self.panel.overlays_changed.connect(self._on_overlays)
        self.panel.export_run_requested.connect(self.export_run)
        self.panel.runs_list.currentItemChanged.connect(lambda *_: self._update_actions())
        self.doc.replaced.connect(self._on_replaced)
        self.doc.dirty_changed.connect(lambda _dirty: self.refresh_runs())
        window.canvas.selection_changed.connect(self._on_selection)
        window.problems.setting_activated.connect(self.show_setting)
        engine_loader().ready.connect(self._on_loader_ready)
        self._update_actions()

    def _action(self, name: str, text: str, slot, shortcut: str | None, tip: str) -> QtGui.QAction:
        action = QtGui.QAction(text, self.window)
        action.setObjectName(name)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        self.window.addAction(action)
        return action

    # -- the plots -----------------------------------------------------------------------
    def _on_loader_ready(self) -> None:
        if engine_loader().is_ready:
            QtCore.QTimer.singleShot(0, self, self.ensure_plots)

    def ensure_plots(self):
        """Build the plots (imports pyqtgraph) the first time they are needed."""
        if self.plots is None:
            from app.training.plots.grid import PlotsPanel

            self.plots = PlotsPanel()
            self.plots_host.addWidget(self.plots)
            self.plots_host.setCurrentWidget(self.plots)
            self.plots.set_store(self.store)
            self.plots.set_overlays(list(self._overlays_for(self._overlaid)))
        return self.plots

    @property
    def running(self) -> bool:
        return self.session is not None

    @property
    def settled(self) -> bool:
        """No run, and the plots show everything the last one sent."""
        return self.session is None and not self.timer.isActive()

    # -- starting --------------------------------------------------------------------------
    def train(self) -> bool:
        """Start a run of the design as it is now; False (with the reason shown) when it cannot."""
        doc = self.doc
        if self.session is not None:
            return False
        if not doc.analysis.valid:
            count = len(doc.analysis.errors)
            self._say(f"Cannot train yet: the design has {count} problem{'s' if count != 1 else ''}; "
                      "see the Problems panel")
            self.window.docks["problemsPanel"].raise_()
            return False
        if not self._engine_ready():
            return False
        project = from_dict(copy.deepcopy(to_dict(doc.project)))   # the run trains this copy
        root = runs_root(doc.path, self.user_runs_dir)
        try:
            out_dir = new_run_dir(root, run_stem(doc.path, doc.project.name))
            save(project, out_dir / DESIGN_NAME)
        except OSError as exc:
            self._fail_to_start(f"cannot write the run folder in {root}: {exc.strerror or exc}")
            return False
        source = str(doc.path.resolve()) if doc.path is not None else None
        return self._start(project, out_dir, self._base_dir(), source, "Training started")

    def resume_run(self) -> bool:
        """Go on with the selected (or latest) run from its checkpoint, into its own folder, as
        `train --resume` does (app.training.resume); False (with the reason shown) when it cannot."""
        from app.training.resume import ResumeRefused, plan_resume

        if self.session is not None:
            return False
        run = self.run_to_resume()
        if run is None:
            self._say("No run to resume: press Train first")
            return False
        try:
            plan = plan_resume(run, self.doc.project, self._base_dir())
        except ResumeRefused as exc:
            self._say(f"Cannot resume: {exc}")
            return False
        if not self._engine_ready():
            return False
        said = f"Resuming {run.name} after epoch {run.epochs_done} of {run.epochs}" + (
            f": {plan.note()}" if plan.changed else "")
        return self._start(plan.project, run.path, plan.base_dir, run.project_file, said, run.checkpoint, plan)

    def run_to_resume(self) -> RunInfo | None:
        """The run Resume Run acts on: the one selected in the Runs tab, else the latest."""
        run = self.panel.selected_run()
        if run is None:
            runs = self.panel.runs()
            run = runs[0] if runs else None
        return run

    def _base_dir(self) -> Path:
        """Where the design's data paths are relative to."""
        return self.doc.path.resolve().parent if self.doc.path is not None else Path.cwd()

    def _engine_ready(self) -> bool:
        if not engine_loader().is_ready:
            self._say("Loading PyTorch…", 0)
            QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        if not self.panel.ensure_built():
            self._say(f"Training is unavailable: {engine_loader().error}")
            return False
        self.ensure_plots()
        self.window.problems.clear_run_problems()
        return True

    def _start(self, project, out_dir: Path, base_dir: Path, source_file: str | None, said: str,
               resume_from: Path | None = None, plan=None) -> bool:
        """Start the session of a new run (out_dir just made: removed again if it cannot start) or of a
        resumed one (out_dir the kept run's, never removed; `plan` the ResumePlan)."""
        from app.training.session import TrainingSession
        from engine.training.events import TrainingError

        try:
            session = TrainingSession(project, base_dir=base_dir, out_dir=out_dir, source_file=source_file,
                                      lazy=True, resume_from=resume_from, parent=self)
        except TrainingError as exc:   # training.processes on a device or mode that cannot take them
            if resume_from is None:
                shutil.rmtree(out_dir, ignore_errors=True)
            self._fail_to_start(exc.message, "training.device" if exc.reason == "device" else "training.processes")
            return False
        except Exception as exc:  # noqa: BLE001 -- a bug must not take the window down
            if resume_from is None:
                shutil.rmtree(out_dir, ignore_errors=True)
            self._fail_to_start(f"{type(exc).__name__}: {exc}")
            return False
        self.session = session
        self.last_run = out_dir
        self.store = RunData()
        self.plots.set_store(self.store)
        self._badge_key = None
        self._resumed = plan
        session.events.connect(self._on_events)
        session.ended.connect(self._on_ended)
        self.doc.lock(LOCK_REASON)
        self.panel.set_running(True)
        self.panel.show_progress(self.store.progress, "starting")
        self.panel.status.setText("Starting: preparing the data and building the model…")
        self._show_plots()
        self._update_actions()
        session.start()
        self.plots.start_run()
        self.timer.start()
        self._say(said, 30_000 if plan is not None else 10_000)
        self.run_started.emit()
        return True

    def _fail_to_start(self, message: str, where: str = "training") -> None:
        self.window.problems.show_run_problem(where, message)
        self.window.docks["problemsPanel"].raise_()
        self._say(f"Cannot train: {message}")

    def _show_plots(self) -> None:
        window = self.window
        dock = window.docks.get("plotsPanel")
        if dock is None:
            return
        dock.show()
        dock.raise_()
        window.docks["trainingPanel"].raise_()
        wanted = int(window.height() * 0.42)
        if dock.height() < wanted * 0.8:
            window.resizeDocks([dock], [wanted], QtCore.Qt.Orientation.Vertical)   # the canvas refits (app.viewer)
        side, code = window.docks["trainingPanel"], window.docks.get("codeDock")
        if code is not None and code.isVisible() and side.height() < 420:  # room for the controls and progress
            window.resizeDocks([side, code], [int(window.height() * 0.65), int(window.height() * 0.2)],
                               QtCore.Qt.Orientation.Vertical)

    # -- control ---------------------------------------------------------------------------
    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()
            self.store.status = "stopping"
            self.panel.show_progress(self.store.progress, "stopping")
            self._say("Stopping after the step in flight…")
            self._update_actions()

    def toggle_pause(self) -> None:
        if self.session is None:
            self.action_pause.setChecked(False)
            return
        if self.session.paused:
            self.session.resume()
            self._say("Resumed")
        else:
            self.session.pause()
            self._say("Pausing after the step in flight")
        self._update_actions()

    def _update_actions(self) -> None:
        running = self.session is not None
        paused = running and self.session.paused
        self.action_train.setEnabled(not running)
        self.action_stop.setEnabled(running and self.store.status != "stopping")
        self.action_pause.setEnabled(running and self.store.status != "stopping")
        with QtCore.QSignalBlocker(self.action_pause):
            self.action_pause.setChecked(paused)
        self.action_pause.setText("&Resume" if paused else "&Pause")
        run = None if running else self.run_to_resume()
        problem = "a run is in progress" if running else run.resume_problem() if run else "there is no run yet"
        self.action_resume.setEnabled(problem is None)
        self.action_resume.setToolTip(f"Go on with {run.name} from its checkpoint, in its own folder" if problem is None
                                      else f"Resume Run: not now, {problem}")

    # -- events (GUI thread) -------------------------------------------------------------------
    def _on_events(self, batch: list) -> None:
        store = self.store
        for event in batch:
            store.add(event)
            kind = event.kind
            if kind == "run_started":
                self.panel.show_progress(store.progress, store.status)
                processes = getattr(self.session, "processes", 1)
                on = f", {processes} processes" if processes > 1 else ""
                resumed = (f"Resumed after epoch {event.start_epoch} of {event.epochs}"
                           + (f" ({self._resumed.note()}). " if self._resumed.changed else ". ")
                           if self._resumed is not None else "")
                self.panel.status.setText(
                    f"{resumed}Training on {event.device_name}{on}: {event.dataset}, {event.train_samples:,} training / "
                    f"{event.val_samples:,} validation samples, {event.trainable_params:,} parameters, "
                    f"batch {event.batch_size}, {event.epochs} epochs")
            elif kind == "note":
                self._say(f"Training: {event.message}")
            elif kind in ("paused", "resumed"):
                self._update_actions()

    def tick(self) -> None:
        """The bounded-rate redraw while a run goes: plots that changed, the canvas badges, the
        progress bar."""
        store = self.store
        if self.session is None:   # a tick queued as the run ended
            self.timer.stop()
            return
        self.session.drain()   # steps and telemetry arrive with the ticks (session is lazy)
        if self.plots is not None:
            self.plots.refresh()
        now = time.monotonic()
        if self.session is not None and now - self._status_at >= STATUS_S:
            self._status_at = now
            key = (store.revision["gradients"], store.revision["activations"])
            if key != self._badge_key and not (self._resumed is not None and self._resumed.changed):
                self._badge_key = key
                self.window.canvas.set_live_badges(badges(store, [n.id for n in self.doc.graph.nodes]))
            if store.started is not None:
                self.panel.show_progress(store.progress, store.status)

    def _on_ended(self, result: Any) -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        self._resumed = None
        self._overlays.pop(session.out_dir, None)   # a resumed run's curves grew: read them again when overlaid
        self.timer.stop()
        if self.plots is not None:
            # before the end is announced, every plot shows it: the budget starved some during the run
            # (on a loaded machine, all but the loss and accuracy), and it has no training to protect now
            self.plots.flush()
        self.window.canvas.clear_live_badges()
        self.doc.unlock()
        self.panel.set_running(False)
        self._update_actions()
        if result is not None and result.kind == "failed":
            self._report_failure(result, session)
        elif result is not None:
            self._report_finish(result, session)
        session.deleteLater()
        self.refresh_runs()
        self.run_ended.emit(result)
        if self.close_when_stopped:
            QtCore.QTimer.singleShot(0, self.window.close)

    def _report_failure(self, failed: Any, session) -> None:
        where, node = failure_place(failed, set(self.doc.graph.ids()))
        self.window.problems.show_run_problem(where, failed.message, node)
        self.window.docks["problemsPanel"].raise_()
        self.panel.status.setText(f"Training failed: {failed.message}")
        self.panel.show_result("failed", self.store.progress.fraction)
        self._say(f"Training failed: {failed.message}", 30_000)
        if not session.started_run and session.out_dir is not None and session.resume_from is None:
            shutil.rmtree(session.out_dir, ignore_errors=True)   # nothing ran: nothing to keep

    def _report_finish(self, finished: Any, session) -> None:
        reason = {"completed": "finished", "early_stopping": "stopped early", "stopped": "stopped",
                  "interrupted": "stopped"}.get(finished.reason, finished.reason)
        figures = []
        for key in ("val_accuracy", "train_accuracy", "val_mae", "val_loss", "train_loss"):
            value = finished.final.get(key)
            if value is not None and math.isfinite(value):
                figures.append(f"{key.replace('_', ' ')} {value * 100:.1f}%" if key.endswith("accuracy")
                               else f"{key.replace('_', ' ')} {value:.4g}")
            if len(figures) == 2:
                break
        text = (f"Training {reason} after {finished.epochs_done} epoch{'s' if finished.epochs_done != 1 else ''} "
                f"({duration_text(finished.seconds)})" + (": " + ", ".join(figures) if figures else ""))
        self.panel.status.setText(f"{text}. Kept under Runs.")
        self.panel.show_result(f"{reason} · {finished.epochs_done} epochs · {duration_text(finished.seconds)}",
                               self.store.progress.fraction if finished.reason != "completed" else 1.0)
        self._say(f"{text} — kept in {session.out_dir}", 30_000)

    # -- closing and switching designs ------------------------------------------------------
    def shutdown(self, wait_ms: int = CLOSE_WAIT_MS) -> bool:
        """Stop the run and wait for its thread; True when nothing runs any more."""
        session = self.session
        if session is None:
            return True
        session.stop()
        if not session.wait(wait_ms):
            return False
        session.drain()   # the thread has finished: take what it sent after the last wake-up now
        try:
            session.ended.disconnect(self._on_ended)
        except (RuntimeError, TypeError):
            pass
        self._on_ended(session.trainer.result)
        return True

    def confirm_stop(self) -> bool:
        """Before another design replaces this one: stop the run (asking first)."""
        if self.session is None:
            return True
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(self.window, "Training in progress",
                                                "A training run is in progress. Stop it (it is kept)?",
                                                buttons.Yes | buttons.Cancel, buttons.Cancel)
        if answer != buttons.Yes:
            return False
        return self.shutdown()

    def _on_replaced(self) -> None:
        self.window.problems.clear_run_problems()
        self.store = RunData()
        self._overlaid = set()
        if self.plots is not None:
            self.plots.set_overlays([])
            self.plots.set_store(self.store)
        self.refresh_runs()
        self.panel.show_result("not running", 0.0)
        self.panel.show_hint()

    # -- runs ------------------------------------------------------------------------------
    def refresh_runs(self) -> list[RunInfo]:
        root = runs_root(self.doc.path, self.user_runs_dir)
        self.runs_root = root
        runs = list_runs(root, self.doc.path, self.doc.project.name)
        self.panel.show_runs(runs, root, self._overlaid)
        self._update_actions()
        return runs

    def _overlays_for(self, paths):
        for path in paths:
            overlay = self._overlays.get(path)
            if overlay is None:
                run = next((r for r in self.panel.runs() if r.path == path), None)
                if run is None:
                    continue
                overlay = self._overlays[path] = read_overlay(run)
            yield overlay

    def _on_overlays(self, runs: list[RunInfo]) -> None:
        self._overlaid = {r.path for r in runs}
        if self.plots is not None:
            self.plots.set_overlays(list(self._overlays_for([r.path for r in runs])))

    def set_overlaid(self, paths: list[Path]) -> None:
        for run in self.panel.runs():
            self.panel.set_overlay(run.path, run.path in set(paths))

    def show_setting(self, key: str) -> None:
        """A click on a failure row in the Problems panel: the setting it names, in the panel."""
        dock = self.window.docks.get("trainingPanel")
        if dock is not None:
            dock.show()
            dock.raise_()
        self.panel.show_setting(key)

    def _on_selection(self) -> None:
        """The layer plots follow the selected node: at once, or while a run trains at the
        redraw timer's pace within the CPU budget (a click every 50 ms drew 3 plots per click)."""
        ids = self.window.canvas.selected_ids()
        if len(ids) == 1 and self.plots is not None:
            self.plots.select_node(ids[0], at_once=not self.running)

    # -- export ----------------------------------------------------------------------------
    def export_trained(self) -> None:
        run = self.panel.selected_run()
        if run is None:
            runs = self.refresh_runs()
            run = next((r for r in runs if r.weights.exists()), None)
        if run is None:
            self._say("No trained run to export yet: press Train first")
            return
        self.export_run(run)

    def export_run(self, run: RunInfo | None) -> None:
        if run is None:
            return
        name = export_file_name(self.doc.path, self.doc.project.name, trained=True)
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Export trained model",
                                                        str((self.doc.path.parent if self.doc.path else run.path) / name),
                                                        "PyTorch code + weights (*.py);;TorchScript (*.pt);;"
                                                        "ONNX (*.onnx)")
        if path:
            if not Path(path).suffix:
                path += ".py"
            self.export_run_to(run, Path(path))

    def export_run_to(self, run: RunInfo, path: Path) -> bool:
        """Write the run's model (as it was trained: its design.loom) with its trained weights."""
        if not run.weights.exists():
            self._error("Cannot export this run", f"{run.path} has no trained weights (the run "
                        f"{'failed' if run.status == 'failed' else 'did not finish'})")
            return False
        try:
            project = load(run.design) if run.design.exists() else self.doc.project
        except LoomFileError as exc:
            self._error("Cannot export this run", str(exc))
            return False
        outcome = export_with_cursor(project, path, weights=run.weights)
        if outcome.problem is not None:
            self._error("Export failed", outcome.problem)
            return False
        self._say(f"Exported the trained model: {outcome.written}")
        return True

    # -- messages --------------------------------------------------------------------------
    def _say(self, text: str, timeout_ms: int = 10_000) -> None:
        self.window.show_message(text, timeout_ms)

    def _error(self, title: str, text: str) -> None:
        self._say(text)
        QtWidgets.QMessageBox.critical(self.window, title, text)
