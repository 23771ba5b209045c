"""The uncertainty map (`uncertaintyPlot`): the predictive entropy of the MC-dropout passes over
the plane, dark where the model is sure, bright where it is not, with the data and the picked
point over it. Beside the decision boundary (the point picker), it shows where the model hedges,
and that far from the data it can be confidently wrong (dark where it has never seen a point)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from app.predict.plot_box import PlotBox
from app.predict.points import add_points, marker, plane


class UncertaintyPlot(PlotBox):
    def __init__(self):
        super().__init__("uncertaintyPlot", "Uncertainty map", 190)
        self.plot_item = plane(self)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(pg.colormap.get("inferno").getLookupTable(nPts=256))
        self.plot_item.addItem(self.image)
        self.mark = marker()
        self.plot_item.addItem(self.mark)
        self.entropy: np.ndarray | None = None
        self.set_caption("Computing the predictive entropy over the plane…")

    def set_data(self, points: np.ndarray, labels: np.ndarray | None, extent) -> None:
        add_points(self.plot_item, points, labels)
        x0, x1, y0, y1 = extent
        self.plot_item.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

    def set_map(self, result) -> None:
        """`result`: an app.predict.work.UncertaintyMap."""
        x0, x1, y0, y1 = result.extent
        self.entropy = result.entropy
        self.image.setImage(result.entropy, autoLevels=False, levels=(0.0, result.max_entropy))
        self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        self.title.setText(f"<b>Uncertainty map</b>  entropy, {result.passes} MC passes")
        text = (f"Predictive entropy from black (sure) to yellow ({result.max_entropy:.2f} nats, a coin toss "
                "between all classes). Far from the data the map can be dark: confident, but never shown "
                "an example there.")
        if result.note:
            text += " Without dropout the passes agree: this is one pass's entropy."
        self.set_caption(text)

    def show_point(self, x: float, y: float) -> None:
        self.mark.setData([x], [y])
