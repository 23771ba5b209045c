"""Defects a new user met in the Properties panel and around it (issue 11, item 4): messages shown
as HTML entities, NodeGraphQt's Backdrop in the Add Layer search, the wheel changing fields
while the user scrolls, Ctrl+Z swallowed by a focused field, a trainable switch on nodes
without weights."""
from __future__ import annotations

import json

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.training.loader import engine_loader
from tests.app.gestures import drop_layer, wire
from tests.conftest import EXAMPLES

UNWIRED = {
    "format": "layerloom", "version": 1, "name": "Unwired",
    "graph": {"nodes": [{"id": "fc", "type": "Linear", "params": {"out_features": 4}, "pos": [0, 0]},
                        {"id": "y", "type": "Output", "pos": [300, 0]}],
              "edges": [{"from": "fc", "to": "y"}]},
}


@pytest.fixture
def spiral_window(make_window, tmp_path, qtbot):
    """The spiral example with its data section, shown, the training side loaded."""
    engine_loader().wait()
    doc = json.loads((EXAMPLES / "spiral_mlp.loom").read_text())
    doc["data"] = {"dataset": "spiral", "classes": 3, "samples": 600}
    path = tmp_path / "spiral.loom"
    path.write_text(json.dumps(doc))
    window = make_window(path, runs_dir=tmp_path / "runs")
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    assert window.training.panel.ensure_built()
    return window


