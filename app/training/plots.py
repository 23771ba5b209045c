"""The live plots (pyqtgraph; object names per DESIGN §6).

Each plot is a `PlotFrame`: a title row (title, its own controls, PNG and CSV buttons) over a
pyqtgraph view. Plots never redraw per event: the controller's timer calls `refresh()` at a
bounded rate, and a frame redraws only when its part of the RunData changed (its revision), it
is visible (a hidden one catches up when shown), its own `min_gap` has passed and the GUI
thread is within its CPU budget (app.training.pacing); the most overdue plots go first. Data
is replaced with `setData`/`setImage`; ranges are never set by the plots, so pyqtgraph's
auto-range follows the data until the user zooms or pans, and from then on the user's view
stays (the "A" button in the corner goes back to following). Right-click a plot for Save as PNG / Save data as CSV too.

Before a run each plot says what it will show (`EmptyState`) over sane axes (`empty_ranges`);
the time axis spans the planned epochs while a run goes, and what was trained once it has ended
(a run stopped at epoch 3 of 400 fills the axis, not its left 1 %).
"""
from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from app.training.boundary import class_color
from app.training.pacing import CpuBudget
from app.training.plot_parts import (
    EmptyState,
    TitleLine,
    _bounds,
    _finite,
    _NodeChooser,
    mosaic,
    nice_range,
    strips,
)
from app.training.store import RunData

BACKGROUND = (30, 30, 32)
pg.setConfigOptions(background=BACKGROUND, foreground=(200, 204, 210), antialias=False)

TRAIN_COLOR = (96, 165, 250)
VAL_COLOR = (250, 152, 60)
OVERLAY_COLORS = ((150, 150, 160), (190, 140, 200), (130, 190, 160), (200, 190, 120))
STARVED_S = 2.0   # a plot whose data changed redraws after this long even when the budget is spent
MAX_PER_TICK = 2  # plots redrawn in one timer tick (the most overdue first): bounds the event loop's latency
MARKED_POINTS = 25        # epoch curves show a marker per point up to this many points
SAMPLES_PER_PIXEL = 1.0   # per-step curves are thinned to about this many points per pixel (peak-preserving)


def _pen(color, width: float = 1.5, alpha: int = 255, dash: bool = False):
    pen = pg.mkPen((*color, alpha), width=width)
    if dash:
        pen.setStyle(QtCore.Qt.PenStyle.DashLine)
    return pen


def _mark_points(curve, count: int, symbol: str = "o") -> None:
    """Per-epoch markers while a curve has few points (a single epoch shows as a dot, not as an
    invisible line); none beyond MARKED_POINTS, where they would cost more than they show."""
    wanted = symbol if count <= MARKED_POINTS else None
    if curve.opts["symbol"] != wanted:
        curve.setSymbol(wanted)


