"""A user building a design by hand through the window's own commands: palette drops, wires dragged
between ports, ids and parameters typed in the Properties panel, training settings chosen in the
Training panel. Shared by the hand-built GAN and GPT tests."""
from __future__ import annotations

import itertools
import os
from pathlib import Path

from PySide6 import QtWidgets

from tests.app.gestures import drop_layer, wire

SHOTS = os.environ.get("LAYERLOOM_SHOTS")   # a folder: the hand-built tests save what they show there


def shoot(window, name: str) -> None:
    if SHOTS:
        window.grab().save(str(Path(SHOTS) / f"{name}.png"))


def chain(window, types: list[str], row: float, start: float = 0.0) -> list[str]:
    """Drop `types` left to right on one row and wire each to the next; returns their ids."""
    ids = [drop_layer(window, t, (start + i * 230.0, row)) for i, t in enumerate(types)]
    for a, b in itertools.pairwise(ids):
        wire(window, a, b)
    return ids


def type_into(qtbot, edit: QtWidgets.QLineEdit, text: str) -> None:
    """Click into a line edit, replace its text by typing, and leave it (Enter)."""
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    edit.editingFinished.emit()


def set_field(qtbot, editor: QtWidgets.QWidget, value) -> None:
    """Set a form field as a user does: a spin box's value, a combo box's entry, a check box, text."""
    if isinstance(editor, QtWidgets.QComboBox):
        index = editor.findData(value)
        assert index >= 0, (value, [editor.itemData(i) for i in range(editor.count())])
        editor.setCurrentIndex(index)
        editor.activated.emit(index)
    elif isinstance(editor, QtWidgets.QAbstractSpinBox):
        editor.setValue(value)
    elif isinstance(editor, QtWidgets.QCheckBox):
        editor.setChecked(bool(value))
    else:
        type_into(qtbot, editor, value if isinstance(value, str) else ", ".join(map(str, value)))


def set_params(window, qtbot, node_id: str, **params) -> None:
    """Select the node and set each parameter in the Properties panel."""
    window.canvas.select([node_id])
    rows = window.properties.rows
    for name, value in params.items():
        row = rows[name]
        if row.switch is not None and not row.switch.isChecked():
            row.switch.setChecked(True)
        set_field(qtbot, row.editor, value)
        got = window.doc.graph[node_id].params.get(name)
        assert got == value, (node_id, name, got, window.statusBar().currentMessage())


def rename(window, qtbot, node_id: str, new_id: str) -> str:
    window.canvas.select([node_id])
    type_into(qtbot, window.properties.id_edit, new_id)
    assert new_id in window.doc.graph.ids(), window.properties.id_problem.text()
    return new_id


def set_training(window, qtbot, **settings) -> None:
    """Set `training` keys through the Training panel's rows (rows["training.KEY"])."""
    rows = window.training.panel.rows
    for key, value in settings.items():
        row = rows[f"training.{key}"]
        if row.switch is not None and not row.switch.isChecked():
            row.switch.setChecked(True)
        set_field(qtbot, row.editor, value)
        assert window.doc.project.training.get(key) == value, (key, window.doc.project.training)


def choose_dataset(window, name: str, **options) -> None:
    panel = window.training.panel
    box = panel.dataset_box
    index = box.findData(name)
    assert index >= 0, name
    box.setCurrentIndex(index)
    box.activated.emit(index)
    assert window.doc.project.data["dataset"] == name


def set_data(window, qtbot, **options) -> None:
    """Set the data set's options through the Training panel's rows (rows["data.KEY"])."""
    rows = window.training.panel.rows
    for key, value in options.items():
        set_field(qtbot, rows[f"data.{key}"].editor, value)
        assert window.doc.project.data.get(key) == value, (key, window.doc.project.data)
