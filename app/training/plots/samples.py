"""The samples plot (`samplesPlot`) of a GAN run: what the generator makes of one fixed noise batch,
redrawn as the epochs end: a grid of images, or for 2-D data the generated points over the real
data, with the modes they cover (DESIGN §9) in the title line.

The picture of an image grid is engine.training.sample_images' (the run folder's
samples/epoch_NNN.png is the same), so the window and the files show one thing.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from app.training.plots.frame import PlotFrame, plot_item, square_image
from app.training.store import RunData
from engine.training.sample_images import FAKE_RGB, REAL_RGB, image_grid, scatter_bounds


class SamplesPlot(PlotFrame):
    """The generator's samples from the run's fixed noise, per epoch."""

    group = "samples"
    title = "Samples"
    min_gap = 0.25
    empty_text = "Train a GAN (training mode gan) to see what its generator makes, epoch by epoch"

    def _controls(self) -> None:
        self.image = square_image(self)
        item = plot_item(self)
        self.real = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*REAL_RGB, 160))
        self.fake = pg.ScatterPlotItem(size=3.5, pen=None, brush=pg.mkBrush(*FAKE_RGB, 200))
        self.fake.setZValue(2)
        item.addItem(self.real)
        item.addItem(self.fake)
        self._real_shown = None

    empty_ranges = PlotFrame.ranges(x=(-1.0, 1.0), y=(-1.0, 1.0))

    def clear_view(self) -> None:
        self.image.clear()
        self.real.setData([], [])
        self.fake.setData([], [])
        self._real_shown = None

    def draw(self, store: RunData) -> None:
        shot = store.samples
        if shot is None:
            return
        item = plot_item(self)
        if shot.points:
            self.image.clear()
            if shot.real is not None and self._real_shown is not shot.real:
                self.real.setData(shot.real[:, 0], shot.real[:, 1])
                self._real_shown = shot.real
            self.fake.setData(shot.samples[:, 0], shot.samples[:, 1])
            if not self.user_range:
                x0, x1, y0, y1 = scatter_bounds(shot.real, shot.samples)
                item.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        else:
            self.real.setData([], [])
            self.fake.setData([], [])
            grid = image_grid(shot.samples)[::-1]   # the view's y axis points up
            self.image.setImage(grid, autoLevels=False, levels=(0, 255))
            self.image.setRect(QtCore.QRectF(0, 0, grid.shape[1], grid.shape[0]))
            if not self.user_range:
                item.getViewBox().setRange(xRange=(0, grid.shape[1]), yRange=(0, grid.shape[0]), padding=0.01)
        detail = f"epoch {shot.epoch}"
        if shot.modes is not None:
            detail += f" · {shot.modes} of {shot.mode_count} modes · quality {shot.quality:.0%}"
        self.title_line.set_text(self.title, detail)

    def csv_table(self) -> tuple[list[str], list[list]]:
        shot = self.store.samples if self.store is not None else None
        if shot is None:
            return ["sample", "values"], []
        flat = np.asarray(shot.samples).reshape(len(shot.samples), -1)
        return ["sample", *(f"v{i}" for i in range(flat.shape[1]))], [[k, *map(repr, map(float, row))]
                                                                      for k, row in enumerate(flat)]