class PlotFrame(QtWidgets.QFrame):
    """A titled plot that redraws from a RunData when its group's revision moved, at most every
    `min_gap` seconds (the panel's CPU budget decides how often it really does)."""

    group = "loss"
    title = ""
    min_gap = 0.25
    empty_text = ""

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.store: RunData | None = None
        self.overlays: list = []
        self.selected: str | None = None
        self._drawn: tuple | None = None
        self.redraws = 0
        self._last_draw = -1e9
        self.user_range = False   # the user zoomed or panned: the plot keeps their view
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.setSpacing(1)
        self.header = QtWidgets.QHBoxLayout()
        self.header.setContentsMargins(4, 0, 2, 0)
        self.header.setSpacing(4)
        self.title_line = TitleLine(self.title)
        self.title_line.setObjectName(f"{name}Title")
        self.header.addWidget(self.title_line, 1)   # takes the room the controls leave
        outer.addLayout(self.header)
        self.view = self.make_view()
        self.view.setObjectName(f"{name}View")
        outer.addWidget(self.view, 1)
        self.empty = EmptyState(self.view, [item.getViewBox() for item in self.plot_items()])
        self._controls()
        for label, tip, slot in (("PNG", "Save this plot as a PNG image", self.save_png_dialog),
                                 ("CSV", "Save this plot's data as CSV", self.save_csv_dialog)):
            button = QtWidgets.QToolButton()
            button.setText(label)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setObjectName(f"{name}Save{label}")
            button.clicked.connect(slot)
            self.header.addWidget(button)
        for vb in self.view_boxes():
            vb.disableAutoRange()
            vb.sigRangeChangedManually.connect(self._on_user_range)
            menu = vb.menu
            menu.addSeparator()
            menu.addAction("Save as PNG…", self.save_png_dialog)
            menu.addAction("Save data as CSV…", self.save_csv_dialog)
        for item in self.plot_items():
            item.autoBtn.clicked.connect(self.follow_again)  # after pyqtgraph's own handler
            for side in ("left", "bottom", "right"):  # 0.002, not 2 with "(x0.001)" in the label
                axis = item.getAxis(side)
                axis.setSIPrefixEnableRanges(())
                axis.updateAutoSIPrefix()

    def plot_items(self) -> list:
        return [self.view.getPlotItem()]

    def _on_user_range(self, *_args) -> None:
        self.user_range = True

    def follow_again(self) -> None:
        """Follow the data again (the "A" button)."""
        self.user_range = False
        for vb in self.view_boxes():
            vb.disableAutoRange()
        self._drawn = None
        self.refresh(force=True)

    def follow(self, vb, x: tuple[float, float] | None = None, y: tuple | None = None, ylog: bool = False,
               exact_x: bool = True, exact_y: bool = False) -> None:
        """Move the view to the data (see `nice_range`) unless the user has taken it over.
        `x`/`y` are (low, high) of the data; exact_* sets that axis to it as it is."""
        if self.user_range:
            return
        current = vb.viewRange()
        new = [None, None]
        for axis, want, exact, log in ((0, x, exact_x, False), (1, y, exact_y, ylog)):
            if want is None or want[0] is None:
                continue
            if exact:
                lo, hi = want
                if hi <= lo:
                    hi = lo + 1.0
                if (lo, hi) != tuple(current[axis]):
                    new[axis] = (lo, hi)
            else:
                new[axis] = nice_range(want[0], want[1], tuple(current[axis]), log)
        if new[0] is not None or new[1] is not None:
            vb.setRange(xRange=new[0] or current[0], yRange=new[1] or current[1], padding=0, update=True,
                        disableAutoRange=True)

    def horizon(self) -> tuple[float, float]:
        """The time axis in epochs: the whole run while it goes, what it trained once it has
        ended (stopped early: its data fill the axis); and any overlaid run."""
        epochs = 0.0
        store = self.store
        if store is not None and store.result is not None:
            epochs = store.trained_epochs()
        elif store is not None and store.progress.epochs:
            epochs = float(store.progress.epochs)
        for run in self.overlays:
            if len(run.epochs):
                epochs = max(epochs, float(np.nanmax(run.epochs)))
        return (0.0, max(epochs, 1.0))

    # -- to override ------------------------------------------------------------------
    def make_view(self) -> QtWidgets.QWidget:
        return pg.PlotWidget()

    def view_boxes(self) -> list:
        return [self.view.getPlotItem().getViewBox()]

    def _controls(self) -> None:
        pass

    def draw(self, store: RunData) -> None:
        raise NotImplementedError

    def clear_view(self) -> None:
        pass

    @staticmethod
    def ranges(*pairs, x=(0.0, 1.0), y=(0.0, 1.0)):
        """An `empty_ranges` method: (x, y) ranges per plot item, or `x` and `y` for the one."""
        return lambda _self: list(pairs) or [(x, y)]

    def empty_ranges(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """(x range, y range) of each plot item before there is data: one epoch, 0 to 1."""
        return [((0.0, 1.0), (0.0, 1.0))] * len(self.plot_items())

    def empty_reason(self, store: RunData | None) -> str | None:
        """What the plot says over its axes instead of data: what a run will show here."""
        return self.empty_text if store is None or store.started is None else None

    def csv_table(self) -> tuple[list[str], list[list]]:
        return [], []

    # -- redrawing ----------------------------------------------------------------------
    def set_store(self, store: RunData | None) -> None:
        self.store = store
        self.user_range = False
        self._drawn = None
        self.clear_view()
        for item, (x, y) in zip(self.plot_items(), self.empty_ranges()):
            item.getViewBox().setRange(xRange=x, yRange=y, padding=0)
        self.empty.show_text(self.empty_reason(store))
        self.refresh()

    def set_overlays(self, overlays: list) -> None:
        self.overlays = list(overlays)
        self._drawn = None
        self.refresh(force=True)   # what the user asked for shows at once, budget or not

    def select_node(self, node: str | None, at_once: bool = True) -> None:
        """Follow `node`: redrawn now, or (not `at_once`: a click on the canvas while a run
        trains) at the next redraw the GUI thread's CPU budget allows."""
        if node != self.selected:
            self.selected = node
            self._drawn = None
            if at_once:
                self.refresh(force=True)

    def _key(self) -> tuple:
        store = self.store
        return (id(store), store.revision[self.group] if store is not None else -1, self.selected, len(self.overlays))

    def due(self, now: float) -> float | None:
        """How overdue a redraw is (seconds past `min_gap`), or None when none is wanted now."""
        if self._key() == self._drawn or not self.isVisible():
            return None
        late = now - self._last_draw - self.min_gap
        return late if late >= 0 else None

    def refresh(self, force: bool = False) -> bool:
        """Redraw if the data changed since the last draw, the plot can be seen and `min_gap` has
        passed (`force`: now, whatever the gap and visibility); True if drawn."""
        key = self._key()
        if key == self._drawn and not force:
            return False
        now = time.monotonic()
        if not force and self.due(now) is None:
            return False
        self._drawn = key
        if self.store is not None:
            self.draw(self.store)
            self.empty.show_text(self.empty_reason(self.store))
            self.redraws += 1
        self._last_draw = time.monotonic()
        return True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QtCore.QTimer.singleShot(0, self.refresh)

    def received_data(self) -> bool:
        return self.store is not None and self.store.has_data(self.group)

    # -- saving ---------------------------------------------------------------------------
    def save_png(self, path: str | Path) -> bool:
        return self.view.grab().save(str(path), "PNG")

    def save_csv(self, path: str | Path) -> bool:
        header, rows = self.csv_table()
        try:
            with Path(path).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
        except OSError:
            return False
        return True

    def _ask_path(self, suffix: str, what: str) -> str:
        name = f"{self.objectName()}.{suffix}"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, f"Save {self.title} as {what}", name,
                                                        f"{what} (*.{suffix})")
        if path and not Path(path).suffix:
            path += f".{suffix}"
        return path

    def _report(self, ok: bool, path: str) -> None:
        window = self.window()
        if isinstance(window, QtWidgets.QMainWindow):
            window.statusBar().showMessage(f"Saved {path}" if ok else f"Could not write {path}", 8000)

    def save_png_dialog(self) -> None:
        path = self._ask_path("png", "PNG image")
        if path:
            self._report(self.save_png(path), path)

    def save_csv_dialog(self) -> None:
        path = self._ask_path("csv", "CSV")
        if path:
            self._report(self.save_csv(path), path)


