"""Fitting a line of text into the room it has without cutting a word.

Qt's own eliding cuts anywhere (`val accu…`, `ETA` with its time dropped). Lines made of
parts ("epoch 3/40 · step 90/1,200 · 5k samples/s · ETA 0:12") lose whole parts instead, the
least wanted first; free text is cut after the last whole word that fits, then "…". The full
text stays in the widget's tooltip.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

ELLIPSIS = "…"
SEPARATOR = " · "


def fit_parts(parts: Sequence[str], metrics: QtGui.QFontMetrics, width: int,
              drop_order: Sequence[int] = (), sep: str = SEPARATOR) -> str:
    """`parts` joined by `sep`, dropping the parts at the indices of `drop_order` (in that order)
    until the line fits `width`; when it still does not fit, the rest is cut at a word."""
    kept = list(range(len(parts)))
    text = sep.join(parts)
    for index in drop_order:
        if metrics.horizontalAdvance(text) <= width:
            return text
        if index in kept and len(kept) > 1:
            kept.remove(index)
            text = sep.join(parts[i] for i in kept)
    return elide_words(text, metrics, width)


def elide_words(text: str, metrics: QtGui.QFontMetrics, width: int, sep: str = SEPARATOR) -> str:
    """`text` if it fits `width`, else its longest beginning that ends at a separator or a space
    and fits with "…" after it ("" when not even the first word fits)."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    room = width - metrics.horizontalAdvance(ELLIPSIS)
    for cut_at in (sep, " "):
        best = ""
        start = 0
        while (cut := text.find(cut_at, start)) > 0:
            head = text[:cut].rstrip(" ·:,")
            if metrics.horizontalAdvance(head) > room:
                break
            best, start = head, cut + len(cut_at)
        if best:
            return best + ELLIPSIS
    return ""


class FittedProgressBar(QtWidgets.QProgressBar):
    """A progress bar whose text is made of parts and loses whole parts when the bar is too
    narrow for all of them (`set_parts`), rather than being clipped mid-word; the whole line is
    its tooltip. It fits at paint time, so a resized bar refits without being told."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._parts: tuple[str, ...] = ()
        self._drop: tuple[int, ...] = ()

    def set_parts(self, parts: Sequence[str], drop_order: Sequence[int] = ()) -> None:
        """The text's parts, and which of them go first when room is short (by index)."""
        self._parts, self._drop = tuple(parts), tuple(drop_order)
        full = SEPARATOR.join(self._parts)
        self.setFormat(full)
        self.setToolTip(full)

    def text(self) -> str:
        if not self._parts:
            return super().text()
        return fit_parts(self._parts, self.fontMetrics(), self.contentsRect().width() - 12, self._drop)


class WrappingDelegate(QtWidgets.QStyledItemDelegate):
    """Rows of a one-column list or tree as tall as their text wrapped at words in the view's
    width (QTreeView's own word wrap keeps every row one line high, so a long row is cut)."""

    def sizeHint(self, option: QtWidgets.QStyleOptionViewItem, index) -> QtCore.QSize:
        hint = super().sizeHint(option, index)
        view = self.parent()
        opt = QtWidgets.QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        room = view.viewport().width() - (hint.width() - opt.fontMetrics.horizontalAdvance(opt.text))
        if room <= 0 or hint.width() <= view.viewport().width():
            return hint
        text = opt.fontMetrics.boundingRect(QtCore.QRect(0, 0, room, 100_000), QtCore.Qt.TextFlag.TextWordWrap, opt.text)
        return QtCore.QSize(view.viewport().width(), max(hint.height(), text.height() + 4))
