"""The undo command for the project's `data` and `training` sections (DESIGN §3).

The sections in the Project are the truth; the training panel shows them and every change
is one `SetSection` on the window's undo stack, replacing the whole section (a new data set
drops the options of the old one in the same step). Consecutive changes of the same field
merge into one step, as typing into a parameter box does. These change no shape, so there is
no re-analysis; `Document.settings_changed` tells the panel to show the new values.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6 import QtGui

if TYPE_CHECKING:
    from app.document import Document

_MERGE_SECTION = 2
SECTIONS = ("data", "training")


class SetSection(QtGui.QUndoCommand):
    """Replace the `data` or `training` section (refused while a run locks the design: the panel
    then shows the settings of the run in progress)."""

    def __init__(self, doc: Document, section: str, value: dict[str, Any], text: str, field: str | None = None):
        super().__init__(text)
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}")
        self.doc, self.section, self.field = doc, section, field
        self.old = copy.deepcopy(getattr(doc.project, section))
        self.new = copy.deepcopy(value)

    def id(self) -> int:
        return _MERGE_SECTION

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        if (not isinstance(other, SetSection) or other.section != self.section or self.field is None
                or other.field != self.field):
            return False
        self.new = copy.deepcopy(other.new)
        return True

    def _set(self, value: dict[str, Any]) -> None:
        setattr(self.doc.project, self.section, copy.deepcopy(value))
        self.doc.settings_changed.emit(self.section)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)
