"""The QThread adapter (DESIGN §1, STYLE.md line 9): runs engine.training.Trainer on a worker
thread and relays its events to the GUI thread as Qt signals.

The trainer calls `_on_event` on the training thread. Events are appended to a queue, and a
queued signal wakes the GUI thread only when the queue goes from empty to non-empty, so however
fast events come, at most one wake-up is pending: the GUI thread takes everything waiting in one
turn (`events`, a list in order) and the event loop is never flooded. With `lazy=True` only the
events a user waits for (the run starting, pausing, ending, notes) wake the GUI thread at all;
the steady stream (steps, telemetry, epochs) waits for the owner's redraw timer to `drain()` it,
so the GUI thread wakes no more often than it redraws. The plots do not redraw per event either:
they redraw on that timer (app.training.controller).

At RunStarted and at each epoch end, still on the training thread and while the model is
between steps, the adapter evaluates the decision boundary (app.training.boundary) for
two-input classification data: at every epoch end, but at most `BOUNDARY_HZ` times a second
(the plot redraws no faster) and taking at most `BOUNDARY_SHARE` of the training thread's CPU
time (a frame that costs 6 ms waits 150 ms before the next), always after the last epoch. The
cost is the thread's CPU time, not the wall clock: on a loaded machine a 2 ms frame can take
60 ms of wall time waiting for a core or the GIL, and paced by that the next frame came 1.5 s
later ("after epoch 0" at epoch 4 of 6).

While the thread runs, garbage is collected on the GUI thread only (app.gc_guard).

A design whose `training.processes` asks for several trains on that many processes: the thread runs
rank 0 (engine.training.distributed.LocalGroup, which starts the other ranks and ends them), so the
events, plots, Pause and Stop are rank 0's, and a Stop ends every rank after the same step.

With `resume_from` (a run folder's checkpoint.pt, out_dir that folder) the run goes on as `train
--resume` does: the trainer restores the checkpoint and the RunWriter keeps the rows it covers. At
RunStarted the adapter reads that earlier part, the trainer's restored epochs and the step log the
writer has just rewritten (nothing newer is in it yet), and sends it as `RunHistory`, so the plots
show the whole run.

`stop()`, `pause()` and `resume()` are the trainer's own (safe from any thread). `ended` fires
on the GUI thread after the thread has finished, with the Finished or Failed event.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PySide6 import QtCore

from app.gc_guard import guard
from app.training.pacing import gil_switching
from graph.project import Project

URGENT = frozenset({"run_started", "paused", "resumed", "note", "finished", "failed"})
BOUNDARY_HZ = 2.5
BOUNDARY_SHARE = 0.04


@dataclass(frozen=True)
class BoundaryUnavailable:
    """This run has no decision boundary view; `message` says why."""

    kind: ClassVar[str] = "boundary_unavailable"
    message: str


@dataclass(frozen=True)
class RunHistory:
    """What a resumed run trained before its checkpoint: its epochs (EpochEnded) and logged step losses."""

    kind: ClassVar[str] = "run_history"
    epochs: tuple
    steps: Any      # step numbers (numpy)
    losses: Any


@dataclass(frozen=True)
class HookFailed:
    """The adapter's own work on the training thread went wrong (the run goes on)."""

    kind: ClassVar[str] = "note"
    message: str


def _processes(project: Project, overrides: dict | None) -> int:
    """How many processes the run takes: the design's training.processes (the device box's 'all N GPUs')."""
    from engine.training.settings import design_processes

    return design_processes({**(project.training or {}), **(overrides or {})}) or 1


