"""The dark theme: a Fusion palette matched to NodeGraphQt's canvas, and the colours nodes use."""
from __future__ import annotations

from PySide6 import QtGui, QtWidgets

# One colour per registry category (graph.registry.CATEGORIES); muted so that white text reads on them.
CATEGORY_COLORS: dict[str, tuple[int, int, int]] = {
    "Input/Output": (38, 120, 72),
    "Core": (40, 92, 150),
    "Activation": (150, 96, 30),
    "Convolution": (104, 62, 150),
    "Pooling": (0, 115, 125),
    "Normalisation": (112, 104, 36),
    "Recurrent": (156, 56, 96),
    "Attention": (168, 70, 46),
    "Merge/Split": (78, 88, 104),
}
FALLBACK_COLOR = (90, 90, 90)

ERROR_COLOR = (235, 64, 64)
WARNING_COLOR = (232, 170, 40)
SHAPE_TEXT_COLOR = (236, 240, 244)
# live badges on nodes during a training run (app.node_item.LiveBadge.state)
LIVE_COLORS: dict[str, tuple[int, int, int]] = {
    "ok": (46, 125, 80),
    "vanishing": (52, 100, 200),
    "exploding": (205, 50, 50),
    "dead": (215, 110, 30),
    "info": (75, 80, 92),
}
DIM_TEXT_COLOR = (178, 186, 196)

# Matches NodeGraphQt's ViewerEnum.BACKGROUND_COLOR (35, 35, 35) so docks and canvas meet cleanly.
WINDOW = QtGui.QColor(45, 45, 48)
BASE = QtGui.QColor(30, 30, 32)
ALTERNATE = QtGui.QColor(38, 38, 41)
TEXT = QtGui.QColor(222, 222, 222)
DISABLED_TEXT = QtGui.QColor(120, 120, 120)
HIGHLIGHT = QtGui.QColor(58, 110, 165)
LINK = QtGui.QColor(110, 170, 230)

STYLESHEET = """
QDockWidget::title { background: #2b2b2e; padding: 4px 6px; }
QDockWidget { titlebar-close-icon: none; }
QToolBar { border: none; spacing: 2px; }
QStatusBar { border-top: 1px solid #1e1e20; }
QLineEdit[invalid="true"], QSpinBox[invalid="true"], QDoubleSpinBox[invalid="true"],
QComboBox[invalid="true"] { border: 1px solid #eb4040; background: #3a2224; }
QLabel#problemText { color: #ff7b7b; }
QLabel#derivedValue { color: #9fb4c8; }
QTreeView, QListView, QTableView, QPlainTextEdit { selection-background-color: #3a6ea5; }
"""


def category_color(category: str) -> tuple[int, int, int]:
    return CATEGORY_COLORS.get(category, FALLBACK_COLOR)


def apply_dark_theme(app: QtWidgets.QApplication) -> None:
    """Fusion style with a dark palette; idempotent."""
    app.setStyle("Fusion")
    palette = QtGui.QPalette()
    roles = QtGui.QPalette.ColorRole
    for role, color in (
        (roles.Window, WINDOW), (roles.WindowText, TEXT), (roles.Base, BASE),
        (roles.AlternateBase, ALTERNATE), (roles.ToolTipBase, QtGui.QColor(50, 50, 54)),
        (roles.ToolTipText, TEXT), (roles.Text, TEXT), (roles.Button, WINDOW),
        (roles.ButtonText, TEXT), (roles.BrightText, QtGui.QColor(255, 90, 90)),
        (roles.Link, LINK), (roles.Highlight, HIGHLIGHT), (roles.HighlightedText, QtGui.QColor(255, 255, 255)),
        (roles.PlaceholderText, DISABLED_TEXT),
    ):
        palette.setColor(role, color)
    disabled = QtGui.QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.ButtonText, roles.WindowText):
        palette.setColor(disabled, role, DISABLED_TEXT)
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
