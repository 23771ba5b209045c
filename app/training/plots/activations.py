"""The activations plot (`activationsPlot`): a node's activations on the probe batch."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from app.training.plots.frame import TRAIN_COLOR, PlotFrame, mark_points, pen
from app.training.plots.numerics import bounds, mosaic
from app.training.plots.parts import NodeChooser
from app.training.store import RunData


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
        self.hist = self.dist.plot(stepMode="center", fillLevel=0, brush=(*TRAIN_COLOR, 110), pen=pen(TRAIN_COLOR, 1))
        self.stats = pg.PlotItem()
        self.stats.setLabel("bottom", "epoch")
        self.stats.setLabel("left", "mean ± std")
        self.mean = self.stats.plot(pen=pen((240, 240, 240), 1.6), symbolSize=4, symbolPen=None,
                                    symbolBrush=(240, 240, 240))
        self.band_high = self.stats.plot(pen=pen(TRAIN_COLOR, 0.8, 150))
        self.band_low = self.stats.plot(pen=pen(TRAIN_COLOR, 0.8, 150))
        self.band = pg.FillBetweenItem(self.band_high, self.band_low, brush=(*TRAIN_COLOR, 50))
        self.stats.addItem(self.band)
        # dead fraction on its own right-hand axis (0..100 %), in a view box laid over the stats plot
        self.dead_box = pg.ViewBox(enableMenu=False)
        self.dead_box.setMouseEnabled(x=False, y=False)
        self.dead_box.setXLink(self.stats.getViewBox())
        self.dead_box.setYRange(0, 100, padding=0.02)
        self.dead_curve = pg.PlotDataItem(pen=pen((240, 130, 40), 1.6))
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
        self.chooser = NodeChooser("activationsPlotNode", "the node whose activations are shown (or click its node)")
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
        mark_points(self.mean, len(x))
        self.mean.setData(x, mean)
        self.band_high.setData(x, mean + std)
        self.band_low.setData(x, mean - std)
        if relu:
            self.dead_curve.setData(x, series[:, 4] * 100.0)
        self.follow(self.dist.getViewBox(), x=(float(edges[0]), float(edges[-1])), y=(0.0, float(counts.max(initial=1.0))),
                    exact_x=False)
        self.follow(self.stats.getViewBox(), x=self.horizon(), y=bounds(mean - std, mean + std))
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