def _plot_item(frame: PlotFrame):
    return frame.view.getPlotItem()


def _style(item, bottom: str, left: str) -> None:
    item.setLabel("bottom", bottom)
    item.setLabel("left", left)
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)


class LossPlot(PlotFrame):
    """Training loss per step (smoothed, with the raw values faint) and validation loss per epoch."""

    group = "loss"
    title = "Loss"
    min_gap = 0.1
    empty_text = "Train to see the training and validation loss"

    def _controls(self) -> None:
        item = _plot_item(self)
        _style(item, "epoch", "loss")
        self.legend = item.addLegend(offset=(-6, 6), labelTextSize="8pt")
        self.overlay_items: list = []
        self.raw = item.plot(pen=_pen(TRAIN_COLOR, 1, 70), connect="finite", autoDownsampleFactor=SAMPLES_PER_PIXEL)
        self.smooth = item.plot(pen=_pen(TRAIN_COLOR, 2), name="train (smoothed)", connect="finite",
                                autoDownsampleFactor=SAMPLES_PER_PIXEL)
        self.val = item.plot(pen=_pen(VAL_COLOR, 2), symbol="o", symbolSize=5, symbolBrush=VAL_COLOR, symbolPen=None,
                             name="validation", connect="finite")
        self.log_box = QtWidgets.QCheckBox("log")
        self.log_box.setObjectName("lossPlotLog")
        self.log_box.setToolTip("logarithmic loss axis")
        self.log_box.toggled.connect(self.set_log)
        self.header.insertWidget(1, self.log_box)

    def set_log(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.log_box):
            self.log_box.setChecked(on)
        _plot_item(self).setLogMode(y=on)
        self.user_range = False
        self._drawn = None
        self.refresh(force=True)

    def clear_view(self) -> None:
        for curve in (self.raw, self.smooth, self.val):
            curve.setData([], [])

    def draw(self, store: RunData) -> None:
        steps = store.steps.array
        positive = self.log_box.isChecked()
        self.raw.setData(*_finite(steps[:, 0], steps[:, 2], positive))
        self.smooth.setData(*_finite(steps[:, 0], steps[:, 3], positive))
        table = store.epoch_table()
        val = _finite(table["epoch"], table["val_loss"], positive)
        _mark_points(self.val, len(val[0]))
        self.val.setData(*val)
        item = _plot_item(self)
        for old in self.overlay_items:
            item.removeItem(old)
        self.overlay_items = []
        for i, run in enumerate(self.overlays):
            color = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            train = item.plot(*_finite(run.steps_x, run.smoothed(), positive), pen=_pen(color, 1.2, 200, dash=True),
                              name=f"{run.name} train", autoDownsampleFactor=SAMPLES_PER_PIXEL)
            run_val = _finite(run.epochs, run.val_loss, positive)
            val = item.plot(pen=_pen(color, 1.2, 200, dash=True), name=f"{run.name} val", symbolSize=5,
                            symbolBrush=color, symbolPen=None)
            _mark_points(val, len(run_val[0]), "t")
            val.setData(*run_val)
            train.setZValue(-1)
            val.setZValue(-1)
            self.overlay_items += [train, val]
        overlay_values = [a for run in self.overlays for a in (run.steps_loss, run.val_loss)]
        lo, hi = _bounds(steps[:, 2], table["val_loss"], *overlay_values) if not positive else _bounds(
            *[a[a > 0] for a in (steps[:, 2], table["val_loss"], *overlay_values)])
        self.follow(item.getViewBox(), x=self.horizon(), y=(lo, hi), ylog=positive)
        last = steps[-1, 3] if len(steps) else math.nan
        detail = ""
        if math.isfinite(last):
            detail = f"train {last:.4g}"
            if len(table["val_loss"]) and math.isfinite(table["val_loss"][-1]):
                detail += f" · val {table['val_loss'][-1]:.4g}"
        self.title_line.set_text(self.title, detail)

    def csv_table(self) -> tuple[list[str], list[list]]:
        rows: list[list] = []
        store = self.store
        if store is not None:
            for x, step, loss, smooth in store.steps.array:
                rows.append(["train_loss", f"{x:.6g}", int(step), repr(float(loss))])
                rows.append(["train_loss_smoothed", f"{x:.6g}", int(step), repr(float(smooth))])
            for e in store.epochs:
                if e.val_loss is not None:
                    rows.append(["val_loss", e.epoch, "", repr(float(e.val_loss))])
        return ["series", "epoch", "step", "value"], rows


