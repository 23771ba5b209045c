"""The panels around the canvas: problems, properties, summary, code."""
from __future__ import annotations

import json

from PySide6 import QtCore

from tests.app.gestures import drop_layer, wire

BROKEN = {
    "format": "layerloom", "version": 1, "name": "Broken",
    "graph": {
        "nodes": [
            {"id": "x", "type": "Input", "params": {"shape": [3, 32, 32]}, "pos": [0, 0]},
            {"id": "conv", "type": "Conv2d", "params": {"out_channels": 0}, "pos": [250, 0]},
            {"id": "flat", "type": "Flatten", "pos": [500, 0]},
            {"id": "fc", "type": "Linear", "params": {"out_features": 10}, "pos": [2500, 900]},
            {"id": "y", "type": "Output", "pos": [3000, 900]},
            {"id": "spare", "type": "ReLU", "pos": [250, 300]},
        ],
        "edges": [{"from": "x", "to": "conv"}, {"from": "conv", "to": "flat"}, {"from": "fc", "to": "y"},
                  {"from": "x", "to": "spare"}],
    },
}


def test_problems_panel_lists_a_broken_design_and_shows_the_node(make_window, tmp_path, qtbot):
    path = tmp_path / "broken.loom"
    path.write_text(json.dumps(BROKEN))
    window = make_window(path)
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    rows = window.problems.rows()
    assert ("conv.out_channels", "'out_channels' is 0; expected a whole number >= 1 (fix or remove this parameter)") \
        in rows
    assert any(node == "fc" and "not connected" in text for node, text in rows)
    assert any(node == "spare" and "not used" in text for node, text in rows)
    assert rows[-1][0] == "spare"  # warnings after errors
    assert window.canvas.annotation("conv").severity == "error"
    assert "out_channels" in window.canvas.annotation("conv").tooltip
    assert window.canvas.annotation("spare").severity == "warning"
    assert window.canvas.annotation("flat").shape == "?"  # unknown: the cause is upstream, reported there
    assert "2 problems" in window.status_totals.text()

    # click the fc problem: fc is selected and brought to the middle of the view
    item = next(window.problems.topLevelItem(i) for i in range(window.problems.topLevelItemCount())
                if window.problems.topLevelItem(i).text(0) == "fc")
    rect = window.problems.visualItemRect(item)
    qtbot.mouseClick(window.problems.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.canvas.selected_ids() == ["fc"]
    viewer = window.canvas.viewer
    center = viewer.mapToScene(viewer.viewport().rect().center())
    fc_center = window.canvas.item("fc").view.sceneBoundingRect().center()
    assert abs(center.x() - fc_center.x()) < 5 and abs(center.y() - fc_center.y()) < 5
    # the properties panel shows the bad value in place
    window.canvas.select(["conv"])
    row = window.properties.rows["out_channels"]
    assert row.problem.isVisible() and "expected a whole number >= 1" in row.problem.text()
    assert row.editor.property("invalid") is True
    assert row.editor.value() == 0  # shown as it is in the file, not clamped to look valid


def test_properties_panel_builds_the_right_editor_per_kind(window):
    conv = drop_layer(window, "Conv2d", (0.0, 0.0))
    rows = window.properties.rows
    assert type(rows["out_channels"].editor).__name__ == "QSpinBox"
    assert rows["out_channels"].editor.minimum() == 1
    assert type(rows["bias"].editor).__name__ == "QCheckBox"
    assert type(rows["padding_mode"].editor).__name__ == "QComboBox"
    assert rows["padding"].editor.text() == "0"
    assert rows["out_channels"].widget.isVisible()
    assert not rows["padding_mode"].widget.isVisible()  # advanced: folded away until asked for
    window.properties.advanced_toggle.setChecked(True)
    assert rows["padding_mode"].widget.isVisible()
    # a size typed as text: "3, 5" is a pair
    rows["kernel_size"].editor.setText("3, 5")
    rows["kernel_size"].editor.textEdited.emit("3, 5")
    assert window.doc.graph[conv].params["kernel_size"] == [3, 5]
    # text that is not a value is flagged in place and not applied
    rows["padding"].editor.setText("lots")
    rows["padding"].editor.textEdited.emit("lots")
    rows["padding"].editor.editingFinished.emit()
    assert rows["padding"].problem.isVisible() and "padding" not in window.doc.graph[conv].params
    rows["padding"].editor.setText("same")
    rows["padding"].editor.textEdited.emit("same")
    assert window.doc.graph[conv].params["padding"] == "same" and not rows["padding"].problem.isVisible()
    # choices, booleans and the trainable switch are commands too
    rows["bias"].editor.setChecked(False)
    window.properties.trainable.setChecked(False)
    assert window.doc.graph[conv].params["bias"] is False and window.doc.graph[conv].trainable is False
    window.doc.undo_stack.undo()
    assert window.doc.graph[conv].trainable is True and window.properties.trainable.isChecked()


def test_optional_parameters_can_be_switched_off(window):
    pool = drop_layer(window, "MaxPool2d", (0.0, 0.0))
    row = window.properties.rows["stride"]
    assert row.switch is not None and not row.switch.isChecked() and not row.editor.isEnabled()
    row.switch.setChecked(True)
    assert window.doc.graph[pool].params["stride"] == 1
    row.switch.setChecked(False)
    assert "stride" not in window.doc.graph[pool].params


def test_inferred_sizes_are_shown_read_only(window):
    x = drop_layer(window, "Input", (0.0, 0.0))
    fc = drop_layer(window, "Linear", (250.0, 0.0))
    window.editor.set_param(x, "shape", [20])
    wire(window, x, fc)
    window.canvas.select([fc])
    form = window.properties.inferred_form
    pairs = {form.itemAt(i, form.ItemRole.LabelRole).widget().text():
             form.itemAt(i, form.ItemRole.FieldRole).widget().text() for i in range(form.rowCount())}
    assert pairs["in_features"] == "20"
    assert pairs["output"] == "(N, 64)"
    assert pairs["parameters"] == "1,344"


def test_summary_and_code_follow_the_design(window, examples):
    window.open_example(examples[0])
    window.code.regenerate()
    code = window.code.toPlainText()
    assert "class" in code and "def forward" in code
    assert window.code.isReadOnly()
    model = window.summary.model
    assert model.rowCount() == len(window.doc.graph.nodes)
    first = window.doc.graph.nodes[0].id
    assert model.data(model.index(0, 0)) == first
    assert model.data(model.index(0, 2)).startswith("(N")
    assert f"{window.doc.analysis.total_params:,}" in window.summary.totals.text()
    # a problem: the code panel says why there is no code
    node = window.doc.graph.nodes[1]
    window.editor.set_param(node.id, next(p.name for p in node.layer.params if p.kind == "int"), 0)
    window.code.regenerate()
    assert window.code.toPlainText().startswith("# The design has 1 problem")


ODD = {
    "format": "layerloom", "version": 1, "name": "Odd",
    "graph": {
        "nodes": [
            {"id": "x", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]},
            {"id": 5, "type": "Linear", "pos": [200, 0]},
            {"id": "a", "type": "Linear", "pos": [200, 200]},
            {"id": "a", "type": "ReLU", "pos": [400, 200]},
            {"id": "b", "type": "Bogus", "pos": [600, 200]},
            {"id": "y", "type": "Output", "pos": [600, 0]},
        ],
        "edges": [{"from": "x", "to": "a"}, {"from": "a", "to": "ghost"}, {"from": "a", "to": "y"}],
    },
}


