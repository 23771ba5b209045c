"""The block table in the window: Tab search lists and adds blocks (the project's, the built-in
library's, the personal library's); a block definition is renamed and deleted from the palette's
and a block node's right-click menu, as undoable commands, with refusals that say why."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from graph.project import dumps
from tests.app.test_blocks_canvas import FLAT, RESIDUAL, make_block, opened, palette_item


@pytest.fixture(autouse=True)
def personal_library(monkeypatch, tmp_path) -> Path:
    path = tmp_path / "data" / "blocks.loom"
    monkeypatch.setattr("app.block_palette.personal_library_path", lambda: path)
    return path


def offered(window) -> dict[str, str]:
    """What the Tab search lists: its name -> the NodeGraphQt type it submits."""
    search = window.canvas.viewer._search_widget
    QtCore.QTimer.singleShot(50, search.close)   # the search is a menu: it blocks until closed
    window.canvas.show_tab_search()
    return dict(search._node_dict)


def test_tab_search_lists_the_projects_and_the_libraries_blocks_and_adds_them(make_window, qtbot, personal_library):
    window = opened(make_window, qtbot, FLAT)
    doc = window.doc
    make_block(window, RESIDUAL, "MyResidual")
    assert window.blocks.palette.save_to_personal("MyResidual")
    names = offered(window)
    assert {"MyResidual", "ConvBNReLU", "Bottleneck", "TransformerBlock", "Conv2d"} <= set(names)
    # the project's block, a library block and a personal one each go to their menu section
    assert names["MyResidual"].startswith("Blocks.") and names["Bottleneck"].startswith("Block library.")

    # a project block: a node of it where the cursor is
    window.canvas.viewer.search_triggered.emit(names["MyResidual"], (10.0, 20.0))
    (added,) = [n for n in doc.graph.nodes if n.type == "MyResidual" and n.id != "layer1_0"]
    assert added.pos == (10.0, 20.0)
    # a library block: imported, and its node added, one undo step
    count = doc.undo_stack.count()
    window.canvas.viewer.search_triggered.emit(names["Bottleneck"], (30.0, 40.0))
    assert "Bottleneck" in doc.project.blocks
    (bottleneck,) = [n for n in doc.graph.nodes if n.type == "Bottleneck"]
    assert bottleneck.pos == (30.0, 40.0) and doc.undo_stack.count() == count + 1
    # a block the project has now is listed once, as the project's
    again = offered(window)
    assert again["Bottleneck"].startswith("Blocks.") and "Bottleneck (Block library.library/Bottleneck)" not in again


def test_inside_a_block_the_tab_search_leaves_out_the_blocks_that_would_hold_themselves(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    make_block(window, RESIDUAL, "Residual")
    qtbot.waitUntil(lambda: window.findChild(QtWidgets.QDialog, "makeBlockDialog") is None)
    make_block(window, ["layer1_0", *[i.replace("layer1_0", "layer1_1") for i in RESIDUAL]], "Pair")
    assert {"Residual", "Pair"} <= set(offered(window))
    (pair,) = [n.id for n in window.doc.graph.nodes if n.type == "Pair"]
    window.blocks.enter(pair)   # the Pair's definition: neither Pair nor anything using it
    assert window.doc.edited_graph_name() == "Pair"
    names = offered(window)
    assert "Pair" not in names and "Residual" in names and "Bottleneck" in names
    (inner,) = [n.id for n in window.doc.edited_graph.nodes if n.type == "Residual"]
    window.blocks.enter(inner)   # the Residual inside it: Residual and Pair both hold it
    assert window.doc.edited_graph_name() == "Residual"
    names = offered(window)
    assert "Residual" not in names and "Pair" not in names and "ConvBNReLU" in names


def test_tab_then_typing_a_library_blocks_name_and_enter_adds_it(window, qtbot):
    viewer = window.canvas.viewer
    menu = viewer._search_widget

    def type_name():
        menu.line_edit.setText("ConvBNReLU")
        QtCore.QTimer.singleShot(20, menu.line_edit.returnPressed.emit)

    QtCore.QTimer.singleShot(100, type_name)
    QtCore.QTimer.singleShot(3000, menu.close)  # never hang the suite if the menu misbehaves
    qtbot.keyClick(viewer, QtCore.Qt.Key.Key_Tab)
    assert [n.type for n in window.doc.graph.nodes] == ["ConvBNReLU"]
    assert window.doc.project.blocks.names() == ["ConvBNReLU"]


def test_rename_a_block_renames_every_use_and_undo_puts_it_back(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    doc = window.doc
    make_block(window, RESIDUAL, "Residual")
    before = dumps(doc.project)
    table = window.blocks.palette
    assert table.rename_block("Residual", "BasicBlock")
    assert doc.project.blocks.names() == ["BasicBlock"] and doc.graph["layer1_0"].type == "BasicBlock"
    assert table.entries(None) == ["BasicBlock"]
    assert window.canvas.annotation("layer1_0").block and doc.analysis.valid
    assert doc.undo_stack.undoText() == "Rename block Residual to BasicBlock"
    doc.undo_stack.undo()
    assert dumps(doc.project) == before and table.entries(None) == ["Residual"]
    doc.undo_stack.redo()
    assert doc.graph["layer1_0"].type == "BasicBlock"


@pytest.mark.parametrize("bad, why", [("basic block", "not a class name"), ("Conv2d", "layer type"),
                                      ("Other", "already used by another block")])
def test_a_rename_to_a_bad_or_taken_name_is_refused_with_the_reason(make_window, qtbot, bad, why):
    window = opened(make_window, qtbot, FLAT)
    make_block(window, RESIDUAL, "Residual")
    qtbot.waitUntil(lambda: window.findChild(QtWidgets.QDialog, "makeBlockDialog") is None)  # deleted later
    make_block(window, [i.replace("layer1_0", "layer1_1") for i in RESIDUAL], "Other")
    messages: list[str] = []
    window.editor.message.connect(messages.append)
    count = window.doc.undo_stack.count()
    assert not window.blocks.palette.rename_block("Residual", bad)
    assert window.doc.project.blocks.names() == ["Residual", "Other"] and window.doc.undo_stack.count() == count
    assert why in messages[-1] and "Residual" in messages[-1]


def test_the_rename_dialog_refuses_a_bad_name_in_place_and_renames_on_ok(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    make_block(window, RESIDUAL, "Residual")
    dialog = window.blocks.palette.ask_rename("Residual")
    ok = dialog.findChild(QtWidgets.QDialogButtonBox).button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    dialog.name_edit.setText("not a class")
    assert not ok.isEnabled() and "class name" in dialog.problem.text()
    dialog.name_edit.setText("Residual2")
    assert ok.isEnabled()
    ok.click()
    assert window.doc.project.blocks.names() == ["Residual2"]


def test_delete_an_unused_block_is_undoable_and_a_used_one_is_refused_naming_its_uses(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    doc, table = window.doc, window.blocks.palette
    make_block(window, RESIDUAL, "Residual")
    messages: list[str] = []
    window.editor.message.connect(messages.append)
    assert not table.delete_block("Residual")
    assert "Residual" in doc.project.blocks and "layer1_0" in messages[-1] and "delete" in messages[-1]
    window.canvas.select(["layer1_0"])
    window.editor.delete_selection()
    assert table.delete_block("Residual")
    assert not doc.project.blocks and table.entries(None) == []
    assert doc.undo_stack.undoText() == "Delete block Residual"
    doc.undo_stack.undo()
    assert doc.project.blocks.names() == ["Residual"] and table.entries(None) == ["Residual"]


def test_the_palette_entry_and_the_block_nodes_menus_offer_rename_and_delete(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    make_block(window, RESIDUAL, "Residual")
    item = palette_item(window, "Blocks", "Residual")
    menu = window.blocks.palette.menu_for(item)
    assert [a.text() for a in menu.actions() if a.text()] == ["Save to My Blocks", "Rename Block…", "Delete Block"]
    node_menu = window.context_menu_for(window.canvas.item("layer1_0").view.sceneBoundingRect().center())
    assert "Rename Block Residual…" in [a.text() for a in node_menu.actions()]
