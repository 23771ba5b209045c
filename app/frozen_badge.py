"""How a frozen node looks on the canvas (docs/training.md, "Transfer learning"): dimmed, with a
small snowflake pill above its top-left corner. The pill is a child item, like the live badge
(app/node_item.py) and NodeGraphQt's own overlays, created only for frozen nodes, so a design
with none frozen carries no extra items."""
from __future__ import annotations

import math

from NodeGraphQt.constants import Z_VAL_NODE_WIDGET
from PySide6 import QtCore, QtGui, QtWidgets

FROZEN_OPACITY = 0.55
ICE = QtGui.QColor(120, 190, 255)


class FrozenBadgeItem(QtWidgets.QGraphicsItem):
    """A "❄ frozen" pill (the snowflake drawn, not a font glyph), at full opacity over its dimmed node."""

    _font: QtGui.QFont | None = None

    def __init__(self, parent: QtWidgets.QGraphicsItem):
        super().__init__(parent)
        self.setZValue(Z_VAL_NODE_WIDGET + 3)
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)
        if FrozenBadgeItem._font is None:
            FrozenBadgeItem._font = QtGui.QFont()
            FrozenBadgeItem._font.setPointSizeF(7.5)
            FrozenBadgeItem._font.setBold(True)
        metrics = QtGui.QFontMetricsF(FrozenBadgeItem._font)
        height = metrics.height() + 4.0
        self._rect = QtCore.QRectF(4.0, -height - 3.0, metrics.horizontalAdvance("frozen") + height + 10.0, height)
        self.setToolTip("frozen: its weights are not trained (Unfreeze all, or the Properties' trainable switch)")

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect.adjusted(-1.0, -1.0, 1.0, 1.0)

    def paint(self, painter, option, widget=None):
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtGui.QPen(ICE.lighter(130), 1.0))
        painter.setBrush(QtGui.QColor(30, 60, 95))
        radius = self._rect.height() / 2
        painter.drawRoundedRect(self._rect, radius, radius)
        centre = QtCore.QPointF(self._rect.left() + radius + 2.0, self._rect.center().y())
        arm = radius - 3.0
        painter.setPen(QtGui.QPen(ICE, 1.3))
        for k in range(3):  # three strokes through the centre: a six-armed snowflake
            angle = math.pi * k / 3
            dx, dy = arm * math.cos(angle), arm * math.sin(angle)
            painter.drawLine(QtCore.QPointF(centre.x() - dx, centre.y() - dy),
                             QtCore.QPointF(centre.x() + dx, centre.y() + dy))
        painter.setFont(FrozenBadgeItem._font)
        painter.setPen(QtGui.QColor(225, 240, 255))
        text = self._rect.adjusted(2 * radius + 4.0, 0.0, 0.0, 0.0)
        painter.drawText(text, QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft, "frozen")
        painter.restore()


def show_frozen(item: QtWidgets.QGraphicsItem, frozen: bool) -> None:
    """Dim `item` and show its pill, or undo both."""
    badge: FrozenBadgeItem | None = getattr(item, "frozen_badge", None)
    if badge is None:
        if not frozen:
            return
        badge = item.frozen_badge = FrozenBadgeItem(item)
    badge.setVisible(frozen)
    item.setOpacity(FROZEN_OPACITY if frozen else 1.0)
