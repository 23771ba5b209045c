"""The widgets of a plot frame that draw no data: the title line, the node chooser, the empty state."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app.text_fit import elide_words


class TitleLine(QtWidgets.QWidget):
    """A plot's title and its latest figures ("Loss  train 0.21 · val 0.25"), redrawn with every
    plot redraw; what does not fit is dropped at a word (app.text_fit), the whole line in the tooltip. A QLabel asks its layout to recompute on every setText (1-1.5 ms of the GUI
    thread each time, measured); this line has a fixed height and only repaints itself."""

    DETAIL_COLOR = QtGui.QColor(154, 164, 174)
    ACCENT_COLOR = QtGui.QColor(240, 130, 40)

    def __init__(self, title: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._title, self._detail, self._accent = title, "", ""
        self._bold = QtGui.QFont(self.font())
        self._bold.setBold(True)
        self.setFixedHeight(QtGui.QFontMetrics(self._bold).height() + 4)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)

    def set_text(self, title: str, detail: str = "", accent: str = "") -> None:
        """`detail` in grey after the title; `accent` (a warning such as dead units) in orange after it."""
        if (title, detail, accent) != (self._title, self._detail, self._accent):
            self._title, self._detail, self._accent = title, detail, accent
            self.setToolTip(self.text())
            self.update()

    def text(self) -> str:
        return "  ".join(part for part in (self._title, self._detail, self._accent) if part)

    def _pieces(self) -> list[tuple[int, str, QtGui.QFont, QtGui.QColor]]:
        """(x, text shown, font, colour) of the title, the figures and the warning in turn."""
        right = self.rect().right() - 2
        x, pieces = 0, []
        for text, font, color in ((self._title, self._bold, self.palette().color(QtGui.QPalette.ColorRole.WindowText)),
                                  (self._detail, self.font(), self.DETAIL_COLOR),
                                  (self._accent, self.font(), self.ACCENT_COLOR)):
            if not text or x >= right:
                continue
            metrics = QtGui.QFontMetrics(font)
            shown = elide_words(text, metrics, right - x)
            pieces.append((x, shown, font, color))
            x += metrics.horizontalAdvance(shown) + metrics.horizontalAdvance("  ")
        return pieces

    def shown_text(self) -> str:
        return "  ".join(shown for _x, shown, _font, _color in self._pieces() if shown)

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        flags = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        right = self.rect().right() - 2
        for x, shown, font, color in self._pieces():
            painter.setFont(font)
            painter.setPen(color)
            painter.drawText(QtCore.QRect(x, 0, right - x, self.height()), flags, shown)


class NodeChooser(QtWidgets.QComboBox):
    def __init__(self, name: str, tip: str):
        super().__init__()
        self.setObjectName(name)
        self.setToolTip(tip)
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumWidth(90)

    def set_nodes(self, nodes: list[str], current: str | None) -> None:
        if [self.itemText(i) for i in range(self.count())] != nodes:
            with QtCore.QSignalBlocker(self):
                self.clear()
                self.addItems(nodes)
        with QtCore.QSignalBlocker(self):
            self.setCurrentIndex(nodes.index(current) if current in nodes else -1)


class EmptyState(QtWidgets.QLabel):
    """A centred line over a plot that has nothing to draw yet, saying what will come ("Train to
    see the loss") or why nothing will (no decision boundary for this design). It covers the
    plot's data area (its view boxes), so the axes stay in sight around it, and lets the mouse
    through."""

    def __init__(self, view: QtWidgets.QGraphicsView, boxes: list):
        super().__init__(view)
        self.setObjectName(f"{view.objectName() or 'plot'}Empty")
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("QLabel { color: rgb(170, 176, 186); background: rgb(30, 30, 32); padding: 2px 6px; }")
        self._view, self._boxes = view, boxes
        for box in boxes:
            box.sigResized.connect(self._place)
        self.hide()

    def _place(self, *_args) -> None:
        area = QtCore.QRect()
        for box in self._boxes:
            area = area.united(self._view.mapFromScene(box.sceneBoundingRect()).boundingRect())
        self.setGeometry(area.adjusted(1, 1, -1, -1))

    def show_text(self, text: str | None) -> None:
        """Show `text` over the plot, or nothing (None)."""
        if text:
            if text != self.text():
                self.setText(text)
            self._place()
            self.raise_()
        self.setVisible(bool(text))
