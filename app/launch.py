"""`python main.py [FILE]`: start Qt, show the designer, run until it closes; and when the window
warms PyTorch up (`WarmUp`)."""
from __future__ import annotations

import sys

from PySide6 import QtCore, QtWidgets

from app.theme import apply_dark_theme

IDLE_MS = 1000      # the window warms PyTorch up after this long without a new design or an edit ...
BIG_DESIGN = 1000   # ... when the design has nodes, and no more than this many at its top level


class WarmUp(QtCore.QObject):
    """Imports PyTorch, the trainer and what the first optimiser needs in the background once the
    window is idle with a design to train that is not big, so that the Training panel fills in
    and the first Train starts at once. A big design's items need the memory (PyTorch is about
    230 MB, a 5,000-node design's items about 200 MB), so there PyTorch loads when the user
    first trains, opens the Training panel or Predict (docs/designer.md, "Big designs"); an
    empty window has nothing to train yet."""

    def __init__(self, doc, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(IDLE_MS)
        self._timer.timeout.connect(self._idle)
        self.done = False
        doc.replaced.connect(self._restart)
        doc.analysed.connect(self._restart)
        self._timer.start()

    def _restart(self, *_args) -> None:
        if not self.done:
            self._timer.start()

    def wanted(self) -> bool:
        return 0 < len(self.doc.project.graph.nodes) <= BIG_DESIGN

    def _idle(self) -> None:
        from app.training.loader import engine_loader

        loader = engine_loader()
        if loader.state != "idle" or self.wanted():  # loading already (a Train): the rest of the warm-up
            self.done = True
            loader.warm_up()


def run_designer(path: str | None = None) -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("LayerLoom")
    app.setOrganizationName("LayerLoom")
    apply_dark_theme(app)
    from app.main_window import MainWindow  # after the QApplication: it builds fonts and pixmaps

    window = MainWindow(path)
    window.show()
    WarmUp(window.doc, window)
    if window.startup_error:
        QtWidgets.QMessageBox.critical(window, "Cannot open the design", window.startup_error)
    window.offer_recovery()
    return app.exec()
