"""Form fields that behave in a panel that scrolls and beside a document with one undo stack.

* The wheel: a spin box or combo box under a scrolling mouse changes its value in plain Qt,
  so scrolling a long form through it edits the project (data.classes went 3 -> 2). Here a
  field takes the wheel only when it has the keyboard focus (click or Tab into it first); an
  unfocused one passes the wheel on, so the panel scrolls.
* Ctrl+Z / Ctrl+Shift+Z: a focused line edit or spin box takes these keys for its own text
  history, so the window's Undo never ran. Here they reach the window's actions (the
  document's stack). A field holding text that was not applied (not a value yet) first
  drops that text; the next Ctrl+Z undoes the document.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

_HISTORY_KEYS = (QtGui.QKeySequence.StandardKey.Undo, QtGui.QKeySequence.StandardKey.Redo)


class _WheelGuard(QtCore.QObject):
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Wheel and not watched.hasFocus():
            event.ignore()   # not for this field: the parent (the scroll area) gets it
            return True
        return False


class _HistoryKeys(QtCore.QObject):
    """Sends Undo/Redo past a field to the window's shortcuts; `drop` (if given) is asked first
    and returns True when it threw away unapplied text, which is then all Ctrl+Z does."""

    def __init__(self, drop: Callable[[], bool] | None, parent: QtCore.QObject):
        super().__init__(parent)
        self._drop = drop

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind not in (QtCore.QEvent.Type.ShortcutOverride, QtCore.QEvent.Type.KeyPress):
            return False
        if not any(event.matches(key) for key in _HISTORY_KEYS):
            return False
        if kind == QtCore.QEvent.Type.ShortcutOverride:
            undo = event.matches(QtGui.QKeySequence.StandardKey.Undo)
            if undo and self._drop is not None and self._drop():
                event.accept()   # handled here: the key press that follows is swallowed below
            else:
                event.ignore()   # not the field's: the window's Undo/Redo shortcut fires
        return True   # never the field's own text history


@functools.cache
def _wheel_guard() -> _WheelGuard:
    return _WheelGuard()


def guard_wheel(*widgets: QtWidgets.QWidget) -> None:
    """Let these fields take the wheel only when focused (Qt.StrongFocus: click or Tab)."""
    for widget in widgets:
        widget.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(_wheel_guard())


def route_history_keys(widget: QtWidgets.QWidget, drop: Callable[[], bool] | None = None) -> None:
    """Ctrl+Z and its Redo on a focused `widget` reach the window's Undo/Redo (see the module doc)."""
    keys = _HistoryKeys(drop, widget)
    targets = [widget]
    if isinstance(widget, QtWidgets.QAbstractSpinBox) and widget.lineEdit() is not None:
        targets.append(widget.lineEdit())
    for target in targets:
        target.installEventFilter(keys)
