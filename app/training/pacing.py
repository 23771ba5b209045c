"""How often the live plots may redraw while a run trains: a budget on the GUI thread's CPU time.

Why CPU time, and why all of it: the training thread and the GUI thread share the GIL, and on a
machine with few cores they share the cores too. A redraw costs far more than its own `draw()`:
pyqtgraph's Python paints, Qt's layout and the window's flush follow it in the event loop (on a
2-core machine a 1 ms `draw()` came to about 6 ms of GUI-thread CPU). So the budget is measured
where all of that lands, `time.thread_time()` of the GUI thread, and it holds the whole GUI
thread (event handling, badges, progress bar and plots together) to `share` of the wall clock.
The plots take what the rest leaves: a fast machine gets more redraws, a slow one fewer, and
the training thread keeps its pace on both.

Call `allows()` on the GUI thread only (thread time is per thread).

The user's own work during a run (a click shows the node in Properties, the wheel zooms the
canvas, a drag pans it) goes through `Paced`: done at once while the thread is within the
budget, else folded into one call when the budget allows again (issue 11: a click every 50 ms
rebuilt Properties and redrew three plots per click, and training fell to 0.18x).
"""
from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable

from PySide6 import QtCore

from app.gc_guard import CountedHold

GUI_SHARE = 0.04      # the GUI thread's CPU time while a run trains, as a share of the wall clock
BURST_S = 0.05        # idle time is saved up to this much CPU time (a redraw or two at once)
MAX_DEBT_S = 0.5      # an overspent thread is not held back for more than share / this long
TRAINING_SWITCH_S = 0.0005   # the GIL's switch interval while a run trains (Python's default: 0.005)
RETRY_MS = 40         # paced work that had to wait asks the budget again after this long
LONGEST_WAIT_S = 0.5  # and is done after this long whatever the budget (the user is waiting for it)


class CpuBudget:
    """A leaky bucket of GUI-thread CPU time: it fills at `share` seconds per second and each
    call to `allows()` pays what the thread used since the last call."""

    def __init__(self, share: float = GUI_SHARE, *, cpu: Callable[[], float] = time.thread_time,
                 wall: Callable[[], float] = time.monotonic):
        self.share = share
        self._cpu, self._wall = cpu, wall
        self.reset()

    def reset(self) -> None:
        """Start afresh (a new run): no debt, no savings."""
        self.debt = 0.0
        self._last_cpu, self._last_wall = self._cpu(), self._wall()

    def allows(self) -> bool:
        """True when the thread is within its share, counting everything it did since the last call."""
        cpu, wall = self._cpu(), self._wall()
        self.debt += (cpu - self._last_cpu) - self.share * (wall - self._last_wall)
        self.debt = min(max(self.debt, -BURST_S), MAX_DEBT_S)
        self._last_cpu, self._last_wall = cpu, wall
        return self.debt <= 0.0


@functools.cache
def gui_budget() -> CpuBudget:
    """The budget the user's paced work asks (the plots keep their own, the same rule)."""
    return CpuBudget()


class Paced(QtCore.QObject):
    """Calls `work` at once, or, while `busy()` (a run trains) and the GUI thread is over its
    CPU budget, once later: every call while it waits folds into that one, which runs when the
    budget allows or after LONGEST_WAIT_S."""

    def __init__(self, work: Callable[[], None], busy: Callable[[], bool], budget: CpuBudget | None = None,
                 parent: QtCore.QObject | None = None, *, wall: Callable[[], float] = time.monotonic):
        super().__init__(parent)
        self._work, self._busy = work, busy
        self._budget = budget
        self._wall = wall
        self._waiting_since: float | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RETRY_MS)
        self._timer.timeout.connect(self._try)

    @property
    def waiting(self) -> bool:
        return self._waiting_since is not None

    def __call__(self) -> None:
        if not self.waiting:
            self._try()

    def _try(self) -> None:
        now = self._wall()
        budget = self._budget or gui_budget()
        if (not self._busy() or budget.allows()
                or (self.waiting and now - self._waiting_since >= LONGEST_WAIT_S)):
            self._waiting_since = None
            self._timer.stop()
            self._work()
            return
        if not self.waiting:
            self._waiting_since = now
        self._timer.start()


class GilSwitching(CountedHold):
    """A counted hold on a short GIL switch interval, taken while a run trains in the window.

    Why: the training thread gives up the GIL in every torch operation and must take it back
    between them. With Python's 5 ms interval, a GUI-thread redraw holding the GIL for 4 ms kept
    the training thread waiting for all of it: 4 ms of Python every 50 ms on the GUI thread cost
    training 15 % on a 2-core machine. At 0.5 ms the redraw is made to hand the GIL over after
    at most 0.5 ms, so it runs while the training thread is inside torch: the same work cost 4.5 %
    (a measured loop of the digits CNN against a GUI-like load, interleaved, 3 repeats). One
    thread alone never switches, so nothing else changes."""

    def __init__(self) -> None:
        self._was = sys.getswitchinterval()

    def _first_hold(self) -> None:
        self._was = sys.getswitchinterval()
        sys.setswitchinterval(TRAINING_SWITCH_S)

    def _last_release(self) -> None:
        sys.setswitchinterval(self._was)


@functools.cache
def gil_switching() -> GilSwitching:
    """The process's one hold (the interval is the interpreter's, not a thread's)."""
    return GilSwitching()
