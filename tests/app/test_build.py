"""Building a network by hand: drops from the palette, wires, a parameter typed in."""
from __future__ import annotations

import itertools

from PySide6 import QtCore, QtGui, QtWidgets

from tests.app.gestures import drop_layer, port_items, tab_search, wire

CHAIN = ["Input", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "Output"]


def build_cnn(window) -> list[str]:
    ids = [drop_layer(window, name, (i * 230.0, 40.0)) for i, name in enumerate(CHAIN)]
    for a, b in itertools.pairwise(ids):
        wire(window, a, b)
    return ids


def test_drop_creates_the_node_at_the_drop_point(window):
    node_id = drop_layer(window, "Conv2d", (120.0, 80.0))
    node = window.doc.graph[node_id]
    assert node.type == "Conv2d" and node_id == "conv2d"
    # the drop lands on a screen pixel: the node is where the pointer was, to the pixel
    assert abs(node.pos[0] - 120.0) <= 2 and abs(node.pos[1] - 80.0) <= 2
    assert tuple(window.canvas.item(node_id).view.xy_pos) == node.pos
    assert window.canvas.selected_ids() == [node_id]
    assert window.doc.undo_stack.count() == 1


def test_build_a_cnn_by_dragging_and_wiring(window, qtbot):
    ids = build_cnn(window)
    graph = window.doc.graph
    assert [n.type for n in graph.nodes] == CHAIN
    assert [(e.src, e.dst) for e in graph.edges] == list(itertools.pairwise(ids))
    # the default Input is shape [1]: the convolution says what it needs, on the node itself
    conv = ids[1]
    assert window.canvas.annotation(conv).severity == "error"
    assert "Conv2d" in window.canvas.annotation(conv).tooltip

    window.canvas.select([ids[0]])
    shape_edit = window.properties.rows["shape"].editor
    shape_edit.setFocus()
    shape_edit.clear()
    qtbot.keyClicks(shape_edit, "1, 28, 28")
    shape_edit.editingFinished.emit()
    assert graph[ids[0]].params["shape"] == [1, 28, 28]
    assert window.doc.analysis.valid, window.doc.analysis.diagnostics
    assert window.canvas.annotation(conv).shape == "(N, 16, 26, 26)"
    assert window.canvas.annotation(conv).info == "Conv2d · 160 params"
    assert window.canvas.annotation(ids[4]).shape == "(N, 2704)"
    assert window.canvas.annotation(ids[-1]).shape == "→ (N, 64)"
    assert all(window.canvas.annotation(i).severity is None for i in ids)
    assert "valid" in window.status_totals.text()
    # typing "1, 28, 28" merged into one undo step
    assert [window.doc.undo_stack.text(i) for i in range(window.doc.undo_stack.count())][-1] == "Set input.shape"


def test_a_real_mouse_drag_between_ports_wires_them(window, qtbot):
    a = drop_layer(window, "Input", (0.0, 0.0))
    b = drop_layer(window, "Linear", (300.0, 0.0))
    viewer = window.canvas.viewer
    window.canvas.fit_view()
    qtbot.wait(10)
    out_port = port_items(window, a)[1][0]
    in_port = port_items(window, b)[0][0]

    def at(item):
        return viewer.mapFromScene(item.sceneBoundingRect().center())

    qtbot.mousePress(viewer.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=at(out_port))
    qtbot.mouseMove(viewer.viewport(), at(in_port))
    qtbot.mouseRelease(viewer.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=at(in_port))
    assert [(e.src, e.dst) for e in window.doc.graph.edges] == [(a, b)]
    assert len(in_port.connected_pipes) == 1


def test_tab_search_adds_a_node_where_the_cursor_is(window):
    node_id = tab_search(window, "LSTM", (50.0, 60.0))
    assert window.doc.graph[node_id].type == "LSTM"
    assert window.doc.graph[node_id].pos == (50.0, 60.0)
    ins, outs = port_items(window, node_id)
    assert [p.name for p in ins] == ["input"]
    assert [p.name for p in outs] == ["sequence", "last_hidden"]