def shown_text(label: QtWidgets.QLabel) -> str:
    """What a QLabel puts on screen: its text as rich text when it renders it so, else as it is."""
    text = label.text()
    rich = label.textFormat() == QtCore.Qt.TextFormat.RichText or (
        label.textFormat() == QtCore.Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text))
    if not rich:
        return text
    document = QtGui.QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def wheel(widget: QtWidgets.QWidget, steps: int = 1) -> None:
    centre = QtCore.QPointF(widget.rect().center())
    event = QtGui.QWheelEvent(centre, QtCore.QPointF(widget.mapToGlobal(centre.toPoint())), QtCore.QPoint(),
                              QtCore.QPoint(0, 120 * steps), QtCore.Qt.MouseButton.NoButton,
                              QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(widget, event)


def focus(window, widget: QtWidgets.QWidget, qtbot) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    widget.setFocus(QtCore.Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(widget.hasFocus)


def ctrl_z(qtbot) -> None:
    qtbot.keyClick(QtWidgets.QApplication.focusWidget(), QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)


def test_a_node_problem_reads_as_text_not_as_html_entities(make_window, tmp_path, qtbot):
    path = tmp_path / "unwired.loom"
    path.write_text(json.dumps(UNWIRED))
    window = make_window(path)
    window.show()
    window.canvas.select(["fc"])
    label = window.properties.node_problems
    assert label.isVisibleTo(window.properties)
    text = shown_text(label)
    assert "'input'" in text and "not connected" in text
    assert "&#" not in text and "&amp;" not in text


def test_add_layer_search_lists_only_the_registry_types_and_blocks(window):
    from graph.registry import all_types

    search = window.canvas.viewer._search_widget
    QtCore.QTimer.singleShot(50, search.close)   # the search is a menu: it blocks until closed
    window.canvas.show_tab_search()
    offered = search._node_dict
    layers = {name for name, type_id in offered.items() if type_id.split(".")[0] not in ("Block library", "My blocks")}
    assert layers == {t.name for t in all_types()}   # the rest: the built-in library's blocks
    assert "Backdrop" not in offered


def test_the_wheel_over_an_unfocused_field_leaves_its_value(spiral_window, qtbot):
    window = spiral_window
    box = window.training.panel.rows["data.classes"].editor
    before = box.value()
    wheel(box, -1)
    assert box.value() == before and window.doc.project.data["classes"] == before
    assert box.focusPolicy() == QtCore.Qt.FocusPolicy.StrongFocus
    focus(window, box, qtbot)
    wheel(box, -1)  # a focused field takes the wheel
    assert box.value() == before - 1
    # the panel's own boxes too, and the Properties panel's fields
    assert window.training.panel.dataset_box.focusPolicy() == QtCore.Qt.FocusPolicy.StrongFocus
    fc = next(n.id for n in window.doc.graph.nodes if n.type == "Linear")
    window.canvas.select([fc])
    spin = window.properties.rows["out_features"].editor
    value = spin.value()
    wheel(spin, 1)
    assert spin.value() == value and window.doc.graph[fc].values()["out_features"] == value


def test_ctrl_z_in_a_focused_properties_field_undoes_the_last_step(window, qtbot):
    x = drop_layer(window, "Input", (0.0, 0.0))
    conv = drop_layer(window, "Conv2d", (300.0, 0.0))
    window.editor.set_param(x, "shape", [3, 16, 16])
    window.canvas.select([conv])
    spin = window.properties.rows["out_channels"].editor
    focus(window, spin, qtbot)
    ctrl_z(qtbot)   # undoes the last step: the shape of x
    assert window.doc.graph[x].params.get("shape") != [3, 16, 16]
    ctrl_z(qtbot)   # and the one before: adding conv
    assert window.doc.graph.node(conv) is None


def test_ctrl_z_first_drops_an_edit_that_was_not_applied(window, qtbot):
    conv = drop_layer(window, "Conv2d", (0.0, 0.0))
    window.editor.set_param(conv, "kernel_size", 5)
    edit = window.properties.rows["kernel_size"].editor
    focus(window, edit, qtbot)
    edit.selectAll()
    qtbot.keyClicks(edit, "abc")   # not a value: not applied
    assert window.doc.graph[conv].params["kernel_size"] == 5
    ctrl_z(qtbot)   # takes back the typing, not the step before it
    assert edit.text() == "5" and window.doc.graph[conv].params["kernel_size"] == 5
    ctrl_z(qtbot)   # now the document's last step
    assert "kernel_size" not in window.doc.graph[conv].params
    assert edit.text() == "3"
    # an edit that was applied is one step of its own
    edit.selectAll()
    qtbot.keyClicks(edit, "7")
    assert window.doc.graph[conv].params["kernel_size"] == 7
    ctrl_z(qtbot)
    assert "kernel_size" not in window.doc.graph[conv].params and edit.text() == "3"


def test_the_trainable_switch_only_on_nodes_with_weights(window):
    x = drop_layer(window, "Input", (0.0, 0.0))
    fc = drop_layer(window, "Linear", (250.0, 0.0))
    act = drop_layer(window, "ReLU", (500.0, 0.0))
    y = drop_layer(window, "Output", (750.0, 0.0))
    window.editor.set_param(x, "shape", [8])
    wire(window, x, fc)
    wire(window, fc, act)
    wire(window, act, y)
    shown = {}
    for node in (x, fc, act, y):
        window.canvas.select([node])
        shown[node] = window.properties.trainable.isVisibleTo(window.properties)
    assert shown == {x: False, fc: True, act: False, y: False}
    # a node frozen in the file keeps its switch, so that it can be unfrozen
    window.doc.graph[y].trainable = False
    window.canvas.select([x])
    window.canvas.select([y])
    assert window.properties.trainable.isVisibleTo(window.properties)


def test_ctrl_z_in_a_focused_training_setting_undoes_the_last_step(spiral_window, qtbot):
    window = spiral_window
    epochs = window.training.panel.rows["training.epochs"].editor
    before = window.doc.project.training.get("epochs")
    epochs.setValue(epochs.value() + 5)   # one undoable change of the section
    assert window.doc.project.training["epochs"] != before
    focus(window, window.training.panel.rows["training.batch_size"].editor, qtbot)
    ctrl_z(qtbot)
    assert window.doc.project.training.get("epochs") == before