def test_a_broken_file_opens_and_the_problems_panel_mends_what_the_canvas_cannot_show(make_window, tmp_path):
    path = tmp_path / "odd.loom"
    path.write_text(json.dumps(ODD))
    window = make_window(path)
    assert window.startup_error is None
    assert sorted(window.canvas._nodes) == ["a", "x", "y"]  # bad id, twin id, unknown type: not drawn
    panel = window.problems

    def row(text):
        return next(panel.topLevelItem(i) for i in range(panel.topLevelItemCount())
                    if text in panel.topLevelItem(i).text(1))

    (remove,) = panel.actions_for(row("ghost"))
    remove.trigger()
    assert not any(e.dst == "ghost" for e in window.doc.graph.edges)
    (delete,) = panel.actions_for(row("Bogus"))
    delete.trigger()
    assert window.doc.graph.node("b") is None
    assert panel.actions_for(row("used by 2 nodes")) == []  # twins cannot be told apart: rename first
    window.doc.undo_stack.undo()
    window.doc.undo_stack.undo()
    assert any(e.dst == "ghost" for e in window.doc.graph.edges) and window.doc.graph.node("b") is not None
    window.editor.rename("a", "a1")  # a repair: not undoable, and the design is unsaved
    assert sorted(window.canvas._nodes) == ["a", "a1", "x", "y"]  # the twin shows now
    assert window.doc.undo_stack.count() == 0 and window.doc.dirty


def test_typing_a_float_in_scientific_notation(window, qtbot):
    node = drop_layer(window, "LeakyReLU", (0.0, 0.0))
    box = window.properties.rows["negative_slope"].editor
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "2e-3")
    assert window.doc.graph[node].params["negative_slope"] == 0.002
    assert box.text() == "2e-3"
    box.clearFocus()
    box.interpretText()
    assert window.doc.undo_stack.count() <= 3  # the keystrokes merged into one step (plus the drop)
