"""The traced sample's attention weights (`attentionPlot`): for one attention (an attention node,
or one inside a Transformer block) and one head, which keys each query attends to, a row per
query summing to 1. The input's tokens label the axes when the design reads tokens."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from app.predict.plot_box import PlotBox


class AttentionPlot(PlotBox):
    def __init__(self):
        super().__init__("attentionPlot", "Attention", 200)
        self.layer = QtWidgets.QComboBox()
        self.layer.setObjectName("attentionLayer")
        self.layer.setToolTip("Which attention: the selected node's, or choose")
        self.head = QtWidgets.QComboBox()
        self.head.setObjectName("attentionHead")
        self.head.setToolTip("Which head")
        self.header.addWidget(self.layer)
        self.header.addWidget(self.head)
        plot = self.plot()
        plot.setAspectLocked(True)
        plot.hideButtons()
        plot.invertY(True)
        plot.setLabel("left", "query")
        plot.setLabel("bottom", "key")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        plot.addItem(self.image)
        self.weights: dict[str, np.ndarray] = {}
        self.tokens: list[str] | None = None
        self.shown: np.ndarray | None = None
        self.layer.currentTextChanged.connect(self._layer_changed)
        self.head.currentIndexChanged.connect(lambda _i: self._draw())

    def set_weights(self, weights: dict[str, np.ndarray], tokens: list[str] | None) -> None:
        self.weights, self.tokens = weights, tokens
        current = self.layer.currentText()
        with QtCore.QSignalBlocker(self.layer):
            self.layer.clear()
            self.layer.addItems(list(weights))
            if current in weights:
                self.layer.setCurrentText(current)
        self._layer_changed(self.layer.currentText())

    def choose(self, path: str, head: int | None = None) -> bool:
        """Show the attention at `path`, or the first inside the block `path`; True when there is one."""
        match = path if path in self.weights else next((p for p in self.weights if p.startswith(path + ".")), None)
        if match is None:
            return False
        self.layer.setCurrentText(match)
        if head is not None:
            self.head.setCurrentIndex(head)
        return True

    def _layer_changed(self, path: str) -> None:
        w = self.weights.get(path)
        heads = 0 if w is None else w.shape[0]
        with QtCore.QSignalBlocker(self.head):
            keep = self.head.currentIndex()
            self.head.clear()
            self.head.addItems([f"head {h}" for h in range(heads)])
            self.head.setCurrentIndex(keep if 0 <= keep < heads else 0)
        self._draw()

    def _draw(self) -> None:
        w = self.weights.get(self.layer.currentText())
        if w is None:
            self.image.clear()
            self.shown = None
            self.set_caption("No attention in this design: attention nodes and Transformer layers show theirs "
                             "here when a sample is traced." if not self.weights else "")
            return
        head = max(self.head.currentIndex(), 0)
        self.shown = w[head]
        self.image.setImage(self.shown, autoLevels=False, levels=(0.0, float(max(self.shown.max(), 1e-6))))
        queries, keys = self.shown.shape
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, keys, queries))
        plot = self.plot()
        plot.getViewBox().setRange(xRange=(-0.5, keys - 0.5), yRange=(-0.5, queries - 0.5), padding=0.02)
        if self.tokens is not None and len(self.tokens) == keys == queries:
            ticks = [list(enumerate(self.tokens))]
        else:
            ticks = [[(i, str(i)) for i in range(0, max(keys, queries), max(1, max(keys, queries) // 12))]]
        plot.getAxis("bottom").setTicks(ticks)
        plot.getAxis("left").setTicks(ticks)
        top = np.unravel_index(int(np.argmax(self.shown)), self.shown.shape)
        self.set_caption(f"Row i: how much query position i attends to each key position (each row sums to 1; "
                         f"brighter is more). Strongest here: query {top[0]} → key {top[1]} "
                         f"({self.shown[top]:.2f}).")
