"""Opening a design by dropping its file on the window.

A `.loom` file dragged from a file manager may land on the canvas (NodeGraphQt's viewer takes
every `text/uri-list` drag and does nothing with it) or on any other part of the window. One
event filter on the window and on the canvas's viewport answers both: it accepts a drag that
carries a local `.loom` file and, on the drop, asks the window to open it (which asks about
unsaved changes first). Other drags (a layer from the palette) pass through untouched.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui

SUFFIX = ".loom"
DRAGS = (QtCore.QEvent.Type.DragEnter, QtCore.QEvent.Type.DragMove)


def loom_file(mime: QtCore.QMimeData) -> Path | None:
    """The first local `.loom` file a drag carries, or None."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(SUFFIX):
            return Path(url.toLocalFile())
    return None


class LoomDrop(QtCore.QObject):
    """Accepts `.loom` drags on the objects it filters; `open_file` is called with the dropped path."""

    def __init__(self, open_file: Callable[[Path], object], parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._open = open_file

    def watch(self, *widgets) -> None:
        for widget in widgets:
            widget.setAcceptDrops(True)
            widget.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind not in (*DRAGS, QtCore.QEvent.Type.Drop) or not isinstance(event, QtGui.QDropEvent):
            return False
        path = loom_file(event.mimeData())
        if path is None:
            return False
        event.setDropAction(QtCore.Qt.DropAction.CopyAction)
        event.accept()
        if kind == QtCore.QEvent.Type.Drop:
            # after the drop has returned to the file manager: the open may ask a question
            QtCore.QTimer.singleShot(0, lambda: self._open(path))
        return True
