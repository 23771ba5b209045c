"""The loss plot (`lossPlot`)."""
from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtWidgets

from app.training.plots.frame import (
    OVERLAY_COLORS,
    SAMPLES_PER_PIXEL,
    TRAIN_COLOR,
    VAL_COLOR,
    PlotFrame,
    mark_points,
    pen,
    plot_item,
    style,
)
from app.training.plots.numerics import bounds, finite
from app.training.store import RunData

# a GAN run's two players per epoch (training.mode gan): the generator's loss and D's mean outputs
PLAYERS = (("train_g_loss", "generator loss", (255, 127, 14), False),
           ("train_d_real", "D(real)", (44, 160, 44), True),
           ("train_d_fake", "D(generated)", (148, 103, 189), True))


class LossPlot(PlotFrame):
    """Training loss per step (smoothed, with the raw values faint) and validation loss per epoch; for a
    GAN the step loss is the discriminator's, and the generator's loss and D's mean output on real and
    on generated samples are drawn per epoch (named in the legend while a GAN run is shown)."""

    group = "loss"
    title = "Loss"
    min_gap = 0.1
    empty_text = "Train to see the training and validation loss"

    def _controls(self) -> None:
        item = plot_item(self)
        style(item, "epoch", "loss")
        # two columns: one row for a supervised run, out of the way of its falling curves in a
        # plot of about 90 px (in two rows "validation" lay over the curves' tails)
        self.legend = item.addLegend(offset=(-6, 6), labelTextSize="8pt", colCount=2)
        self._overlay_bounds = np.empty(0)               # their lowest and highest loss
        self.raw = item.plot(pen=pen(TRAIN_COLOR, 1, 70), connect="finite", autoDownsampleFactor=SAMPLES_PER_PIXEL)
        self.smooth = item.plot(pen=pen(TRAIN_COLOR, 2), name="train (smoothed)", connect="finite",
                                autoDownsampleFactor=SAMPLES_PER_PIXEL)
        self.val = item.plot(pen=pen(VAL_COLOR, 2), symbol="o", symbolSize=5, symbolBrush=VAL_COLOR, symbolPen=None,
                             name="validation", connect="finite")
        self.players: dict[str, object] = {}      # made with the first GAN run's epochs
        self._gan_legend = False                  # the legend names a GAN run's curves
        self.log_box = QtWidgets.QCheckBox("log")
        self.log_box.setObjectName("lossPlotLog")
        self.log_box.setToolTip("logarithmic loss axis")
        self.log_box.toggled.connect(self.set_log)
        self.header.insertWidget(1, self.log_box)

    def set_log(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.log_box):
            self.log_box.setChecked(on)
        plot_item(self).setLogMode(y=on)
        self.user_range = False
        self._drawn = None
        self.refresh(force=True)

    def clear_view(self) -> None:
        for curve in (self.raw, self.smooth, self.val, *self.players.values()):
            curve.setData([], [])

    def _draw_players(self, table: dict, positive: bool) -> list:
        """The generator's loss and D's outputs per epoch, when the run has them; returns their values."""
        shown = []
        for column, name, color, dashed in PLAYERS:
            if column not in table:
                continue
            curve = self.players.get(column)
            if curve is None:
                curve = self.players[column] = plot_item(self).plot(pen=pen(color, 2, dash=dashed), connect="finite")
            curve.setData(*finite(table["epoch"], table[column], positive))
            shown.append(table[column])
        return shown

    def _name_curves(self, gan: bool) -> None:
        """The legend names the curves this kind of run draws: a GAN's step loss is D's, it has no
        validation; its players go in the same two columns, so that every entry fits the plot's height."""
        if gan == self._gan_legend:
            return
        self._gan_legend = gan
        legend = self.legend
        legend.getLabel(self.smooth).setText("D loss (smoothed)" if gan else "train (smoothed)")
        if gan:
            legend.removeItem(self.val)
            for column, name, *_ in PLAYERS:
                if column in self.players:
                    legend.addItem(self.players[column], name)
        else:
            for curve in self.players.values():
                legend.removeItem(curve)
            legend.addItem(self.val, "validation")

    def draw(self, store: RunData) -> None:
        steps = store.steps.array
        positive = self.log_box.isChecked()
        self.raw.setData(*finite(steps[:, 0], steps[:, 2], positive))
        self.smooth.setData(*finite(steps[:, 0], steps[:, 3], positive))
        table = store.epoch_table()
        val = finite(table["epoch"], table["val_loss"], positive)
        mark_points(self.val, len(val[0]))
        self.val.setData(*val)
        item = plot_item(self)
        self._show_overlays(positive)
        live = (steps[:, 2], table["val_loss"], *self._draw_players(table, positive))
        self._name_curves("train_g_loss" in table)
        if positive:
            live = tuple(a[a > 0] for a in live)
        lo, hi = bounds(*live, self._overlay_bounds)
        self.follow(item.getViewBox(), x=self.horizon(), y=(lo, hi), ylog=positive)
        last = steps[-1, 3] if len(steps) else math.nan
        detail = ""
        if math.isfinite(last):
            detail = f"{'D' if 'train_g_loss' in table else 'train'} {last:.4g}"
            if "train_g_loss" in table and len(table["train_g_loss"]):
                detail += f" · G {table['train_g_loss'][-1]:.4g}"
            if len(table["val_loss"]) and math.isfinite(table["val_loss"][-1]):
                detail += f" · val {table['val_loss'][-1]:.4g}"
        self.title_line.set_text(self.title, detail)

    def _show_overlays(self, positive: bool) -> None:
        """The overlaid runs' smoothed training and validation losses, built when the runs or the log axis change."""
        if not self._overlays_stale((tuple(self.overlays), positive)):
            return
        item = plot_item(self)
        for i, run in enumerate(self.overlays):
            color = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            train = item.plot(*finite(run.steps_x, run.smoothed, positive), pen=pen(color, 1.2, 200, dash=True),
                              name=f"{run.name} train", autoDownsampleFactor=SAMPLES_PER_PIXEL)
            run_val = finite(run.epochs, run.val_loss, positive)
            val = item.plot(pen=pen(color, 1.2, 200, dash=True), name=f"{run.name} val", symbolSize=5,
                            symbolBrush=color, symbolPen=None)
            mark_points(val, len(run_val[0]), "t")
            val.setData(*run_val)
            train.setZValue(-1)
            val.setZValue(-1)
            self.overlay_items += [train, val]
        values = [a for run in self.overlays for a in (run.steps_loss, run.val_loss)]
        lo, hi = bounds(*[a[a > 0] for a in values]) if positive else bounds(*values)
        self._overlay_bounds = np.array([lo, hi]) if lo is not None else np.empty(0)

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
