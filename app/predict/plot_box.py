"""PlotBox: what each Predict plot is, a bold title, a pyqtgraph view and a caption under it that
says in one line how to read the plot (the panel's plots are drawn once per answer from the
worker, not on a timer, so they need none of the live plots' redraw bookkeeping)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from app.training.plots.frame import BACKGROUND

pg.setConfigOptions(background=BACKGROUND, foreground=(200, 204, 210), antialias=False)


class PlotBox(QtWidgets.QFrame):
    def __init__(self, name: str, title: str, height: int = 170, view: QtWidgets.QWidget | None = None):
        super().__init__()
        self.setObjectName(name)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setSpacing(2)
        self.header = QtWidgets.QHBoxLayout()
        self.title = QtWidgets.QLabel(f"<b>{title}</b>")
        self.header.addWidget(self.title, 1)
        layout.addLayout(self.header)
        self.view = view if view is not None else pg.PlotWidget()
        self.view.setFixedHeight(height)   # the panel scrolls; plots keep their size
        layout.addWidget(self.view, 1)
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        self.caption.setObjectName(f"{name}Caption")
        self.caption.setStyleSheet("color: #aab4be;")
        layout.addWidget(self.caption)

    def plot(self) -> pg.PlotItem:
        return self.view.getPlotItem()

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.setVisible(bool(text))