class MetricPlot(PlotFrame):
    """Accuracy (classification) or mean absolute error (regression), training and validation, per epoch."""

    group = "metric"
    title = "Accuracy"
    empty_text = "Train to see the accuracy (or the error) per epoch"
    empty_ranges = PlotFrame.ranges(y=(0.0, 100.0))

    def _controls(self) -> None:
        item = _plot_item(self)
        _style(item, "epoch", "accuracy (%)")
        self.legend = item.addLegend(offset=(-6, -6), labelTextSize="8pt")
        self.overlay_items: list = []
        self.train = item.plot(pen=_pen(TRAIN_COLOR, 2), symbol="o", symbolSize=4, symbolBrush=TRAIN_COLOR,
                               symbolPen=None, name="train", connect="finite")
        self.val = item.plot(pen=_pen(VAL_COLOR, 2), symbol="o", symbolSize=5, symbolBrush=VAL_COLOR, symbolPen=None,
                             name="validation", connect="finite")
        self.metric_name: str | None = None

    def clear_view(self) -> None:
        self.train.setData([], [])
        self.val.setData([], [])

    def draw(self, store: RunData) -> None:
        metric = store.main_metric()
        self.metric_name = metric
        item = _plot_item(self)
        percent = bool(metric and metric.endswith("accuracy"))
        name = "Accuracy" if percent else "Error (mean absolute)" if metric and metric.endswith("mae") else (
            metric or "Metric")
        item.setLabel("left", "accuracy (%)" if percent else (metric or "metric"))
        table = store.epoch_table()
        scale = 100.0 if percent else 1.0
        if metric is not None:
            for curve, prefix in ((self.train, "train"), (self.val, "val")):
                points = _finite(table["epoch"], table[f"{prefix}_{metric}"] * scale)
                _mark_points(curve, len(points[0]))
                curve.setData(*points)
        for old in self.overlay_items:
            item.removeItem(old)
        self.overlay_items = []
        for i, run in enumerate(self.overlays):
            color = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            for prefix in ("train", "val"):
                values = run.metrics.get(f"{prefix}_{metric}") if metric else None
                if values is None or len(values) != len(run.epochs):
                    continue
                curve = item.plot(*_finite(run.epochs, values * scale), pen=_pen(color, 1.2, 200, dash=True),
                                  name=f"{run.name} {prefix}")
                curve.setZValue(-1)
                self.overlay_items.append(curve)
        if percent:
            self.follow(item.getViewBox(), x=self.horizon(), y=(0.0, 101.0), exact_y=True)
        elif metric is not None:
            values = [table[f"train_{metric}"], table[f"val_{metric}"]]
            values += [run.metrics[k] for run in self.overlays for k in (f"train_{metric}", f"val_{metric}")
                       if k in run.metrics]
            self.follow(item.getViewBox(), x=self.horizon(), y=_bounds(*values))
        detail = ""
        if metric is not None and len(table["epoch"]):
            last = table[f"val_{metric}"][-1]
            if not math.isfinite(last):
                last = table[f"train_{metric}"][-1]
            if math.isfinite(last):
                detail = f"{last * scale:.4g}{'%' if percent else ''}"
        self.title_line.set_text(name, detail)

    def csv_table(self) -> tuple[list[str], list[list]]:
        store = self.store
        if store is None:
            return ["epoch"], []
        names = store.metric_names
        header = ["epoch"] + [f"train_{m}" for m in names] + [f"val_{m}" for m in names]
        rows = [[e.epoch] + [e.train_metrics.get(m, "") for m in names] + [e.val_metrics.get(m, "") for m in names]
                for e in store.epochs]
        return header, rows


