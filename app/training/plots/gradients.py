"""The gradient norms plot (`gradientsPlot`): each layer's gradient norm over time."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from app.training.plots.frame import PlotFrame, mark_points, pen, plot_item, style
from app.training.plots.numerics import bounds, finite
from app.training.store import RunData


class GradientsPlot(PlotFrame):
    """Each layer's gradient norm over time, on a log scale: vanishing and exploding gradients
    show as curves far below or above the rest."""

    group = "gradients"
    title = "Gradient norms"
    empty_text = "Train to see each layer's gradient norm"
    empty_ranges = PlotFrame.ranges(y=(-3.0, 1.0))   # log axis: 0.001 to 10

    def _controls(self) -> None:
        item = plot_item(self)
        style(item, "epoch", "gradient norm")
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
        item = plot_item(self)
        for curve in self.curves.values():
            item.removeItem(curve)
            self.legend.removeItem(curve)
        self.curves = {node: item.plot(name=node, connect="finite", symbolSize=5, symbolPen=None) for node in nodes}

    def draw(self, store: RunData) -> None:
        item = plot_item(self)
        nodes = list(store.gradients)
        if not set(nodes) <= set(self.curves):
            self._reset_curves(nodes)
        for i, node in enumerate(nodes):
            curve = self.curves[node]
            color = pg.intColor(i, hues=max(len(nodes), 6), maxValue=235, sat=170).getRgb()[:3]
            chosen = node == self.selected
            curve.setPen(pen(color, 3.0 if chosen else 1.4, 255 if chosen or self.selected is None else 150))
            curve.setZValue(2 if chosen else 0)
            series = store.gradients[node].array
            points = finite(series[:, 0], series[:, 2], positive=True)
            curve.setSymbolBrush(color)
            mark_points(curve, len(points[0]))
            curve.setData(*points)
        positive = [s.array[:, 2] for s in store.gradients.values()]
        positive = [a[(a > 0) & np.isfinite(a)] for a in positive]
        self.follow(item.getViewBox(), x=self.horizon(), y=bounds(*positive), ylog=True)
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
