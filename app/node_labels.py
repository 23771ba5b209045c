"""The texts on a node item, lighter than NodeGraphQt's: plain text items instead of a
QGraphicsTextItem (a whole text document each, about 25 KB and 0.1 ms) per port and per title.

A 5,000-node design held about 3.2 of those per node, the most of its 0.11 MB a node. The title
becomes NodeGraphQt's editable text item only while the user edits it (double-click).
Both keep QGraphicsTextItem's geometry (its 4 px document margin), so nodes lay out as before.
"""
from __future__ import annotations

from NodeGraphQt.qgraphics.node_text_item import NodeTextItem
from PySide6 import QtCore, QtGui, QtWidgets

MARGIN = 4.0  # QGraphicsTextItem's document margin: NodeGraphQt's layout counts it


class PortLabel(QtWidgets.QGraphicsSimpleTextItem):
    """A port's name, laid out as NodeGraphQt lays out its text items."""

    def boundingRect(self) -> QtCore.QRectF:
        return super().boundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)

    def shape(self) -> QtGui.QPainterPath:
        path = QtGui.QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def setPos(self, *args) -> None:  # NodeGraphQt places the margin's corner
        point = QtCore.QPointF(*args)
        super().setPos(point.x() + MARGIN, point.y() + MARGIN)

    def setDefaultTextColor(self, color: QtGui.QColor) -> None:
        self.setBrush(color)


class TitleLabel(PortLabel):
    """The node's title (its id). NodeGraphQt's node item asks it to become editable on a
    double-click; it then shows a `TitleEditor` over itself until the edit ends."""

    def __init__(self, text: str, parent: QtWidgets.QGraphicsItem):
        super().__init__(text, parent)
        self._editor: TitleEditor | None = None
        self.setToolTip("double-click to edit node name.")
        self.setCursor(QtCore.Qt.CursorShape.IBeamCursor)

    def toPlainText(self) -> str:
        return self.text()

    def setPlainText(self, text: str) -> None:
        self.setText(text)

    def set_locked(self, state: bool = False) -> None:  # NodeGraphQt's API; LayerLoom titles are never locked
        pass

    def set_editable(self, value: bool = False) -> None:
        if value and self._editor is None:
            editor = TitleEditor(self.text(), self.parentItem())
            editor.setFont(self.font())
            editor.setDefaultTextColor(self.brush().color())
            editor.setPos(self.pos() - QtCore.QPointF(MARGIN, MARGIN))
            editor.setZValue(self.zValue() + 1.0)
            editor.done = self._edited
            self._editor = editor
            self.setVisible(False)
            editor.set_editable(True)
        elif not value and self._editor is not None:
            self._editor.set_editable(False)

    def setFocus(self, reason=QtCore.Qt.FocusReason.OtherFocusReason) -> None:
        if self._editor is not None:
            self._editor.setFocus(reason)

    def _edited(self) -> None:
        editor, self._editor = self._editor, None
        self.setVisible(True)
        if editor is not None:  # dropped after the event that ended the edit has been handled
            QtCore.QTimer.singleShot(0, lambda: editor.scene() and editor.scene().removeItem(editor))


class TitleEditor(NodeTextItem):
    """NodeGraphQt's editable title, alive only while the user edits; Return, Escape and a click
    elsewhere end it as in NodeGraphQt (the name goes to the viewer's `node_name_changed`)."""

    done = None  # set by the TitleLabel that made it
    _editing = False

    def set_editable(self, value=False):
        super().set_editable(value)
        if value:
            self._editing = True
        elif self._editing:
            self._editing = False
            if self.done is not None:
                self.done()