class WeightsPlot(PlotFrame):
    """One layer's weight distribution over time: a strip per sample (x: time, y: weight value,
    brightness: how many weights), and its mean."""

    group = "weights"
    title = "Weights"
    empty_text = "Train to see how a layer's weights spread over time"
    empty_ranges = PlotFrame.ranges(y=(-1.0, 1.0))

    def _controls(self) -> None:
        item = _plot_item(self)
        _style(item, "epoch", "weight value")
        item.setDownsampling(auto=False)
        item.setClipToView(False)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get("inferno"))
        item.addItem(self.image)
        self.mean = item.plot(pen=_pen((235, 235, 235), 1.2, 200))
        self.chooser = _NodeChooser("weightsPlotLayer", "the layer whose weights are shown (or click its node)")
        self.chooser.activated.connect(lambda i: self.select_node(self.chooser.itemText(i)))
        self.header.insertWidget(1, self.chooser)

    def clear_view(self) -> None:
        self.image.clear()
        self.mean.setData([], [])

    def node(self, store: RunData) -> str | None:
        nodes = store.weight_nodes()
        if self.selected in nodes:
            return self.selected
        return nodes[0] if nodes else None

    def draw(self, store: RunData) -> None:
        node = self.node(store)
        self.chooser.set_nodes(store.weight_nodes(), node)
        history = store.weights.get(node) if node else None
        if not history:
            self.clear_view()
            return
        image, low, high = strips(history)
        xs = np.array([h[0] for h in history])
        x0 = float(xs[0])
        if len(xs) > 1:
            width = float(xs[-1] - xs[0])          # the strips fill the time sampled
        else:                                      # one snapshot: a strip wide enough to see, ending at it
            start, end = self.horizon()
            width = (end - start) / 50
            x0 -= width
        self.image.setImage(image, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QtCore.QRectF(x0, float(low), max(width, 1e-3), float(max(high - low, 1e-9))))
        self.mean.setData(np.linspace(x0, x0 + width, len(xs)) if len(xs) > 1 else xs,
                          np.array([h[2].mean for h in history]))
        self.follow(_plot_item(self).getViewBox(), x=self.horizon(), y=(low, high))
        last = history[-1][2]
        self.title_line.set_text(self.title, f"{node}: mean {last.mean:.3g} · std {last.std:.3g} · norm {last.norm:.3g}")

    def csv_table(self) -> tuple[list[str], list[list]]:
        rows: list[list] = []
        store = self.store
        node = self.node(store) if store is not None else None
        for x, step, hist in (store.weights.get(node, []) if node else []):
            edges = np.linspace(hist.low, hist.high, len(hist.counts) + 1)
            for k, count in enumerate(hist.counts):
                rows.append([node, f"{x:.6g}", step, repr(float(edges[k])), repr(float(edges[k + 1])), int(count)])
        return ["node", "epoch", "step", "bin_low", "bin_high", "count"], rows


