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
"""
from __future__ import annotations

import time
from collections.abc import Callable

GUI_SHARE = 0.04      # the GUI thread's CPU time while a run trains, as a share of the wall clock
BURST_S = 0.05        # idle time is saved up to this much CPU time (a redraw or two at once)
MAX_DEBT_S = 0.5      # an overspent thread is not held back for more than share / this long


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
