"""Undo commands of the search: the `search` section as one edit, and "Apply best" as one edit.

The search section lives in `project.extra["search"]` (DESIGN §10; graph/ keeps unknown sections
there); `SetSearch` replaces it whole, as SetSection does for `training`. `ApplyValues` sets a
trial's values (training, data, node parameters, types, repeats) at once, so one Ctrl+Z takes
the whole best design back.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6 import QtGui

from app.commands import GraphCommand

if TYPE_CHECKING:
    from app.document import Document

SECTION = "search"


class SetSearch(QtGui.QUndoCommand):
    def __init__(self, doc: Document, value: dict[str, Any] | None, text: str):
        super().__init__(text)
        self.doc = doc
        self.old = copy.deepcopy(doc.project.extra.get(SECTION))
        self.new = copy.deepcopy(value)

    def _set(self, value: dict[str, Any] | None) -> None:
        if value is None:
            self.doc.project.extra.pop(SECTION, None)
        else:
            self.doc.project.extra[SECTION] = copy.deepcopy(value)
        self.doc.settings_changed.emit(SECTION)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


class ApplyValues(GraphCommand):
    """A trial's values on the design: `target` is engine.tuning.space.apply's project with them."""

    def __init__(self, doc: Document, target, keys: list[str], text: str):
        super().__init__(doc, text)
        self.level, self._graph = (), doc.project.graph   # the values name top-level nodes
        project = doc.project
        ids = sorted({k.split(".")[1] for k in keys if k.startswith("nodes.")})
        self.old = (copy.deepcopy(project.training), copy.deepcopy(project.data),
                    {i: _node_state(project.graph[i]) for i in ids})
        self.new = (copy.deepcopy(target.training), copy.deepcopy(target.data),
                    {i: _node_state(target.graph[i]) for i in ids})

    def _put(self, state) -> None:
        training, data, nodes = state
        project = self.doc.project
        project.training, project.data = copy.deepcopy(training), copy.deepcopy(data)
        for node_id, (kind, params, extra) in nodes.items():
            node = self.graph[node_id]
            node.type, node.extra = kind, copy.deepcopy(extra)
            self.graph.set_params(node_id, params)   # tells the canvas the node changed
        self.doc.settings_changed.emit("training")
        self.doc.settings_changed.emit("data")

    def _redo(self) -> None:
        self._put(self.new)

    def _undo(self) -> None:
        self._put(self.old)


def _node_state(node) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return node.type, copy.deepcopy(node.params), copy.deepcopy(node.extra)