class GradientsPlot(PlotFrame):
    """Each layer's gradient norm over time, on a log scale: vanishing and exploding gradients
    show as curves far below or above the rest."""

    group = "gradients"
    title = "Gradient norms"
    empty_text = "Train to see each layer's gradient norm"
    empty_ranges = PlotFrame.ranges(y=(-3.0, 1.0))   # log axis: 0.001 to 10

    def _controls(self) -> None:
        item = _plot_item(self)
        _style(item, "epoch", "gradient norm")
        item.setLogMode(y=True)
        self.legend = item.addLegend(offset=(-6, 6), labelTextSize="7pt", colCount=2)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._decades: list[int] = []

    def clear_view(self) -> None:
        """Empty the curves but keep them (and their legend entries): the next run of the same
        design draws into them instead of building them again."""
        for curve in self.curves.values():
            curve.setData([], [])

    def _reset_curves(self, nodes: list[str]) -> None:
        item = _plot_item(self)
        for curve in self.curves.values():
            item.removeItem(curve)
            self.legend.removeItem(curve)
        self.curves = {node: item.plot(name=node, connect="finite", symbolSize=5, symbolPen=None) for node in nodes}

    def draw(self, store: RunData) -> None:
        item = _plot_item(self)
        nodes = list(store.gradients)
        if not set(nodes) <= set(self.curves):
            self._reset_curves(nodes)
        for i, node in enumerate(nodes):
            curve = self.curves[node]
            color = pg.intColor(i, hues=max(len(nodes), 6), maxValue=235, sat=170).getRgb()[:3]
            chosen = node == self.selected
            curve.setPen(_pen(color, 3.0 if chosen else 1.4, 255 if chosen or self.selected is None else 150))
            curve.setZValue(2 if chosen else 0)
            series = store.gradients[node].array
            points = _finite(series[:, 0], series[:, 2], positive=True)
            curve.setSymbolBrush(color)
            _mark_points(curve, len(points[0]))
            curve.setData(*points)
        positive = [s.array[:, 2] for s in store.gradients.values()]
        positive = [a[(a > 0) & np.isfinite(a)] for a in positive]
        self.follow(item.getViewBox(), x=self.horizon(), y=_bounds(*positive), ylog=True)
        low, high = item.getViewBox().viewRange()[1]
        decades = list(range(math.ceil(low), math.floor(high) + 1))
        if decades != self._decades and 0 < len(decades) <= 12:  # a label per decade, not per 2, 3, ... 9
            self._decades = decades
            item.getAxis("left").setTicks([[(d, f"{10.0 ** d:g}") for d in decades], []])
        total = store.gradient_total.array
        self.title_line.set_text(self.title, f"total {total[-1, 2]:.3g}" if len(total) else "")

    def csv_table(self) -> tuple[list[str], list[list]]:
        rows: list[list] = []
        store = self.store
        if store is not None:
            for node, series in store.gradients.items():
                rows += [[node, f"{x:.6g}", int(step), repr(float(v))] for x, step, v in series.array]
            rows += [["(total)", f"{x:.6g}", int(step), repr(float(v))] for x, step, v in store.gradient_total.array]
        return ["node", "epoch", "step", "grad_norm"], rows


