"""`python main.py [FILE]`: start Qt, show the designer, run until it closes."""
from __future__ import annotations

import sys

from PySide6 import QtCore, QtWidgets

from app.theme import apply_dark_theme


def run_designer(path: str | None = None) -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("LayerLoom")
    app.setOrganizationName("LayerLoom")
    apply_dark_theme(app)
    from app.main_window import MainWindow  # after the QApplication: it builds fonts and pixmaps

    window = MainWindow(path)
    window.show()
    from app.training.loader import engine_loader

    # PyTorch, the trainer and what the first optimiser imports load in the background once the
    # window is up, so that the training panel fills in and the first Train starts at once
    QtCore.QTimer.singleShot(1000, engine_loader().warm_up)
    if window.startup_error:
        QtWidgets.QMessageBox.critical(window, "Cannot open the design", window.startup_error)
    window.offer_recovery()
    return app.exec()
