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

A design's objects get the same treatment (`design_loading`, `design_built`): while a big
design's items are built, no automatic full collection runs (each walked every object of the
nodes built so far: 0.2-1 s turns); once they are built, one full collection on the GUI thread
frees the garbage of the design it replaced (0.9-1.0 s of event-loop turns after a 5,000-node
one) and freezes what is alive, since it stays alive as long as the design is open. A worker's
release then leaves the design frozen; what its hold froze besides waits for the next design.
"""
from __future__ import annotations

import functools
import gc

from PySide6 import QtCore

INTERVAL_MS = 500
NO_FULL = 1 << 30  # a threshold for the oldest generation that automatic collection never reaches


class GuiThreadCollection(QtCore.QObject):
    """A counted hold on "collect on the GUI thread only"; use `guard()` for the shared one."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.holders = 0
        self._was_enabled = True
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self._thresholds: tuple[int, int, int] | None = None  # as they were before a design loaded
        self.design_frozen = False

    def hold(self) -> None:
        if self.holders == 0:
            self._was_enabled = gc.isenabled()
            gc.disable()
            gc.freeze()
            self._timer.start()
        self.holders += 1

    def release(self) -> None:
        if self.holders == 0:
            return
        self.holders -= 1
        if self.holders == 0:
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
    def design_loading(self) -> None:
        """A big design's items are being built: young generations only, until `design_built`."""
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            gc.set_threshold(*self._thresholds[:2], NO_FULL)

    def design_built(self) -> None:
        """The shown design is built (call it on the GUI thread, in idle time): the garbage of what
        it replaced is collected here, once, and what is alive is frozen."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.design_frozen = True


@functools.cache
def guard() -> GuiThreadCollection:
    """The process's one guard, created on (and owned by) the GUI thread."""
    return GuiThreadCollection()