class _Worker(QtCore.QThread):
    def __init__(self, run, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.train = run       # Trainer.run, or LocalGroup.run (rank 0 here, the other ranks started by it)
        self.result = None

    def run(self) -> None:
        try:
            self.result = self.train()
        except BaseException:  # noqa: BLE001 -- Trainer.run reports everything; this is the last guard
            from engine.training.events import Failed

            self.result = Failed("internal error in the training thread", "error", details=traceback.format_exc())


class TrainingSession(QtCore.QObject):
    """One run of one design. Make it, connect `events` and `ended`, then `start()`."""

    events = QtCore.Signal(list)    # engine events (and boundary frames), in order, on the GUI thread
    ended = QtCore.Signal(object)   # Finished | Failed, after the thread has stopped
    _wake = QtCore.Signal()

    def __init__(self, project: Project, *, base_dir: Path, out_dir: Path | None,
                 source_file: str | None = None, boundary: bool = True, overrides: dict | None = None,
                 lazy: bool = False, resume_from: Path | None = None, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        from engine.training import RunWriter, Trainer
        from engine.training.events import TrainingError

        self.out_dir = out_dir
        self.resume_from = resume_from
        self.processes = _processes(project, overrides)
        group = tags = None
        if self.processes > 1 and resume_from is not None:
            raise TrainingError(f"a run on {self.processes} processes goes on from the command line: python main.py "
                                f"train FILE --out {out_dir} --resume", "settings")
        if self.processes > 1:   # raises TrainingError for a device or mode that cannot take them
            from engine.training.distributed import LocalGroup

            group = LocalGroup(project, self.processes, base_dir=base_dir, out_dir=out_dir, overrides=overrides)
            self.trainer, tags = group.trainer, group.tags
        else:
            self.trainer = Trainer(project, base_dir=base_dir, out_dir=out_dir, overrides=overrides,
                                   resume_from=resume_from)
        self.writer = (RunWriter(out_dir, self.trainer, source_file=source_file, tags=tags)
                       if out_dir is not None else None)
        self.trainer.subscribe(self._on_event)
        self._boundary_wanted = boundary
        self._lazy = lazy
        self._probe = None
        self._last_boundary = -1e9
        self._boundary_gap = 1.0 / BOUNDARY_HZ
        self._queue: list[Any] = []
        self._lock = threading.Lock()
        self._pending = False
        self.started_run = False      # a RunStarted was seen (the run got past its checks)
        self.result = None
        self.delivered = 0            # events handed to the GUI thread
        self.wakeups = 0              # GUI-thread turns that took them
        self._wake.connect(self._drain, QtCore.Qt.ConnectionType.QueuedConnection)
        self._thread = _Worker(group.run if group is not None else self.trainer.run, self)
        self._thread.finished.connect(self._on_thread_finished)
        self._holds_guard = False

    # -- control (GUI thread) -----------------------------------------------------------
    def start(self) -> None:
        guard().hold()
        gil_switching().hold()
        self._holds_guard = True
        self._thread.start()

    def stop(self) -> None:
        self.trainer.stop()

    def pause(self) -> None:
        self.trainer.pause()

    def resume(self) -> None:
        self.trainer.resume()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    @property
    def paused(self) -> bool:
        return self.trainer.paused

    def wait(self, ms: int) -> bool:
        """Block until the thread has finished, at most `ms` milliseconds; True when it has."""
        finished = self._thread.wait(ms)
        if finished:
            self._release_guard()
        return finished

    def _release_guard(self) -> None:
        if self._holds_guard:
            self._holds_guard = False
            guard().release()
            gil_switching().release()

    # -- the training thread ------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        extra = []
        kind = event.kind
        if self._boundary_wanted and kind in ("run_started", "epoch_ended"):
            extra = self._boundary(event)
        if kind == "run_started":
            self.started_run = True
            if self.resume_from is not None and self.out_dir is not None:
                extra.insert(0, self._history(event.start_epoch))
        urgent = not self._lazy or kind in URGENT
        with self._lock:
            self._queue.append(event)
            self._queue.extend(extra)
            wake = urgent and not self._pending
            if wake:
                self._pending = True
        if wake:
            self._wake.emit()

    def _history(self, start_epoch: int) -> RunHistory:
        from app.training.runs import read_steps

        steps, losses = read_steps(self.out_dir, self.trainer.global_step)
        return RunHistory(tuple(e for e in self.trainer.history if e.epoch <= start_epoch), steps, losses)

    def _boundary(self, event: Any) -> list[Any]:
        try:
            if event.kind == "run_started":
                from app.training.boundary import BoundaryProbe, boundary_problem

                problem = boundary_problem(self.trainer)
                if problem is not None:
                    self._boundary_wanted = False
                    return [BoundaryUnavailable(problem)]
                self._probe = BoundaryProbe(self.trainer)
                return [self._probe.points(), self._frame(event.start_epoch)]
            last = event.epoch >= event.epochs
            if self._probe is None or (time.perf_counter() - self._last_boundary < self._boundary_gap and not last):
                return []
            return [self._frame(event.epoch)]
        except Exception as exc:  # noqa: BLE001 -- a view must never stop the run
            self._boundary_wanted = False
            return [HookFailed(f"the decision boundary view stopped: {type(exc).__name__}: {exc}")]

    def _frame(self, epoch: int):
        cpu = time.thread_time()
        frame = self._probe.frame(epoch)
        self._last_boundary = time.perf_counter()
        self._boundary_gap = max(1.0 / BOUNDARY_HZ, (time.thread_time() - cpu) / BOUNDARY_SHARE)
        return frame

    # -- the GUI thread -----------------------------------------------------------------
    def drain(self) -> None:
        """Hand what the training thread sent over to the GUI thread now (`events`)."""
        self._drain()

    def _drain(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
            self._pending = False
        if batch:
            self.delivered += len(batch)
            self.wakeups += 1
            self.events.emit(batch)

    def _on_thread_finished(self) -> None:
        self._release_guard()
        self._drain()
        self.result = self._thread.result if self._thread.result is not None else self.trainer.result
        self.ended.emit(self.result)
