"""The open design: its Project, where it lives on disk, its undo stack, its latest analysis and
the level being edited (the top graph, or a block's definition entered from one of its uses)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6 import QtCore, QtGui

from graph.analysis import Analysis, analyse
from graph.block_analysis import analysis_at
from graph.model import Graph
from graph.project import LoomFileError, Project, save


class Document(QtCore.QObject):
    """One design in the window. `refresh()` re-runs the analysis after every command and tells
    the views (`analysed`); `replaced` says that a different project is now open.

    While a training run goes on the design is *locked* (`lock(reason)`): every command is refused,
    and so is undoing or redoing one, except those marked `allowed_while_locked` (moves: a
    position changes nothing the run trains). `refused` carries the reason to the status bar."""

    analysed = QtCore.Signal(object)   # Analysis
    replaced = QtCore.Signal()
    dirty_changed = QtCore.Signal(bool)
    settings_changed = QtCore.Signal(str)  # "data" or "training": that section of the project changed
    lock_changed = QtCore.Signal(object)   # the lock reason, or None when unlocked
    refused = QtCore.Signal(str)           # an edit refused while locked, and why
    level_changed = QtCore.Signal()        # another graph is edited (a block entered or left)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.project = Project()
        self.path: Path | None = None
        self.undo_stack = QtGui.QUndoStack(self)
        self.analysis: Analysis = analyse(self.project.graph)
        self._unsaved = False  # changes that are not on the undo stack (a recovered autosave)
        self.lock_reason: str | None = None
        self.level: tuple[str, ...] = ()  # the breadcrumb: block node ids from the top graph down
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.dirty_changed.emit(self.dirty)

    @property
    def graph(self) -> Graph:
        return self.project.graph

    # -- the level being edited (docs/blocks.md, "In the window") ----------------------
    def graph_at(self, level: tuple[str, ...]) -> Graph | None:
        """The graph a breadcrumb leads to: each step a block node of the graph above; None where a
        step is not one."""
        graph = self.graph
        for step in level:
            node = graph.node(step)
            block = graph.blocks.get(node.type) if node is not None and graph.blocks is not None else None
            if block is None:
                return None
            graph = block.graph
        return graph

    @property
    def edited_graph(self) -> Graph:
        """The graph the canvas shows and edits: the top graph or a block's definition."""
        return self.graph_at(self.level) or self.graph

    @property
    def level_analysis(self) -> Analysis:
        """The analysis of the edited level at the use it was entered from. A use that could not be
        inferred (an input not wired) shows no shapes, only its definition's own problems."""
        found = analysis_at(self.analysis, list(self.level))
        if found is not None:
            return found
        name = self.edited_graph_name()
        prefix = f"{name}."
        problems = [dataclasses.replace(d, node=d.node[len(prefix):]) for d in self.analysis.diagnostics
                    if name and isinstance(d.node, str) and d.node.startswith(prefix)]
        return Analysis({}, [], problems)

    def edited_graph_name(self) -> str | None:
        """The block whose definition is edited (None at the top)."""
        if not self.level:
            return None
        above = self.graph_at(self.level[:-1])
        node = above.node(self.level[-1]) if above is not None else None
        return node.type if node is not None else None

    def set_level(self, level: tuple[str, ...]) -> None:
        """Edit another level; a breadcrumb that leads nowhere is cut to the part that does."""
        level = tuple(level)
        while level and self.graph_at(level) is None:
            level = level[:-1]
        if level != self.level:
            self.level = level
            self.level_changed.emit()

    @property
    def dirty(self) -> bool:
        return self._unsaved or not self.undo_stack.isClean()

    def relative_path(self, path: str) -> str:
        """A file the user picked, relative to the saved project's folder where it lies under it, so
        the project keeps working when its folder moves; as picked otherwise."""
        if self.path is None:
            return path
        try:
            return str(Path(path).resolve().relative_to(self.path.resolve().parent))
        except ValueError:
            return path

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self.project.name or "Untitled"

    def replace(self, project: Project, path: Path | None, unsaved: bool = False) -> None:
        """Open another project: a fresh undo history, a fresh analysis."""
        self.project = project
        self.path = Path(path) if path is not None else None
        self.undo_stack.clear()
        self._unsaved = unsaved
        self.level = ()
        self.analysis = analyse(project.graph)
        self.replaced.emit()
        self.analysed.emit(self.analysis)
        self.dirty_changed.emit(self.dirty)

    def refresh(self) -> None:
        self.analysis = analyse(self.graph)
        self.set_level(self.level)  # an edit above may have taken the entered block node away
        self.analysed.emit(self.analysis)

    def push(self, command: QtGui.QUndoCommand) -> bool:
        """Do `command` and put it on the undo stack; False when the lock refuses it."""
        if self.lock_reason is not None and _refused_when_locked(command):
            self.refused.emit(f"{command.text()}: {self.lock_reason}")
            return False
        self.undo_stack.push(command)
        return True

    # -- the lock during a training run -------------------------------------------------
    @property
    def locked(self) -> bool:
        return self.lock_reason is not None

    def lock(self, reason: str) -> None:
        self.lock_reason = reason
        self.lock_changed.emit(reason)

    def unlock(self) -> None:
        if self.lock_reason is not None:
            self.lock_reason = None
            self.lock_changed.emit(None)

    def can_undo(self) -> bool:
        stack = self.undo_stack
        return stack.canUndo() and (self.lock_reason is None
                                    or not _refused_when_locked(stack.command(stack.index() - 1)))

    def can_redo(self) -> bool:
        stack = self.undo_stack
        return stack.canRedo() and (self.lock_reason is None
                                    or not _refused_when_locked(stack.command(stack.index())))

    def undo(self) -> None:
        if self.can_undo():
            self.undo_stack.undo()
        elif self.undo_stack.canUndo():
            self.refused.emit(f"Undo {self.undo_stack.undoText()}: {self.lock_reason}")

    def redo(self) -> None:
        if self.can_redo():
            self.undo_stack.redo()
        elif self.undo_stack.canRedo():
            self.refused.emit(f"Redo {self.undo_stack.redoText()}: {self.lock_reason}")

    def repaired(self) -> None:
        """A change that cannot be undone was made (a repair of a broken file): the history
        before it no longer applies, and the design has unsaved changes."""
        self.undo_stack.clear()
        self._unsaved = True
        self.refresh()
        self.dirty_changed.emit(self.dirty)

    def save(self, path: Path) -> str | None:
        """Write the design to `path` (atomically) and mark it saved. On failure nothing changes, on
        disk or here, and the reason is returned for the window to report: Save never raises."""
        try:
            save(self.project, path)
        except LoomFileError as exc:
            return str(exc)
        except OSError as exc:
            return f"{path}: {exc.strerror or exc}"
        self.mark_saved(path)
        return None

    def mark_saved(self, path: Path) -> None:
        self.path = Path(path)
        self._unsaved = False
        self.undo_stack.setClean()
        self.dirty_changed.emit(self.dirty)


def _refused_when_locked(command: QtGui.QUndoCommand | None) -> bool:
    """Whether the lock of a training run refuses a command (all but moves)."""
    return command is not None and not getattr(command, "allowed_while_locked", False)
