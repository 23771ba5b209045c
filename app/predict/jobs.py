"""One worker thread for the Predict panel's torch work, results delivered by a signal.

`submit(kind, job)` queues a callable; a newer job of the same kind replaces one not yet started
(a burst of clicks on the 2-D plot computes the last point, not each), so the thread never falls
behind the user. `done(kind, result)` or `failed(kind, message)` fire on the GUI thread. While
the thread has work, garbage is collected on the GUI thread only (app.gc_guard), as for training.
"""
from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

from app.gc_guard import guard


class JobRunner(QtCore.QObject):
    done = QtCore.Signal(str, object)
    failed = QtCore.Signal(str, str)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._jobs: dict[str, Callable[[], Any]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._holding = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.pending = 0   # asked and not yet answered on the GUI thread (replaced jobs are never answered)
        self.done.connect(self._answered)     # connected first: runs before the owner's slots
        self.failed.connect(self._answered)

    @property
    def busy(self) -> bool:
        """An answer is still to come (it may be computed already and waiting in the event queue)."""
        return self.pending > 0

    def submit(self, kind: str, job: Callable[[], Any]) -> None:
        if not self._holding:
            guard().hold()
            self._holding = True
        with self._lock:
            if self._jobs.pop(kind, None) is None:
                self.pending += 1
            self._jobs[kind] = job   # to the end: jobs run in the order they were last asked for
            self._wake.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="layerloom-predict", daemon=True)
            self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._jobs.clear()
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._jobs and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                kind = next(iter(self._jobs))
                job = self._jobs.pop(kind)
            try:
                result = job()
            except Exception as exc:  # noqa: BLE001 -- shown in the panel; PredictError carries the user's fix
                message = str(exc) if type(exc).__name__ == "PredictError" else \
                    f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
                self._emit(self.failed, kind, message)
            else:
                self._emit(self.done, kind, result)

    @staticmethod
    def _emit(signal, *args) -> None:
        with contextlib.suppress(RuntimeError):   # the window is going away
            signal.emit(*args)

    def _answered(self, *_args) -> None:
        self.pending = max(self.pending - 1, 0)
        if self._holding and self.pending == 0:
            self._holding = False
            guard().release()
