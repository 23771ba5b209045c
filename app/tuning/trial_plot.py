"""The Search panel's plot (`tunePlot`): the metric per trial with the best so far, or against one
searched parameter, each trial a point coloured by its metric (bright = better).

`points()` says what is drawn for a set of trials (plain data, tested without a window). The panel
imports this module when the Search dock is first shown, so pyqtgraph never loads at start-up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pyqtgraph as pg
from PySide6 import QtWidgets

TRIAL_AXIS = "trial number"
DARK, BRIGHT = (68, 36, 110), (250, 220, 60)   # worst .. best


@dataclass
class Points:
    xs: list[float]
    ys: list[float]
    colors: list[tuple[int, int, int]]
    best: list[float] = field(default_factory=list)    # the best so far, per point (the trial axis only)
    ticks: list[tuple[float, str]] | None = None        # a choice's values on the x axis
    log_x: bool = False


def _finished(rows) -> list:
    return [r for r in rows if r.state == "done" and r.value is not None and math.isfinite(r.value)]


def colors(values: list[float], direction: str) -> list[tuple[int, int, int]]:
    """Each value's colour on the dark-to-bright ramp, the best value brightest."""
    if not values:
        return []
    low, high = min(values), max(values)
    out = []
    for v in values:
        t = 0.5 if high == low else (v - low) / (high - low)
        t = t if direction == "maximize" else 1.0 - t
        out.append(tuple(round(a + (b - a) * t) for a, b in zip(DARK, BRIGHT)))
    return out


def points(rows, axis: str, direction: str) -> Points:
    """What the plot shows for finished trials: x the trial number (with the best so far) or the
    value of the searched key `axis` (choices as positions with their names; a log scale when every
    value is positive and they span more than a decade)."""
    done = sorted(_finished(rows), key=lambda r: r.number)
    if axis == TRIAL_AXIS:
        ys = [r.value for r in done]
        pick = max if direction == "maximize" else min
        best = [pick(ys[: i + 1]) for i in range(len(ys))]
        return Points([float(r.number) for r in done], ys, colors(ys, direction), best)
    done = [r for r in done if axis in r.params]
    values: list[Any] = [r.params[axis] for r in done]
    ys = [r.value for r in done]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        xs = [float(v) for v in values]
        log_x = bool(xs) and min(xs) > 0 and max(xs) / min(xs) > 10
        return Points(xs, ys, colors(ys, direction), log_x=log_x)
    names = sorted({str(v) for v in values})
    xs = [float(names.index(str(v))) for v in values]
    return Points(xs, ys, colors(ys, direction), ticks=[(float(i), n) for i, n in enumerate(names)])


class TrialPlot(QtWidgets.QWidget):
    """The plot with its axis chooser (`tunePlotAxis`: the trial number or a searched key)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Plot against"))
        self.axis = QtWidgets.QComboBox()
        self.axis.setObjectName("tunePlotAxis")
        self.axis.setToolTip("the trial number (with the best so far), or a searched parameter: each trial a "
                             "point, coloured by its metric (bright = better)")
        self.axis.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.axis.setMinimumContentsLength(12)
        self.axis.addItem(TRIAL_AXIS)
        self.axis.currentTextChanged.connect(lambda _t: self.draw())
        top.addWidget(self.axis, 1)
        layout.addLayout(top)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("tunePlot")
        self.best_line = self.plot.plot([], [], pen=pg.mkPen((255, 190, 60), width=2))
        self.scatter = self.plot.plot([], [], pen=None, symbol="o", symbolSize=9, symbolPen=pg.mkPen(20, 20, 24))
        layout.addWidget(self.plot, 1)
        self.rows: list = []
        self.metric_name, self.direction = "", "minimize"
        self.shown: Points | None = None

    def set_keys(self, keys: list[str]) -> None:
        """The searched keys offered as axes (the chosen one kept while it is still searched)."""
        if keys != [self.axis.itemText(i) for i in range(1, self.axis.count())]:
            chosen = self.axis.currentText()
            self.axis.blockSignals(True)
            self.axis.clear()
            self.axis.addItems([TRIAL_AXIS, *keys])
            self.axis.setCurrentText(chosen if chosen in keys else TRIAL_AXIS)
            self.axis.blockSignals(False)

    def show_trials(self, rows: list, metric: str, direction: str) -> None:
        self.rows, self.metric_name, self.direction = rows, metric, direction
        self.draw()

    def draw(self) -> None:
        axis = self.axis.currentText() or TRIAL_AXIS
        shown = self.shown = points(self.rows, axis, self.direction)
        self.plot.setLogMode(x=shown.log_x, y=False)
        self.scatter.setData(shown.xs, shown.ys, symbolBrush=[pg.mkBrush(*c) for c in shown.colors])
        self.best_line.setData(shown.xs if shown.best else [], shown.best)
        bottom = self.plot.getAxis("bottom")
        bottom.setTicks([shown.ticks] if shown.ticks else None)
        self.plot.setLabel("bottom", axis)
        self.plot.setLabel("left", self.metric_name)
