"""The 2-D data to click on (`pointPicker`): the validation points coloured by class over the
model's decision boundary (from the uncertainty map, once computed); a click anywhere, on or far
from the data, picks that point as the input."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from app.predict.plot_box import PlotBox
from app.training.boundary import class_color


def plane(box: PlotBox) -> pg.PlotItem:
    plot = box.plot()
    plot.setAspectLocked(True)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    return plot


def add_points(plot: pg.PlotItem, points: np.ndarray, labels: np.ndarray | None) -> None:
    """The data as small dots, one colour per class."""
    labels = labels if labels is not None else np.zeros(len(points), dtype=int)
    for k in np.unique(labels):
        mine = points[labels == k]
        scatter = pg.ScatterPlotItem(mine[:, 0], mine[:, 1], size=4, pen=pg.mkPen(15, 15, 18, 200, width=0.5),
                                     brush=pg.mkBrush(*class_color(int(k)), 230))
        scatter.setZValue(2)
        plot.addItem(scatter)


def marker() -> pg.ScatterPlotItem:
    mark = pg.ScatterPlotItem(size=15, symbol="x", pen=pg.mkPen(255, 255, 255, width=2.5), brush=None)
    mark.setZValue(5)
    return mark


class PointPicker(PlotBox):
    picked = QtCore.Signal(float, float)

    def __init__(self):
        super().__init__("pointPicker", "Click a point", 190)
        self.plot_item = plane(self)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image)
        self.mark = marker()
        self.plot_item.addItem(self.mark)
        self.point: tuple[float, float] | None = None
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.set_caption("The validation data; click on it or far from it to predict that point.")

    def set_data(self, points: np.ndarray, labels: np.ndarray | None, extent) -> None:
        add_points(self.plot_item, points, labels)
        x0, x1, y0, y1 = extent
        self.plot_item.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

    def set_boundary(self, image: np.ndarray, extent) -> None:
        x0, x1, y0, y1 = extent
        self.image.setImage(image, autoLevels=False)
        self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        self.title.setText("<b>Click a point</b>  over the decision boundary (MC mean)")

    def _clicked(self, event) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        vb = self.plot_item.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        self.pick(p.x(), p.y())

    def pick(self, x: float, y: float) -> None:
        self.point = (x, y)
        self.mark.setData([x], [y])
        self.picked.emit(x, y)
