"""How a layer node looks on the canvas: NodeGraphQt's node item plus a painted annotation band.

The band under the ports shows the node's output shape and "Type · parameters"; a node with a
problem gets a coloured border, a badge and the messages in its tooltip. The band is painted by
the item itself (no child widgets, no NodeGraphQt properties), so updating it is one `update()`
and never touches NodeGraphQt's undo stack (STYLE.md: derived state is never undoable).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from NodeGraphQt.constants import Z_VAL_NODE_WIDGET, PortTypeEnum
from NodeGraphQt.qgraphics.node_base import NodeItem
from PySide6 import QtCore, QtGui, QtWidgets

from app import theme
from app.frozen_badge import show_frozen
from app.node_labels import PortLabel, TitleLabel

_PAD = 6.0
_LINE_GAP = 1.0
_MIN_WIDTH = 150.0


@dataclass(frozen=True)
class Annotation:
    """What the canvas paints on one node; equal annotations are not repainted."""

    shape: str = ""
    info: str = ""
    severity: str | None = None  # "error", "warning" or None
    tooltip: str = ""
    block: bool = False  # a block node: drawn with a double border (docs/blocks.md, "In the window")
    frozen: bool = False  # weights not trained: dimmed, with a snowflake (app/frozen_badge.py)


_ADVANCES: dict[tuple[int, str], float] = {}


def _advance(metrics: QtGui.QFontMetricsF, text: str, font: int) -> float:
    """Text width, remembered: the same shapes and counts recur all over a design."""
    key = (font, text)
    width = _ADVANCES.get(key)
    if width is None:
        if len(_ADVANCES) > 20_000:
            _ADVANCES.clear()
        width = _ADVANCES[key] = metrics.horizontalAdvance(text)
    return width


def _fonts() -> tuple[QtGui.QFont, QtGui.QFont]:
    shape = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
    shape.setPointSizeF(8.5)
    shape.setBold(True)
    info = QtGui.QFont()
    info.setPointSizeF(8.0)
    return shape, info


@dataclass(frozen=True)
class LiveBadge:
    """What a node shows during a training run: a short text and a state that picks its colour
    (theme.LIVE_COLORS: ok, vanishing, exploding, dead, info)."""

    text: str
    state: str = "ok"
    tooltip: str = ""


class LiveBadgeItem(QtWidgets.QGraphicsItem):
    """A small pill above the node's top-right corner (a child item, like NodeGraphQt's own
    overlays): repainting it never re-lays out the node."""

    _font: QtGui.QFont | None = None

    def __init__(self, parent: NodeItem):
        super().__init__(parent)
        self.setZValue(Z_VAL_NODE_WIDGET + 3)
        if LiveBadgeItem._font is None:
            font = QtGui.QFont()
            font.setPointSizeF(7.5)
            font.setBold(True)
            LiveBadgeItem._font = font
        self._metrics = QtGui.QFontMetricsF(LiveBadgeItem._font)
        self.badge: LiveBadge | None = None
        self._rect = QtCore.QRectF()
        self._parent_rect = QtCore.QRectF()
        self.setVisible(False)

    def set_badge(self, badge: LiveBadge | None) -> None:
        parent = self.parentItem().boundingRect()
        if badge == self.badge and (badge is None or self._parent_rect == parent):
            return
        self.prepareGeometryChange()
        self.badge = badge
        if badge is None:
            self.setVisible(False)
            return
        self._parent_rect = parent
        width = self._metrics.horizontalAdvance(badge.text) + 12.0
        height = self._metrics.height() + 4.0
        self._rect = QtCore.QRectF(parent.right() - width - 4.0, parent.top() - height - 3.0, width, height)
        self.setToolTip(badge.tooltip)
        self.setVisible(True)
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect.adjusted(-1.0, -1.0, 1.0, 1.0)

    def paint(self, painter, option, widget=None):
        if self.badge is None:
            return
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        color = QtGui.QColor(*theme.LIVE_COLORS.get(self.badge.state, theme.LIVE_COLORS["info"]))
        painter.setPen(QtGui.QPen(color.lighter(135), 1.0))
        painter.setBrush(color)
        painter.drawRoundedRect(self._rect, self._rect.height() / 2, self._rect.height() / 2)
        painter.setFont(LiveBadgeItem._font)
        painter.setPen(QtGui.QColor(250, 250, 250))
        painter.drawText(self._rect, QtCore.Qt.AlignmentFlag.AlignCenter, self.badge.text)
        painter.restore()


class LoomNodeItem(NodeItem):
    """A NodeGraphQt node item with LayerLoom's annotation band (and, during a training run,
    a live badge)."""

    _shared_fonts: tuple[QtGui.QFont, QtGui.QFont] | None = None
    _no_icon: QtWidgets.QGraphicsPixmapItem | None = None

    def __init__(self, name: str = "node", parent=None):
        super().__init__(name, parent)
        self._frozen = True  # no layout work until the item is in the scene (post_init)
        self._annotation = Annotation()
        if LoomNodeItem._shared_fonts is None:
            LoomNodeItem._shared_fonts = _fonts()
        self._shape_font, self._info_font = LoomNodeItem._shared_fonts
        self._shape_metrics = QtGui.QFontMetricsF(self._shape_font)
        self._info_metrics = QtGui.QFontMetricsF(self._info_font)
        # Lighter child items (app/node_labels.py): the title a plain text item until edited, and
        # no icon (LayerLoom nodes show none): one shared item outside the scene stands in for it.
        self._text_item.setParentItem(None)
        self._text_item = TitleLabel(name, self)
        self._icon_item.setParentItem(None)
        if LoomNodeItem._no_icon is None:
            LoomNodeItem._no_icon = QtWidgets.QGraphicsPixmapItem()
        self._icon_item = LoomNodeItem._no_icon
        self._live: LiveBadgeItem | None = None

    # -- live badge (training) --------------------------------------------------------
    @property
    def live_badge(self) -> LiveBadge | None:
        return self._live.badge if self._live is not None else None

    def set_live_badge(self, badge: LiveBadge | None) -> None:
        if self._live is None:
            if badge is None:
                return
            self._live = LiveBadgeItem(self)
        self._live.set_badge(badge)

    # -- annotation -------------------------------------------------------------------
    @property
    def annotation(self) -> Annotation:
        return self._annotation

    def set_annotation(self, annotation: Annotation) -> None:
        if annotation == self._annotation:
            return
        if annotation.tooltip != self._annotation.tooltip:
            self.setToolTip(annotation.tooltip)
        if annotation.frozen != self._annotation.frozen:
            show_frozen(self, annotation.frozen)
        self._annotation = annotation
        if not self._frozen and self._band_width(annotation) > self._width:
            self.draw_node()  # the band needs more room: re-layout (nodes grow, never shrink, on edits)
        else:
            self.update()

    def _band_width(self, annotation: Annotation) -> float:
        return max(_advance(self._shape_metrics, annotation.shape, 0),
                   _advance(self._info_metrics, annotation.info, 1)) + 2 * _PAD + 12.0  # band inset

    def _band_height(self) -> float:
        return self._shape_metrics.height() + self._info_metrics.height() + _LINE_GAP + 2 * _PAD

    # -- NodeGraphQt hooks ------------------------------------------------------------
    # NodeGraphQt reloads its icon file on every node it makes; LayerLoom nodes show none.
    icon = property(NodeItem.icon.fget, lambda self, path=None: None)

    def draw_node(self):
        if self._frozen:
            return
        super().draw_node()

    def post_init(self, viewer=None, pos=None):
        self._frozen = False
        super().post_init(viewer, pos)

    def _add_port(self, port):
        """NodeGraphQt's `_add_port` with a light `PortLabel` for the port's name."""
        text = PortLabel(port.name, self)
        text.setVisible(port.display_name)
        if port.port_type == PortTypeEnum.IN.value:
            self._input_items[port] = text
        elif port.port_type == PortTypeEnum.OUT.value:
            self._output_items[port] = text
        if self.scene():
            self.post_init()
        return port

    def _calc_size_horizontal(self):
        width, height = super()._calc_size_horizontal()
        return max(width, self._band_width(self._annotation), _MIN_WIDTH), height + self._band_height()

    def _tooltip_disable(self, state):
        # NodeGraphQt writes its own tooltip on every draw; keep ours.
        self.setToolTip(self._annotation.tooltip)

    def paint(self, painter, option, widget):
        super().paint(painter, option, widget)
        painter.save()
        rect = self.boundingRect().adjusted(1.0, 1.0, -1.0, -1.0)
        if self._annotation.block:  # a double border: this node holds a sub-network
            painter.setPen(QtGui.QPen(QtGui.QColor(*self.border_color).lighter(130), 1.0))
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(2.5, 2.5, -2.5, -2.5), 3.0, 3.0)
        band = QtCore.QRectF(rect.left() + 3.0, rect.bottom() - self._band_height() + 1.0,
                             rect.width() - 6.0, self._band_height() - 4.0)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(0, 0, 0, 90))
        painter.drawRoundedRect(band, 3.0, 3.0)
        if self._proxy_mode:  # too small on screen to read: NodeGraphQt hides its texts too
            self._paint_problem(painter, rect)
            painter.restore()
            return

        text_rect = band.adjusted(_PAD - 2.0, _PAD / 2, -_PAD + 2.0, 0.0)
        painter.setFont(self._shape_font)
        painter.setPen(QtGui.QColor(*theme.SHAPE_TEXT_COLOR))
        painter.drawText(text_rect, QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop,
                         self._annotation.shape)
        text_rect.setTop(text_rect.top() + self._shape_metrics.height() + _LINE_GAP)
        painter.setFont(self._info_font)
        painter.setPen(QtGui.QColor(*theme.DIM_TEXT_COLOR))
        painter.drawText(text_rect, QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop,
                         self._annotation.info)

        self._paint_problem(painter, rect)
        painter.restore()

    def _paint_problem(self, painter, rect: QtCore.QRectF) -> None:
        severity = self._annotation.severity
        if severity:
            color = QtGui.QColor(*(theme.ERROR_COLOR if severity == "error" else theme.WARNING_COLOR))
            pen = QtGui.QPen(color, 2.4 if severity == "error" else 1.6)
            painter.setPen(pen)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 4.0, 4.0)
            badge = QtCore.QRectF(rect.right() - 17.0, rect.top() + 3.0, 14.0, 14.0)
            painter.setPen(QtCore.Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(badge)
            font = QtGui.QFont(self._info_font)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QtGui.QColor(20, 20, 20))
            painter.drawText(badge, QtCore.Qt.AlignmentFlag.AlignCenter, "!")


def tooltip_html(node_id: str, type_name: str, doc: str, messages: list[tuple[str, str]]) -> str:
    """The node's tooltip: id, type, the type's one-line doc, then each (severity, message)."""
    parts = [f"<b>{html.escape(node_id)}</b> &nbsp;<i>{html.escape(type_name)}</i>"]
    if doc:
        parts.append(html.escape(doc))
    for severity, message in messages:
        color = "#ff6b6b" if severity == "error" else "#f0b040"
        parts.append(f'<span style="color:{color}">{html.escape(severity)}: {html.escape(message)}</span>')
    return "<br/>".join(parts)
