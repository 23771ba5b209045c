"""What the window tells a user about the open design's data before a run: a design-only example
(`ui.design_only`, shipped without a data set: docs/project-file.md) gets a notice over the
canvas, and the Training panel's hint says what to do when there is no data set rather than
inviting a Train that can only fail."""
from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from app.document import Document
from graph.project import Project

DESIGN_ONLY_KEY = "design_only"  # ui.design_only: true
DESIGN_ONLY = "Design-only example: it has no data set. Choose one in Training ▸ Data to train it."
NO_DATA = "This design has no data set yet. Choose one in Training ▸ Data to train it."
READY = "Press Train to train this design on its data set."


def has_data_set(project: Project) -> bool:
    name = project.data.get("dataset")
    return isinstance(name, str) and bool(name)


def canvas_notice(project: Project) -> str | None:
    """The notice over the canvas: only for a design-only example that still has no data set."""
    if project.ui.get(DESIGN_ONLY_KEY) is True and not has_data_set(project):
        return DESIGN_ONLY
    return None


def idle_hint(project: Project) -> str:
    """The Training panel's line before (or between) runs."""
    if has_data_set(project):
        return READY
    return canvas_notice(project) or NO_DATA


class DesignNotice(QtWidgets.QLabel):
    """A non-modal strip across the top of the canvas, shown while `canvas_notice` has something
    to say. Like the lock banner it lies over the view (a child, not in a layout), so showing it
    re-lays out nothing; its "Training ▸ Data" is a link that calls `show_data`."""

    def __init__(self, view: QtWidgets.QWidget, doc: Document, show_data: Callable[[], None]):
        super().__init__(view)
        self.setObjectName("designNotice")
        self.setWordWrap(True)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setStyleSheet("QLabel#designNotice { background: rgba(24, 58, 94, 235); color: #d8ecff; "
                           "padding: 4px 8px; } a { color: #9fd0ff; }")
        self.linkActivated.connect(lambda _link: show_data())
        self.doc = doc
        self.hide()
        view.installEventFilter(self)
        doc.replaced.connect(self.refresh)
        doc.settings_changed.connect(lambda _section: self.refresh())

    def message(self) -> str | None:
        return canvas_notice(self.doc.project)

    def refresh(self) -> None:
        text = self.message()
        if text is not None:
            self.setText(text.replace("Training ▸ Data", '<a href="data">Training ▸ Data</a>'))
            self._place()
            self.raise_()
        self.setVisible(text is not None)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.parent() and event.type() == QtCore.QEvent.Type.Resize:
            self._place()
        return super().eventFilter(watched, event)

    def _place(self) -> None:
        width = self.parentWidget().width()
        self.setGeometry(0, 0, width, self.heightForWidth(width))
