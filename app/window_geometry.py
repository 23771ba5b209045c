"""Where the window opens: within the screen it opens on; and the design kept in view when the
docks take room from the canvas.

The designer wants room (1500x900), but a laptop's 1280x800 or a 1280x1024 screen has less; a
window larger than the screen has its right-hand docks cut off. So the first size is the
preferred one shrunk to the screen's available area (its work area: no task bar, no dock), and a
geometry remembered from a larger screen comes back inside the screen it lands on.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

PREFERRED = QtCore.QSize(1500, 900)
OPEN_SCALE = 0.45   # a design is fitted in view, but no smaller than this (its node ids still read)
FRAME = QtCore.QSize(12, 40)   # room left for the window manager's frame and title bar (unknown before show)
SETTINGS_KEY = "window/geometry"


def first_size(available: QtCore.QRect, preferred: QtCore.QSize = PREFERRED) -> QtCore.QSize:
    """The preferred size, no larger than the available area less the window's frame."""
    return QtCore.QSize(min(preferred.width(), available.width() - FRAME.width()),
                        min(preferred.height(), available.height() - FRAME.height()))


def place(window: QtWidgets.QWidget, settings: QtCore.QSettings) -> None:
    """Size a new window: the preferred size within the available area of its screen, or the
    geometry remembered at the last close (Qt's restoreGeometry brings that inside the screen
    it lands on, shrinking it where the screen is smaller than the one it was saved on)."""
    screen = window.screen() or QtGui.QGuiApplication.primaryScreen()
    available = screen.availableGeometry() if screen is not None else QtCore.QRect(QtCore.QPoint(0, 0), PREFERRED)
    window.resize(first_size(available))
    geometry = settings.value(SETTINGS_KEY)
    if isinstance(geometry, QtCore.QByteArray):
        window.restoreGeometry(geometry)


def remember(window: QtWidgets.QWidget, settings: QtCore.QSettings) -> None:
    settings.setValue(SETTINGS_KEY, window.saveGeometry())
