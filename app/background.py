"""One call on a background thread, its result delivered on the GUI thread.

For work that runs the user's code or PyTorch (reading a model file, importing it, loading a data
set): the GUI thread never imports torch (app/training/loader.py). The work returns its result, or
a `Refusal` for a mistake it expects (a refused import, a data set without classes); anything it
did not expect is a Refusal too, worded as a bug, never a traceback.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6 import QtCore

from app.gc_guard import guard


@dataclass
class Refusal:
    """Why the work did not happen: a message, and each part it names (`where (file.py:LINE): why`)."""

    message: str
    problems: list[str] = field(default_factory=list)


_RUNNING: set[QtCore.QObject] = set()  # a strong reference until done: a collected job hears nothing


class Job(QtCore.QObject):
    """Runs `work` on a daemon thread; `then` gets its result (or a Refusal) on the GUI thread,
    unless `owner` (the dialog or object that asked) has been deleted by then."""

    done = QtCore.Signal(object)

    def __init__(self, work: Callable[[], Any], then: Callable[[Any], None], owner: QtCore.QObject):
        super().__init__()  # no parent: a job outlives an owner deleted meanwhile, and still releases the guard
        self._work, self._then, self._owner = work, then, owner
        guard().hold()  # GUI-thread-only collection while the thread runs (app.gc_guard)
        # One connection, made before the thread starts (a quick job must not finish unheard); a
        # second one, to a lambda, was sometimes never called once the first had run.
        self.done.connect(self._finished)
        _RUNNING.add(self)
        threading.Thread(target=self._run, name="layerloom-job", daemon=True).start()

    def _run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:  # noqa: BLE001 -- shown as a message, never as a traceback
            result = Refusal(f"this failed unexpectedly ({type(exc).__name__}: {exc}); this is a LayerLoom bug, "
                             "please report it")
        with contextlib.suppress(RuntimeError):  # the application is going away
            self.done.emit(result)

    def _finished(self, result: Any) -> None:
        guard().release()
        _RUNNING.discard(self)
        self.deleteLater()
        if shiboken6.isValid(self._owner):  # an owner gone meanwhile (a closed dialog) hears nothing
            self._then(result)