class ActivationsPlot(PlotFrame):
    """The selected node's activations on a fixed probe batch, side by side: their distribution
    now; their mean ± standard deviation over time, with the fraction of dead units (ReLU-like
    layers, orange, right axis); and for feature maps a grid of one sample's maps."""

    group = "activations"
    title = "Activations"
    empty_text = "Train to see a layer's activations on a probe batch"
    empty_ranges = PlotFrame.ranges(((-1.0, 1.0), (0.0, 1.0)), ((0.0, 1.0), (-1.0, 1.0)))

    def make_view(self) -> QtWidgets.QWidget:
        self._layout_key = None
        self._maps_shown = None
        view = pg.GraphicsLayoutWidget()
        view.ci.setContentsMargins(2, 2, 2, 2)
        view.ci.setSpacing(4)
        self.dist = pg.PlotItem()
        self.dist.setLabel("bottom", "value now")
        self.dist.hideAxis("left")
        self.hist = self.dist.plot(stepMode="center", fillLevel=0, brush=(*TRAIN_COLOR, 110), pen=_pen(TRAIN_COLOR, 1))
        self.stats = pg.PlotItem()
        self.stats.setLabel("bottom", "epoch")
        self.stats.setLabel("left", "mean ± std")
        self.mean = self.stats.plot(pen=_pen((240, 240, 240), 1.6), symbolSize=4, symbolPen=None,
                                    symbolBrush=(240, 240, 240))
        self.band_high = self.stats.plot(pen=_pen(TRAIN_COLOR, 0.8, 150))
        self.band_low = self.stats.plot(pen=_pen(TRAIN_COLOR, 0.8, 150))
        self.band = pg.FillBetweenItem(self.band_high, self.band_low, brush=(*TRAIN_COLOR, 50))
        self.stats.addItem(self.band)
        # dead fraction on its own right-hand axis (0..100 %), in a view box laid over the stats plot
        self.dead_box = pg.ViewBox(enableMenu=False)
        self.dead_box.setMouseEnabled(x=False, y=False)
        self.dead_box.setXLink(self.stats.getViewBox())
        self.dead_box.setYRange(0, 100, padding=0.02)
        self.dead_curve = pg.PlotDataItem(pen=_pen((240, 130, 40), 1.6))
        self.dead_box.addItem(self.dead_curve)
        self.stats.getViewBox().sigResized.connect(
            lambda *_: self.dead_box.setGeometry(self.stats.getViewBox().sceneBoundingRect()))
        self.maps_box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=True)
        self.maps = pg.ImageItem(axisOrder="row-major")
        self.maps.setColorMap(pg.colormap.get("viridis"))
        self.maps_box.addItem(self.maps)
        view.ci.addItem(self.dist, row=0, col=0)
        view.ci.addItem(self.stats, row=0, col=1)
        view.scene().addItem(self.dead_box)
        return view

    def view_boxes(self) -> list:
        return [self.dist.getViewBox(), self.stats.getViewBox(), self.maps_box]

    def plot_items(self) -> list:
        return [self.dist, self.stats]

    def _controls(self) -> None:
        self.chooser = _NodeChooser("activationsPlotNode", "the node whose activations are shown (or click its node)")
        self.chooser.activated.connect(lambda i: self.select_node(self.chooser.itemText(i)))
        self.header.insertWidget(1, self.chooser)
        self._arrange(False, False)

    def _arrange(self, dead: bool, maps: bool) -> None:
        key = (dead, maps)
        if key == self._layout_key:
            return
        self._layout_key = key
        layout = self.view.ci
        if dead:
            self.stats.showAxis("right")
            axis = self.stats.getAxis("right")
            axis.linkToView(self.dead_box)
            axis.setLabel("dead %", color="#f08228")
        else:
            self.stats.hideAxis("right")
        self.dead_box.setVisible(dead)
        if maps and self.maps_box not in layout.items:
            layout.addItem(self.maps_box, row=0, col=2)
        elif not maps and self.maps_box in layout.items:
            layout.removeItem(self.maps_box)
        self.maps_box.setVisible(maps)
        layout.layout.setColumnStretchFactor(0, 2)
        layout.layout.setColumnStretchFactor(1, 3)
        layout.layout.setColumnStretchFactor(2, 2 if maps else 0)
        self.dead_box.setGeometry(self.stats.getViewBox().sceneBoundingRect())

    def clear_view(self) -> None:
        self.hist.setData([0.0, 1.0], [0.0])
        for curve in (self.mean, self.band_high, self.band_low, self.dead_curve):
            curve.setData([], [])
        self.maps.clear()

    def node(self, store: RunData) -> str | None:
        nodes = store.activation_nodes()
        if self.selected in nodes:
            return self.selected
        hidden = [n for n in nodes if store.is_relu_like(n)]
        if hidden:
            return hidden[0]
        rest = [n for n in nodes if not store.is_model_end(n)]
        return (rest or nodes or [None])[0]

    def draw(self, store: RunData) -> None:
        node = self.node(store)
        self.chooser.set_nodes(store.activation_nodes(), node)
        if node is None:
            self.clear_view()
            return
        sample = store.activation_latest[node]
        series = store.activation_stats[node].array
        relu = store.is_relu_like(node)
        maps = sample.sample.ndim >= 2 and sample.sample.size > 0
        self._arrange(relu, maps)
        counts = np.asarray(sample.histogram, dtype=np.float64)
        edges = np.linspace(sample.low, sample.high if sample.high > sample.low else sample.low + 1e-6, len(counts) + 1)
        self.hist.setData(edges, counts)
        x, mean, std = series[:, 0], series[:, 2], series[:, 3]
        _mark_points(self.mean, len(x))
        self.mean.setData(x, mean)
        self.band_high.setData(x, mean + std)
        self.band_low.setData(x, mean - std)
        if relu:
            self.dead_curve.setData(x, series[:, 4] * 100.0)
        self.follow(self.dist.getViewBox(), x=(float(edges[0]), float(edges[-1])), y=(0.0, float(counts.max(initial=1.0))),
                    exact_x=False)
        self.follow(self.stats.getViewBox(), x=self.horizon(), y=_bounds(mean - std, mean + std))
        if maps:
            image = mosaic(sample.sample)
            self.maps.setImage(image, autoLevels=False, levels=(0.0, 1.0))
            if (node, image.shape) != self._maps_shown:
                self._maps_shown = (node, image.shape)
                self.maps_box.autoRange(padding=0.02)
        kind = store.node_types.get(node, "")
        self.title_line.set_text(self.title, f"{node} ({kind}): mean {sample.mean:.3g} · std {sample.std:.3g}",
                                 f"dead {sample.dead_fraction * 100:.0f}%" if relu else "")

    def csv_table(self) -> tuple[list[str], list[list]]:
        store = self.store
        node = self.node(store) if store is not None else None
        rows: list[list] = []
        if node is not None:
            rows = [[node, f"{x:.6g}", int(step), repr(float(m)), repr(float(s)), repr(float(d)), repr(float(z))]
                    for x, step, m, s, d, z in store.activation_stats[node].array]
        return ["node", "epoch", "step", "mean", "std", "dead_fraction", "zero_fraction"], rows


