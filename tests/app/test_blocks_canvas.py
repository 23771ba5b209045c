"""Blocks on the canvas (issue 13, item 2): make a block from a residual of the flat ResNet-18,
reuse it from the palette, enter it, change its definition and see every use follow, leave it,
and undo all of it back to the file; the block examples open clean; the built-in and personal
libraries."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from graph.project import dumps, load
from tests.app.gestures import wire

ROOT = Path(__file__).resolve().parents[2]
FLAT = ROOT / "tests" / "graph" / "designs" / "resnet18_flat.loom"
EXAMPLES = ROOT / "resources" / "examples"
RESIDUAL = ["layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1", "layer1_0_conv2", "layer1_0_bn2",
            "layer1_0_add", "layer1_0_relu2"]


@pytest.fixture(autouse=True)
def personal_library(monkeypatch, tmp_path) -> Path:
    """No test writes the user's own library: it lives in the test's folder."""
    path = tmp_path / "data" / "blocks.loom"
    monkeypatch.setattr("app.block_palette.personal_library_path", lambda: path)
    return path


def opened(make_window, qtbot, path: Path):
    window = make_window(path)
    window.show()
    qtbot.waitUntil(lambda: not window.canvas.loading)
    return window


def palette_item(window, section: str, name: str) -> QtWidgets.QTreeWidgetItem:
    tree = window.palette.tree
    (top,) = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == section]
    (child,) = [top.child(i) for i in range(top.childCount()) if top.child(i).text(0) == name]
    return child


def drop_from_palette(window, section: str, name: str, scene_pos: tuple[float, float]) -> str:
    """Drag a palette entry onto the canvas (the mime data the tree itself gives a drag)."""
    viewer = window.canvas.viewer
    before = set(window.doc.edited_graph.ids())
    mime = window.palette.tree.mimeData([palette_item(window, section, name)])
    point = viewer.mapFromScene(QtCore.QPointF(*scene_pos))
    viewer.dropEvent(QtGui.QDropEvent(QtCore.QPointF(point), QtCore.Qt.DropAction.CopyAction, mime,
                                      QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier))
    (new,) = set(window.doc.edited_graph.ids()) - before
    return new


def make_block(window, ids: list[str], name: str, marked=None) -> None:
    window.canvas.select(ids)
    window.blocks.action_make.trigger()
    dialog = window.findChild(QtWidgets.QDialog, "makeBlockDialog")
    assert dialog is not None and dialog.isVisible()
    dialog.name_edit.setText(name)
    if marked is not None:
        dialog.set_marked(marked)
    dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).click()


def double_click(window, node_id: str) -> None:
    window.canvas.viewer.node_double_clicked.emit(window.canvas.item(node_id).id)


def test_the_residual_story_make_reuse_enter_edit_exit_and_undo_all(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    doc, stack = window.doc, window.doc.undo_stack
    original = dumps(doc.project)
    total = doc.analysis.total_params
    assert total == 11_689_512

    # make a block of the first residual: the dialog offers the size parameters checked
    make_block(window, RESIDUAL, "BasicBlock")
    block = doc.project.blocks.get("BasicBlock")
    assert block is not None and [p.name for p in block.params] == ["out_channels"]
    assert "layer1_0" in doc.graph.ids() and not set(RESIDUAL) & doc.graph.ids()
    assert {e.src for e in doc.graph.edges_into("layer1_0")} == {"maxpool"}
    assert {e.dst for e in doc.graph.edges_from("layer1_0")} == {"layer1_1_conv1", "layer1_1_add"}
    assert doc.analysis.valid and doc.analysis.total_params == total
    annotation = window.canvas.annotation("layer1_0")
    assert annotation.block and annotation.shape == "(N, 64, 56, 56)"
    assert "BasicBlock" in annotation.info and "MACs" in annotation.info and annotation.severity is None
    assert "BasicBlock" in window.blocks.palette.entries(None)

    # reuse it: the second residual's layers go, the block comes from the palette and is wired
    window.canvas.select([i.replace("layer1_0", "layer1_1") for i in RESIDUAL])
    window.editor.delete_selection()
    second = drop_from_palette(window, "Blocks", "BasicBlock", (900.0, 300.0))
    wire(window, "layer1_0", second)
    wire(window, second, "layer2_0_conv1")
    wire(window, second, "layer2_0_down")
    assert doc.analysis.valid, [str(d) for d in doc.analysis.errors]
    assert doc.analysis.valid and doc.analysis.total_params == total
    uses = ("layer1_0", second)
    before = {u: doc.analysis.nodes[u].params for u in uses}

    # enter the first use: the breadcrumb names it; edit the definition (conv2 becomes 1x1)
    double_click(window, "layer1_0")
    assert doc.level == ("layer1_0",) and window.canvas.graph is block.graph
    assert window.blocks.breadcrumb.isVisible()
    assert window.blocks.breadcrumb.crumbs() == ["Model", "layer1_0 : BasicBlock"]
    assert window.canvas.annotation("conv2").shape == "(N, 64, 56, 56)"   # shapes of this use
    window.canvas.select(["conv2"])
    row = window.properties.rows["out_channels"]   # "$out_channels": set on each block node
    assert row.reference.isVisible() and not row.editor.isVisible() and row.reference.text() == "$out_channels (block parameter)"
    window.properties.rows["kernel_size"].editor.setText("1")
    window.properties.rows["kernel_size"].editor.textEdited.emit("1")
    window.editor.set_param("conv2", "padding", 0)
    assert doc.analysis.valid
    window.blocks.action_exit.trigger()
    assert doc.level == () and window.canvas.graph is doc.graph
    assert window.canvas.selected_ids() == ["layer1_0"]
    saved = 64 * 64 * 8  # a 3x3 conv of 64 channels that became 1x1
    for use in uses:  # every use follows the definition
        assert doc.analysis.nodes[use].params == before[use] - saved
    assert doc.analysis.total_params == total - 2 * saved
    assert "41.2k params" in window.canvas.annotation(second).info

    # undo all of it: an undo of an edit made inside the block shows the block again
    stack.undo()
    assert doc.level == ("layer1_0",) and window.canvas.graph is block.graph
    while stack.canUndo():
        stack.undo()
    assert doc.level == () and dumps(doc.project) == original and not doc.dirty
    assert window.canvas.graph is doc.graph
    assert window.canvas.annotation("layer1_0_conv1").shape == "(N, 64, 56, 56)"
    # and redo all of it
    while stack.canRedo():
        stack.redo()
    assert doc.analysis.total_params == total - 2 * saved and doc.level == ("layer1_0",)


def test_the_file_keeps_the_block_and_the_undo_history_is_one_per_gesture(make_window, qtbot, tmp_path):
    window = opened(make_window, qtbot, FLAT)
    make_block(window, RESIDUAL, "Residual", marked=set())
    assert window.doc.undo_stack.count() == 1 and window.doc.undo_stack.undoText() == "Make block Residual"
    assert window.doc.project.blocks.get("Residual").params == []
    assert window.save_to(tmp_path / "made.loom")
    again = load(tmp_path / "made.loom")
    assert again.blocks.names() == ["Residual"] and again.graph.node("layer1_0").type == "Residual"


def test_a_selection_that_cannot_be_a_block_is_refused_before_any_question(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    messages = []
    window.editor.message.connect(messages.append)
    window.canvas.select(["layer1_0_conv1", "layer1_0_add"])   # bn1, relu1, conv2, bn2 lie between
    window.blocks.action_make.trigger()
    assert window.findChild(QtWidgets.QDialog, "makeBlockDialog") is None
    assert "lies between selected layers" in messages[-1] and window.doc.undo_stack.count() == 0


def test_the_dialog_refuses_a_name_that_is_not_a_free_class_name(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    window.canvas.select(RESIDUAL)
    dialog = window.blocks.make_block()
    ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    for bad in ("basic block", "Conv2d", ""):
        dialog.name_edit.setText(bad)
        assert not ok.isEnabled() and dialog.name_problem.text()
    dialog.name_edit.setText("BasicBlock")
    assert ok.isEnabled()
    assert ("layer1_0_conv1", "out_channels") in dialog.marked()
    dialog.reject()
    assert window.doc.undo_stack.count() == 0


def test_a_problem_inside_a_block_marks_the_node_and_entering_shows_the_culprit(make_window, qtbot):
    window = opened(make_window, qtbot, EXAMPLES / "resnet18.loom")
    doc = window.doc
    first = next(n for n in doc.graph.nodes if n.type == "BasicBlock")
    block = doc.project.blocks.get("BasicBlock")
    inner = next(n.id for n in block.graph.nodes if n.type == "Conv2d")
    window.show_node(first.id)
    double_click(window, first.id)
    window.editor.set_param(inner, "kernel_size", 4)   # 56 -> 55: the skip no longer fits
    window.blocks.action_exit.trigger()
    annotation = window.canvas.annotation(first.id)
    assert annotation.severity == "error" and first.id in annotation.tooltip
    # a click on the problem's path enters the block and selects the culprit
    path = next(d.node for d in doc.analysis.errors if d.node.startswith(f"{first.id}."))
    window.show_node(path)
    assert doc.level == (first.id,) and window.canvas.selected_ids() == [path.split(".")[-1]]


def test_repeat_and_block_parameters_are_edited_in_properties(make_window, qtbot):
    window = opened(make_window, qtbot, EXAMPLES / "transformer_tokens.loom")
    doc = window.doc
    node = next(n for n in doc.graph.nodes if doc.project.blocks.get(n.type) is not None)
    window.canvas.select([node.id])
    rows = window.properties.rows
    assert "repeat" in rows and rows["repeat"].editor.value() == node.extra.get("repeat", 1)
    params = doc.analysis.nodes[node.id].params
    rows["repeat"].editor.setValue(3)
    assert node.extra["repeat"] == 3 and doc.analysis.nodes[node.id].params == params // 2 * 3
    assert "×3" in window.canvas.annotation(node.id).info
    doc.undo_stack.undo()
    assert node.extra.get("repeat", 1) == 2 and doc.analysis.nodes[node.id].params == params
    block = doc.project.blocks.get(node.type)
    assert {p.name for p in block.params} <= set(rows)


def test_properties_show_a_block_nodes_parameters_with_the_blocks_defaults(make_window, qtbot):
    window = opened(make_window, qtbot, EXAMPLES / "resnet18.loom")
    assert window.doc.graph["layer2_0"].params == {}   # every value is the block's default
    window.canvas.select(["layer2_0"])
    rows = window.properties.rows
    assert (rows["channels"].editor.value(), rows["stride"].editor.value()) == (128, 2)
    rows["channels"].editor.setValue(96)
    assert window.doc.graph["layer2_0"].params == {"channels": 96}
    assert window.doc.analysis.nodes["layer2_0"].outputs == ((96, 28, 28),)
    labels = [label for label, _ in window.properties._page.inferred]
    assert labels[:2] == ["input", "output"] and "MACs" in labels


@pytest.mark.parametrize("name", ["resnet18", "transformer_tokens", "unet_shapes"])
def test_the_block_examples_open_with_every_shape_and_no_problem(make_window, qtbot, name):
    window = opened(make_window, qtbot, EXAMPLES / f"{name}.loom")
    assert window.doc.analysis.valid
    graph = window.doc.graph
    assert any(window.doc.project.blocks.get(n.type) for n in graph.nodes)
    for node in graph.nodes:
        annotation = window.canvas.annotation(node.id)
        assert annotation.shape.startswith(("(", "→ (")) and annotation.severity is None, node.id
        assert len(window.canvas.item(node.id).input_ports()) == len(graph.input_ports(node))


def test_a_library_block_is_imported_with_its_node_in_one_undo_step(window, qtbot):
    doc = window.doc
    assert set(window.blocks.palette.entries("library")) >= {
        "ConvBNReLU", "BasicBlock", "Bottleneck", "TransformerBlock", "MLPBlock", "UNetDown", "UNetUp"}
    node_id = drop_from_palette(window, "Block library", "Bottleneck", (0.0, 0.0))
    assert doc.graph[node_id].type == "Bottleneck" and "Bottleneck" in doc.project.blocks
    assert window.canvas.annotation(node_id).block
    assert doc.undo_stack.count() == 1
    again = window.blocks.palette.add_from_library("library/Bottleneck")   # already there: only a node
    assert doc.graph[again].type == "Bottleneck" and doc.project.blocks.names().count("Bottleneck") == 1
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert not doc.project.blocks and not doc.graph.nodes


def test_a_block_saved_to_my_blocks_is_offered_in_another_design(make_window, qtbot, personal_library):
    window = opened(make_window, qtbot, FLAT)
    make_block(window, RESIDUAL, "MyResidual")
    assert window.blocks.palette.save_to_personal("MyResidual")
    assert personal_library.exists() and load(personal_library).blocks.names() == ["MyResidual"]
    assert window.blocks.palette.entries("personal") == ["MyResidual"]

    other = make_window()
    from graph.project import Project
    other.doc.replace(Project(), None)
    other.show()
    assert other.blocks.palette.entries("personal") == ["MyResidual"]
    node_id = drop_from_palette(other, "My blocks", "MyResidual", (0.0, 0.0))
    assert other.doc.graph[node_id].type == "MyResidual"
    assert dumps(other.doc.project).count('"name": "MyResidual"') == 1
