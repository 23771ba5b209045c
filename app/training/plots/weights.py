"""The weights plot (`weightsPlot`): one layer's weight distribution over time."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from app.training.plots.frame import PlotFrame, pen, plot_item, style
from app.training.plots.numerics import strips
from app.training.plots.parts import NodeChooser
from app.training.store import RunData


class WeightsPlot(PlotFrame):
    """One layer's weight distribution over time: a strip per sample (x: time, y: weight value,
    brightness: how many weights), and its mean."""

    group = "weights"
    title = "Weights"
    empty_text = "Train to see how a layer's weights spread over time"
    empty_ranges = PlotFrame.ranges(y=(-1.0, 1.0))

    def _controls(self) -> None:
        item = plot_item(self)
        style(item, "epoch", "weight value")
        item.setDownsampling(auto=False)
        item.setClipToView(False)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get("inferno"))
        item.addItem(self.image)
        self.mean = item.plot(pen=pen((235, 235, 235), 1.2, 200))
        self.chooser = NodeChooser("weightsPlotLayer", "the layer whose weights are shown (or click its node)")
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
        self.follow(plot_item(self).getViewBox(), x=self.horizon(), y=(low, high))
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
