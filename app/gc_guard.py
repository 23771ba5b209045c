"""Collect garbage on the GUI thread only, while LayerLoom's own Python threads run.

Python's cyclic collector runs on whichever thread happens to allocate. When that is the
training thread (or the engine loader) and the garbage holds Qt objects from the GUI thread (a
closed window, a replaced plot), their C++ destructors run on the wrong thread: PySide6 6.11
then deadlocks (the worker holds a Qt mutex and waits for the GIL, the GUI thread holds the GIL
and waits for that mutex; seen in the test suite) or crashes. pyqtgraph's `GarbageCollector`
answers this the same way: switch automatic collection off and collect on a GUI-thread timer.

LayerLoom does that only while a worker thread is alive: each one `hold()`s the guard when it
starts and `release()`s it (on the GUI thread) when it has finished; the last release turns
automatic collection back on as it was.

The first hold also freezes every object alive at that moment (`gc.freeze()`): a full collection
of the window's ~200,000 objects (Qt wrappers, torch, NodeGraphQt) stalled the event loop for
40-90 ms on every tenth GUI-thread collection during a run; frozen, it only walks what the run
allocated (under 1 ms). Garbage that existed before the run waits until the last release
unfreezes it.

A design's objects are frozen too once its items are built (`design_built`): they live as long
as it is open, and unfrozen every full collection walked them all (0.2-1 s at 5,000 nodes, now
and then while the user edits). A worker's release then leaves them frozen (what its hold froze
besides waits as well); `design_replaced` unfreezes it all when another design is shown, so that
the automatic collector frees the old design's garbage.
"""
from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Iterator

from PySide6 import QtCore

INTERVAL_MS = 500


class CountedHold:
    """`hold()` and `release()` from any number of holders: the first hold and the last release
    act (`_first_hold`, `_last_release`); a release without a hold does nothing."""

    holders = 0

    def hold(self) -> None:
        if self.holders == 0:
            self._first_hold()
        self.holders += 1

    def release(self) -> None:
        if self.holders == 0:
            return
        self.holders -= 1
        if self.holders == 0:
            self._last_release()

    def _first_hold(self) -> None:
        raise NotImplementedError

    def _last_release(self) -> None:
        raise NotImplementedError


class GuiThreadCollection(CountedHold, QtCore.QObject):
    """A counted hold on "collect on the GUI thread only"; use `guard()` for the shared one."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.holders = 0
        self._was_enabled = True
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self.design_frozen = False

    def _first_hold(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        gc.freeze()
        self._timer.start()

    def _last_release(self) -> None:
        self._timer.stop()
        if not self.design_frozen:
            gc.unfreeze()
        self.collect_due()
        if self._was_enabled:
            gc.enable()

    def collect_due(self) -> None:
        """Collect the generations the automatic collector would have collected by now."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        generation = -1
        for level in range(3):
            if counts[level] <= thresholds[level]:
                break
            generation = level
        if generation >= 0:
            gc.collect(generation)

    # -- a design's objects ----------------------------------------------------------------
    def design_built(self) -> None:
        """Every item of the shown design is built (on the GUI thread, in idle time): the young
        garbage is collected and what lives is frozen."""
        gc.collect(1)
        gc.freeze()
        self.design_frozen = True

    @contextlib.contextmanager
    def opening(self) -> Iterator[None]:
        """No automatic collection while a design file is read, analysed and handed to the canvas:
        the ~500,000 objects a 5,000-node design makes set off collections that walked them again
        and again (150 ms of a 0.45 s open). The collector runs again once the open returns."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was_enabled:
                gc.enable()

    def design_replaced(self) -> None:
        """Another design is being shown: what the last one froze can be collected again."""
        if self.design_frozen:
            self.design_frozen = False
            gc.unfreeze()


@functools.cache
def guard() -> GuiThreadCollection:
    """The process's one guard, created on (and owned by) the GUI thread."""
    return GuiThreadCollection()
