"""The traced sample on the canvas: each node shows its value under itself, a feature-map
thumbnail, a strip of bars or a heat strip (app.predict.glance), with the numbers on hover.

The picture is a child item of the node's item (like the live badge, app.node_item), so it moves
with the node, costs nothing to lay out and goes away with it; `TraceOverlays` keeps one per node
and replaces only pictures, painting from a cached QImage.
"""
from __future__ import annotations

import numpy as np
from NodeGraphQt.constants import Z_VAL_NODE_WIDGET
from PySide6 import QtCore, QtGui, QtWidgets

from app.predict.glance import Glance

HEIGHT = 40.0
GAP = 4.0
BAR_COLOR = QtGui.QColor(96, 165, 250)
NEGATIVE_COLOR = QtGui.QColor(250, 152, 60)


def heat_image(values: np.ndarray, gray: bool = False) -> QtGui.QImage:
    """(rows, columns) in 0..1 as an image: a dark-blue to yellow ramp, or gray (feature maps look
    like the images they come from); NaN (the gaps between maps) dark."""
    gaps = np.isnan(values)
    v = np.clip(np.nan_to_num(values), 0.0, 1.0)
    if gray:
        rgb = np.repeat((v * 255)[..., None], 3, axis=-1)
    else:
        rgb = np.stack([40 + 215 * v, 30 + 200 * v ** 0.8, 90 + 60 * np.sin(np.pi * v) - 60 * v], -1)
    rgb = np.where(gaps[..., None], 22.0, rgb)
    rgba = np.concatenate([np.clip(rgb, 0, 255), np.full((*v.shape, 1), 255.0)], -1).astype(np.uint8)
    rgba = np.ascontiguousarray(rgba)
    image = QtGui.QImage(rgba.data, rgba.shape[1], rgba.shape[0], rgba.shape[1] * 4,
                         QtGui.QImage.Format.Format_RGBA8888)
    return image.copy()   # own the pixels: the array goes away


class TraceOverlayItem(QtWidgets.QGraphicsItem):
    """One node's traced value, drawn just under the node."""

    def __init__(self, parent: QtWidgets.QGraphicsItem):
        super().__init__(parent)
        self.setZValue(Z_VAL_NODE_WIDGET + 2)
        self.setAcceptHoverEvents(True)
        self.glance: Glance | None = None
        self._image: QtGui.QImage | None = None
        self._rect = QtCore.QRectF()

    def set_glance(self, glance: Glance) -> None:
        self.prepareGeometryChange()
        self.glance = glance
        parent = self.parentItem().boundingRect()
        self._rect = QtCore.QRectF(parent.left() + 4.0, parent.bottom() + GAP, parent.width() - 8.0, HEIGHT)
        self._image = heat_image(glance.image, gray=glance.kind == "maps") if glance.image is not None else None
        self.setToolTip(glance.text)
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect.adjusted(-1.0, -1.0, 1.0, 1.0)

    def paint(self, painter, option, widget=None):
        glance = self.glance
        if glance is None:
            return
        painter.save()
        painter.setPen(QtGui.QPen(QtGui.QColor(90, 96, 104), 1.0))
        painter.setBrush(QtGui.QColor(22, 22, 25, 235))
        painter.drawRect(self._rect)
        inner = self._rect.adjusted(2.0, 2.0, -2.0, -2.0)
        if self._image is not None:
            target = inner
            if glance.kind == "maps":   # keep the maps' proportions, centred
                ratio = self._image.width() / max(self._image.height(), 1)
                width = min(inner.width(), inner.height() * ratio)
                target = QtCore.QRectF(inner.center().x() - width / 2, inner.top(), width, inner.height())
            painter.drawImage(target, self._image)
        elif glance.bars is not None and glance.bars.size:
            self._paint_bars(painter, inner, glance.bars)
        painter.restore()

    @staticmethod
    def _paint_bars(painter, rect: QtCore.QRectF, bars: np.ndarray) -> None:
        top = max(float(np.max(np.abs(bars))), 1e-12)
        has_negative = bool((bars < 0).any())
        zero = rect.center().y() if has_negative else rect.bottom()
        half = rect.height() / 2 if has_negative else rect.height()
        width = rect.width() / len(bars)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for k, value in enumerate(bars):
            h = float(value) / top * half
            painter.setBrush(BAR_COLOR if value >= 0 else NEGATIVE_COLOR)
            painter.drawRect(QtCore.QRectF(rect.left() + k * width, zero - max(h, 0.0), max(width - 0.5, 0.6), abs(h)))


class TraceOverlays:
    """The canvas's trace pictures, by node id; `show(glances)` replaces them, `clear()` hides all."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.items: dict[str, TraceOverlayItem] = {}

    def show(self, glances: dict[str, Glance]) -> None:
        for node_id in list(self.items):
            if node_id not in glances:
                self._drop(node_id)
        for node_id, glance in glances.items():
            item = self.items.get(node_id)
            if item is None or item.scene() is None:
                view = self._view(node_id)
                if view is None:
                    continue
                item = self.items[node_id] = TraceOverlayItem(view)
            item.set_glance(glance)

    def clear(self) -> None:
        for node_id in list(self.items):
            self._drop(node_id)

    def forget(self) -> None:
        """The canvas shows another level: its old node items went with their pictures."""
        self.items.clear()

    def glance(self, node_id: str) -> Glance | None:
        item = self.items.get(node_id)
        return item.glance if item is not None and item.scene() is not None else None

    def _drop(self, node_id: str) -> None:
        item = self.items.pop(node_id)
        if item.scene() is not None:
            item.scene().removeItem(item)

    def _view(self, node_id: str):
        try:
            return self.canvas.item(node_id).view
        except KeyError:   # not drawn (yet): a big design's node out of view, or a broken id
            return None
