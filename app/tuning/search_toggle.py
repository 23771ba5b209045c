""""Search this": a small checkable button on a row of the Properties and Training panels.

Checked, the row's key is in the design's `search` section (DESIGN §10); clicking adds it at its
default range (app.tuning.candidates.default_range) or takes it out, as one undoable `SetSearch`.
The buttons follow the section, whoever changes it (the Search panel, undo, another file), and
show only on rows that can be searched (`candidate`): not inside a block's definition, not on
settings the search cannot set (text, nested keys).
"""
from __future__ import annotations

import json
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from app.tuning.candidates import candidate, default_range, space_of, with_key, without_keys
from app.tuning.commands import SetSearch

OBJECT_NAME = "searchToggle"
_ICON: QtGui.QIcon | None = None


def search_icon() -> QtGui.QIcon:
    """A magnifying glass, drawn (no icon files, no font that may lack the glyph)."""
    global _ICON
    if _ICON is None:
        pixmap = QtGui.QPixmap(32, 32)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(pixmap)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pen = QtGui.QPen(QtGui.QColor(214, 220, 228), 3.5)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawEllipse(QtCore.QRectF(5, 5, 15, 15))
        painter.drawLine(QtCore.QPointF(18, 18), QtCore.QPointF(27, 27))
        painter.end()
        _ICON = QtGui.QIcon(pixmap)
    return _ICON


def describe(value: object) -> str:
    """A range as the Search panel writes it: `log_uniform [0.0001, 0.01]`, `choice [...]`."""
    if not isinstance(value, dict):
        return json.dumps(value)
    kind = next((k for k in ("uniform", "log_uniform", "int", "choice") if k in value), None)
    if kind is None:
        return json.dumps(value)
    return ("int log" if kind == "int" and value.get("log") else kind) + " " + json.dumps(value[kind])


def node_key(doc, node_id: str | None, name: str) -> str | None:
    """The search key of a node's parameter row; None inside a block's definition (a search sets
    the design's own nodes: a block's insides through the block node's parameters)."""
    return f"nodes.{node_id}.{name}" if not doc.level and node_id is not None else None


class SearchToggles(QtCore.QObject):
    """The "search this" buttons of one panel; `attach(row, key)` puts one on a row, where `key()`
    says which search key the row shows now (None: none)."""

    def __init__(self, doc, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.buttons: dict[QtWidgets.QToolButton, Callable[[], str | None]] = {}
        doc.settings_changed.connect(lambda _section: self.refresh())   # the search, or a value its range starts at
        doc.replaced.connect(self.refresh)

    def attach(self, row, key: Callable[[], str | None]) -> QtWidgets.QToolButton:
        button = QtWidgets.QToolButton()
        button.setObjectName(OBJECT_NAME)
        button.setCheckable(True)
        button.setAutoRaise(True)
        button.setIcon(search_icon())
        button.setIconSize(QtCore.QSize(14, 14))
        button.setStyleSheet("QToolButton#searchToggle:checked { background: #8a6d1c; border: 1px solid #e8aa28;"
                             " border-radius: 3px; }")
        button.clicked.connect(lambda on: self.toggle(key(), on))
        button.destroyed.connect(lambda _obj=None, b=button: self.buttons.pop(b, None))
        row.widget.layout().itemAt(0).layout().addWidget(button)
        self.buttons[button] = key
        self.show(button)
        return button

    def refresh(self, within: QtWidgets.QWidget | None = None) -> None:
        """Show the section on every button (`within`: only on the buttons of that widget)."""
        for button in list(self.buttons):
            if within is None or within.isAncestorOf(button):
                self.show(button)

    def show(self, button: QtWidgets.QToolButton) -> None:
        """The button as the section has it: checked when its key is searched, with the range."""
        key = self.buttons[button]()
        found = candidate(self.doc.project, key) if key is not None else None
        space = space_of(self.doc.project)
        searched = key in space
        button.setVisible(found is not None)
        with QtCore.QSignalBlocker(button):
            button.setChecked(searched)
        if searched:
            button.setToolTip(f"searched: {key} over {describe(space[key])} (edit the range in the Search "
                              "panel); click to stop searching it")
        elif found is not None:
            button.setToolTip(f"search this: add {key} to the design's search over {describe(default_range(*found))}")

    def toggle(self, key: str | None, on: bool) -> bool:
        """Add `key` to the search section or take it out, as one undoable edit."""
        if key is None or (key in space_of(self.doc.project)) == on:
            return False
        if on:
            section = with_key(self.doc.project, key)
            if section is None:
                return False
            pushed = self.doc.push(SetSearch(self.doc, section, f"Search {key}"))
        else:
            pushed = self.doc.push(SetSearch(self.doc, without_keys(self.doc.project, [key]), f"Stop searching {key}"))
        if not pushed:   # refused (a training run goes on): the button goes back to the section's state
            self.refresh()
        return pushed
