"""The decision boundary plot (`boundaryPlot`) of a two-input classifier."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from app.training.boundary import class_color
from app.training.plots.frame import PlotFrame, plot_item, square_image
from app.training.store import RunData


class BoundaryPlot(PlotFrame):
    """The decision boundary of a two-input classifier, redrawn as the epochs end, with a sample
    of the training points over it."""

    group = "boundary"
    title = "Decision boundary"
    min_gap = 0.2
    empty_text = "Train to see the classes the model draws over its two inputs, epoch by epoch"

    def _controls(self) -> None:
        self.image = square_image(self)
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
        item = plot_item(self)
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