def test_tab_on_the_canvas_opens_the_search_and_enter_adds_the_layer(window, qtbot):
    viewer = window.canvas.viewer
    menu = viewer._search_widget

    def type_name():
        menu.line_edit.setText("gru")
        QtCore.QTimer.singleShot(20, menu.line_edit.returnPressed.emit)

    QtCore.QTimer.singleShot(100, type_name)
    QtCore.QTimer.singleShot(3000, menu.close)  # never hang the suite if the menu misbehaves
    qtbot.keyClick(viewer, QtCore.Qt.Key.Key_Tab)  # blocks in the search menu until Enter
    assert [n.type for n in window.doc.graph.nodes] == ["GRU"]


def test_palette_search_filters_and_enter_adds_the_match(window):
    palette = window.palette
    palette.search.setText("conv")
    shown = palette.visible_layers()
    assert "Conv2d" in shown and "ConvTranspose2d" in shown and "ReLU" not in shown
    palette.search.setText("maxpool2d")
    palette.search.returnPressed.emit()
    assert [n.type for n in window.doc.graph.nodes] == ["MaxPool2d"]


def test_nodes_are_coloured_by_category_and_ports_named_as_in_the_registry(window):
    ids = [drop_layer(window, name, (i * 230.0, 0.0)) for i, name in enumerate(["ReLU", "Conv2d", "Concat"])]
    colours = [tuple(window.canvas.item(i).view.color[:3]) for i in ids]
    assert len(set(colours)) == 3
    assert [p.name for p in port_items(window, ids[2])[0]] == ["in0", "in1"]
    assert window.canvas.item(ids[1]).view.name == ids[1]


def test_the_window_has_the_contract_object_names(window):
    for name in ("canvas", "layerPalette", "propertiesPanel", "problemsPanel", "summaryPanel", "codePanel"):
        assert window.findChild(QtWidgets.QWidget, name) is not None, name
    for name in ("actionNew", "actionOpen", "actionSave", "actionSaveAs", "actionExport", "actionUndo",
                 "actionRedo", "actionAutoLayout", "actionFitView"):
        action = window.findChild(QtGui.QAction, name)
        assert action is not None, name
    assert window.action_save.shortcut().toString() == "Ctrl+S"
    assert window.action_fit_view.shortcut().toString() == "F"
    assert window.action_duplicate.shortcut().toString() == "Ctrl+D"


def test_the_new_user_story(window, tmp_path, dialogs):
    """Issue 6, done when: drag and wire a CNN, see shapes, a wrong wire flagged, undo it,
    save, reopen, export the code."""
    ids = build_cnn(window)
    window.editor.set_param(ids[0], "shape", [1, 28, 28])
    assert window.doc.analysis.valid
    messages = []
    window.editor.message.connect(messages.append)
    # a wrong wire: the flattened vector into a second pooling layer
    pool = drop_layer(window, "MaxPool2d", (1200.0, 300.0))
    wire(window, ids[4], pool)
    assert "does not fit" in messages[-1]
    assert window.canvas.annotation(pool).severity == "error"
    assert window.canvas.flagged_wires()
    window.action_undo.trigger()  # the wire goes
    window.action_undo.trigger()  # and the extra node
    assert window.doc.analysis.valid and not window.canvas.flagged_wires()
    dialogs.save_paths = [str(tmp_path / "cnn")]
    window.action_save.trigger()
    assert (tmp_path / "cnn.loom").exists() and not window.doc.dirty
    assert window.new_project()
    assert window.open_path(tmp_path / "cnn.loom")
    assert [n.type for n in window.doc.graph.nodes] == CHAIN
    assert window.canvas.annotation(ids[4]).shape == "(N, 2704)"
    dialogs.save_paths = [str(tmp_path / "cnn.py")]
    window.action_export.trigger()
    assert "def forward" in (tmp_path / "cnn.py").read_text()
