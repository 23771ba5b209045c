"""The open design: its Project, where it lives on disk, its undo stack and its latest analysis."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui

from graph.analysis import Analysis, analyse
from graph.model import Graph
from graph.project import Project


class Document(QtCore.QObject):
    """One design in the window. `refresh()` re-runs the analysis after every command and tells
    the views (`analysed`); `replaced` says that a different project is now open."""

    analysed = QtCore.Signal(object)   # Analysis
    replaced = QtCore.Signal()
    dirty_changed = QtCore.Signal(bool)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.project = Project()
        self.path: Path | None = None
        self.undo_stack = QtGui.QUndoStack(self)
        self.analysis: Analysis = analyse(self.project.graph)
        self._unsaved = False  # changes that are not on the undo stack (a recovered autosave)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.dirty_changed.emit(self.dirty)

    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def dirty(self) -> bool:
        return self._unsaved or not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self.project.name or "Untitled"

    def replace(self, project: Project, path: Path | None, unsaved: bool = False) -> None:
        """Open another project: a fresh undo history, a fresh analysis."""
        self.project = project
        self.path = Path(path) if path is not None else None
        self.undo_stack.clear()
        self._unsaved = unsaved
        self.analysis = analyse(project.graph)
        self.replaced.emit()
        self.analysed.emit(self.analysis)
        self.dirty_changed.emit(self.dirty)

    def refresh(self) -> None:
        self.analysis = analyse(self.graph)
        self.analysed.emit(self.analysis)

    def push(self, command: QtGui.QUndoCommand) -> None:
        self.undo_stack.push(command)

    def repaired(self) -> None:
        """A change that cannot be undone was made (a repair of a broken file): the history
        before it no longer applies, and the design has unsaved changes."""
        self.undo_stack.clear()
        self._unsaved = True
        self.refresh()
        self.dirty_changed.emit(self.dirty)

    def mark_saved(self, path: Path) -> None:
        self.path = Path(path)
        self._unsaved = False
        self.undo_stack.setClean()
        self.dirty_changed.emit(self.dirty)
