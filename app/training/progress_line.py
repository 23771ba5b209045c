"""The Training panel's run line: the progress bar and the status line under it, which shows a
hint before a run (app.notice.idle_hint), the run's figures while it trains, and its outcome."""
from __future__ import annotations

import math

from PySide6 import QtWidgets

from app.notice import idle_hint
from app.text_fit import FittedProgressBar


def duration_text(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def rate_text(per_s: float) -> str:
    if per_s >= 10_000:
        return f"{per_s / 1000:.0f}k"
    if per_s >= 1000:
        return f"{per_s / 1000:.1f}k"
    return f"{per_s:.0f}"


class ProgressLine:
    """The progress bar and the status line of the TrainingPanel (a mixin of it: the panel's
    layout places them; the panel has `doc`)."""

    def _make_progress_line(self, outer: QtWidgets.QVBoxLayout) -> None:
        self.progress = FittedProgressBar()
        self.progress.setObjectName("trainingProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("not running")
        outer.addWidget(self.progress)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        self._hint = ""
        self.show_hint()

    def show_hint(self) -> None:
        """The line before a run: Train only when there is a data set to train on (app.notice)."""
        self._hint = idle_hint(self.doc.project)
        self.status.setText(self._hint)

    def _refresh_hint(self) -> None:
        if self.status.text() == self._hint:  # not a run's own line, which stays until the next
            self.show_hint()

    def show_progress(self, p, status: str) -> None:
        if status == "starting":  # not Qt's busy indicator: it animates (repaints) without end
            self._set_progress(0.0, ["starting…"])
            return
        parts = [status] if status in ("paused", "stopping") else []
        parts += [f"epoch {max(p.epoch, 1)}/{p.epochs}", f"step {p.step:,}/{p.total_steps:,}"]
        drop = [len(parts) - 1]   # a narrow panel loses the step count, then the rate: never the ETA's time
        if status in ("running", "paused", "stopping"):
            if p.samples_per_s:
                drop.append(len(parts))
                parts.append(f"{rate_text(p.samples_per_s)} samples/s")
            parts.append(f"ETA {duration_text(p.eta_s)}")
        self._set_progress(p.fraction, parts, tuple(drop))

    def show_result(self, text: str, fraction: float | None = None) -> None:
        self._set_progress(fraction, text.split(" · "))

    def _set_progress(self, fraction: float | None, parts: list[str], drop_order: tuple[int, ...] = ()) -> None:
        """QProgressBar.setValue repaints at once, on the GUI thread and holding the GIL the
        training thread needs (2 ms here); with updates held back it repaints later, in the
        event loop, once for the value and the text together."""
        bar = self.progress
        bar.setUpdatesEnabled(False)
        bar.setRange(0, 1000)
        if fraction is not None:
            bar.setValue(round(fraction * 1000))
        bar.set_parts(parts, drop_order)
        bar.setUpdatesEnabled(True)