"""The metric plot (`metricPlot`): accuracy or mean absolute error per epoch."""
from __future__ import annotations

import math

from app.training.plots.frame import (
    OVERLAY_COLORS,
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


class MetricPlot(PlotFrame):
    """Accuracy (classification) or mean absolute error (regression), training and validation, per epoch."""

    group = "metric"
    title = "Accuracy"
    empty_text = "Train to see the accuracy (or the error) per epoch"
    empty_ranges = PlotFrame.ranges(y=(0.0, 100.0))

    def _controls(self) -> None:
        item = plot_item(self)
        style(item, "epoch", "accuracy (%)")
        self.legend = item.addLegend(offset=(-6, -6), labelTextSize="8pt", colCount=2)   # one row (see loss.py)
        self.train = item.plot(pen=pen(TRAIN_COLOR, 2), symbol="o", symbolSize=4, symbolBrush=TRAIN_COLOR,
                               symbolPen=None, name="train", connect="finite")
        self.val = item.plot(pen=pen(VAL_COLOR, 2), symbol="o", symbolSize=5, symbolBrush=VAL_COLOR, symbolPen=None,
                             name="validation", connect="finite")
        self.metric_name: str | None = None
        self._val_named = True                    # the legend lists "validation" (not for a GAN run)

    def clear_view(self) -> None:
        self.train.setData([], [])
        self.val.setData([], [])

    def _name_validation(self, shown: bool) -> None:
        """A GAN run has no validation (DESIGN §9): its legend does not name a curve it never draws."""
        if shown == self._val_named:
            return
        self._val_named = shown
        if shown:
            self.legend.addItem(self.val, "validation")
        else:
            self.legend.removeItem(self.val)

    def draw(self, store: RunData) -> None:
        metric = store.main_metric()
        self._name_validation(not store.adversarial)
        self.metric_name = metric
        item = plot_item(self)
        percent = bool(metric and metric.endswith("accuracy"))
        name = "Accuracy" if percent else "Error (mean absolute)" if metric and metric.endswith("mae") else (
            metric or "Metric")
        item.setLabel("left", "accuracy (%)" if percent else (metric or "metric"))
        table = store.epoch_table()
        scale = 100.0 if percent else 1.0
        if metric is not None:
            for curve, prefix in ((self.train, "train"), (self.val, "val")):
                points = finite(table["epoch"], table[f"{prefix}_{metric}"] * scale)
                mark_points(curve, len(points[0]))
                curve.setData(*points)
        self._show_overlays(metric, scale)
        if percent:
            self.follow(item.getViewBox(), x=self.horizon(), y=(0.0, 101.0), exact_y=True)
        elif metric is not None:
            values = [table[f"train_{metric}"], table[f"val_{metric}"]]
            values += [run.metrics[k] for run in self.overlays for k in (f"train_{metric}", f"val_{metric}")
                       if k in run.metrics]
            self.follow(item.getViewBox(), x=self.horizon(), y=bounds(*values))
        detail = ""
        if metric is not None and len(table["epoch"]):
            last = table[f"val_{metric}"][-1]
            if not math.isfinite(last):
                last = table[f"train_{metric}"][-1]
            if math.isfinite(last):
                detail = f"{last * scale:.4g}{'%' if percent else ''}"
        self.title_line.set_text(name, detail)

    def _show_overlays(self, metric: str | None, scale: float) -> None:
        """The overlaid runs' training and validation metric, built when the runs or the metric change."""
        if not self._overlays_stale((tuple(self.overlays), metric)):
            return
        item = plot_item(self)
        for i, run in enumerate(self.overlays):
            color = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            for prefix in ("train", "val"):
                values = run.metrics.get(f"{prefix}_{metric}") if metric else None
                if values is None or len(values) != len(run.epochs):
                    continue
                curve = item.plot(*finite(run.epochs, values * scale), pen=pen(color, 1.2, 200, dash=True),
                                  name=f"{run.name} {prefix}")
                curve.setZValue(-1)
                self.overlay_items.append(curve)

    def csv_table(self) -> tuple[list[str], list[list]]:
        store = self.store
        if store is None:
            return ["epoch"], []
        names = store.metric_names
        header = ["epoch"] + [f"train_{m}" for m in names] + [f"val_{m}" for m in names]
        rows = [[e.epoch] + [e.train_metrics.get(m, "") for m in names] + [e.val_metrics.get(m, "") for m in names]
                for e in store.epochs]
        return header, rows