class BoundaryPlot(PlotFrame):
    """The decision boundary of a two-input classifier, redrawn as the epochs end, with a sample
    of the training points over it."""

    group = "boundary"
    title = "Decision boundary"
    min_gap = 0.2
    empty_text = "Train to see the classes the model draws over its two inputs, epoch by epoch"

    def _controls(self) -> None:
        item = _plot_item(self)
        item.setAspectLocked(True)
        item.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.scatter: list = []
        self._points_shown = None

    def clear_view(self) -> None:
        self.image.clear()
        for scatter in self.scatter:
            scatter.setData([], [])
        self._points_shown = None

    empty_ranges = PlotFrame.ranges(x=(-1.0, 1.0), y=(-1.0, 1.0))

    def empty_reason(self, store: RunData | None) -> str | None:
        if store is not None and store.boundary_problem and store.boundary is None:
            return f"No decision boundary: {store.boundary_problem}"
        return super().empty_reason(store)

    def draw(self, store: RunData) -> None:
        item = _plot_item(self)
        if store.boundary_problem and store.boundary is None:
            self.title_line.set_text(self.title)
            return
        points = store.boundary_points
        if points is not None and self._points_shown is not points:
            while len(self.scatter) < len(points.classes):  # one item per class, kept from run to run
                color = class_color(len(self.scatter))
                scatter = pg.ScatterPlotItem(size=4.5, pen=pg.mkPen(15, 15, 18, 200, width=0.6),
                                             brush=pg.mkBrush(*color, 235))
                scatter.setZValue(2)
                item.addItem(scatter)
                self.scatter.append(scatter)
            for k, scatter in enumerate(self.scatter):
                mine = points.points[points.labels == k] if k < len(points.classes) else np.empty((0, 2))
                scatter.setData(mine[:, 0], mine[:, 1])
            self._points_shown = points
            if not self.user_range:
                x0, x1, y0, y1 = points.extent
                item.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        frame = store.boundary
        if frame is not None:
            x0, x1, y0, y1 = frame.extent
            self.image.setImage(frame.image, autoLevels=False)
            self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
            self.title_line.set_text(self.title, f"after epoch {frame.epoch}")

    def csv_table(self) -> tuple[list[str], list[list]]:
        store = self.store
        points = store.boundary_points if store is not None else None
        if points is None:
            return ["x", "y", "label"], []
        return ["x", "y", "label"], [[repr(float(x)), repr(float(y)), points.classes[int(k)]]
                                     for (x, y), k in zip(points.points, points.labels)]


class PlotsPanel(QtWidgets.QWidget):
    """The plots in a grid: loss, metric, decision boundary on top; weights, gradients,
    activations below."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPlotsWidget")
        self.loss_plot = LossPlot("lossPlot")
        self.metric_plot = MetricPlot("metricPlot")
        self.boundary_plot = BoundaryPlot("boundaryPlot")
        self.weights_plot = WeightsPlot("weightsPlot")
        self.gradients_plot = GradientsPlot("gradientsPlot")
        self.activations_plot = ActivationsPlot("activationsPlot")
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(3)
        for i, frame in enumerate(self.frames()):
            grid.addWidget(frame, i // 3, i % 3)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        self.budget = CpuBudget()

    def frames(self) -> list[PlotFrame]:
        return [self.loss_plot, self.metric_plot, self.boundary_plot, self.weights_plot, self.gradients_plot,
                self.activations_plot]

    def set_store(self, store: RunData | None) -> None:
        for frame in self.frames():
            frame.set_store(store)

    def set_overlays(self, overlays: list) -> None:
        self.loss_plot.set_overlays(overlays)
        self.metric_plot.set_overlays(overlays)

    def select_node(self, node: str | None, at_once: bool = True) -> None:
        for frame in (self.weights_plot, self.gradients_plot, self.activations_plot):
            frame.select_node(node, at_once)

    def start_run(self) -> None:
        """A run starts: the GUI thread's CPU budget starts afresh; no plot says "Train" any more."""
        self.budget.reset()
        for frame in self.frames():
            frame.empty.show_text(None)

    def refresh(self, force: bool = False) -> int:
        """Redraw the plots that are due, the most overdue first: at most MAX_PER_TICK of them
        while the GUI thread is within its CPU budget, otherwise only one starved for STARVED_S
        (`force`: every plot whose data changed, now). Returns how many were drawn."""
        if force:
            return sum(frame.refresh(True) for frame in self.frames())
        now = time.monotonic()
        due = [(late, i, frame) for i, frame in enumerate(self.frames()) if (late := frame.due(now)) is not None]
        due.sort(key=lambda t: (-t[0] / t[2].min_gap, t[1]))   # lateness in gaps: the loss plot comes round most
        if not self.budget.allows():
            due = [d for d in due if d[0] + d[2].min_gap >= STARVED_S][:1]
        return sum(frame.refresh() for _, _, frame in due[:MAX_PER_TICK])

    def flush(self) -> int:
        """After a run: draw every plot whose data changed, whatever the budget."""
        return sum(frame.refresh(True) for frame in self.frames() if frame._key() != frame._drawn)
