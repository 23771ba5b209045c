"""The Help menu's boxes: the keyboard shortcuts (read from the window's actions) and About."""
from __future__ import annotations

from PySide6 import QtGui, QtWidgets

# keys that are not an action's shortcut
EXTRA_KEYS = (("Add a layer by name", "Tab", "on the canvas"), ("Cut wires", "Alt+Shift+drag", ""),
              ("Leave a block", "Esc", "on the canvas"), ("Enter a block", "double-click", "on a block node"))


def shortcut_rows(window: QtWidgets.QWidget) -> list[tuple[str, str]]:
    """(what, keys) for every named action with a shortcut, and the keys that are no action's."""
    rows = [(action.text().replace("&", ""), action.shortcut().toString())
            for action in window.findChildren(QtGui.QAction)
            if action.objectName().startswith("action") and action.shortcut()]
    rows += [(what, f"{keys} ({where})" if where else keys) for what, keys, where in EXTRA_KEYS]
    return sorted(rows)


def show_shortcuts(window: QtWidgets.QWidget) -> None:
    rows = "".join(f"<tr><td>{what}</td><td><b>{keys}</b></td></tr>" for what, keys in shortcut_rows(window))
    QtWidgets.QMessageBox.information(window, "Keyboard shortcuts", f"<table>{rows}</table>")


def show_about(window: QtWidgets.QWidget) -> None:
    QtWidgets.QMessageBox.about(window, "About LayerLoom",
                                "LayerLoom: design neural networks as node graphs, train them live, "
                                "export plain PyTorch.")
