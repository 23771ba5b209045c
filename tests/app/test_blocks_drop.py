"""A block dragged from the palette into its own definition (or into a block it uses) is refused at
the drop, in the status bar, by the rule the Tab search follows; it was added and then reported as
a recursion error."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from tests.app.test_blocks_canvas import FLAT, RESIDUAL, make_block, opened, palette_item


def drop(window, section: str, name: str) -> None:
    viewer = window.canvas.viewer
    mime = window.palette.tree.mimeData([palette_item(window, section, name)])
    point = viewer.mapFromScene(QtCore.QPointF(0.0, 0.0))
    viewer.dropEvent(QtGui.QDropEvent(QtCore.QPointF(point), QtCore.Qt.DropAction.CopyAction, mime,
                                      QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier))


def test_a_block_dropped_into_its_own_definition_is_refused_with_the_reason(make_window, qtbot):
    window = opened(make_window, qtbot, FLAT)
    make_block(window, RESIDUAL, "Residual")
    qtbot.waitUntil(lambda: window.findChild(QtWidgets.QDialog, "makeBlockDialog") is None)
    (use,) = [n.id for n in window.doc.graph.nodes if n.type == "Residual"]
    window.blocks.enter(use)
    inside = window.doc.edited_graph
    before, steps = set(inside.ids()), window.doc.undo_stack.count()
    drop(window, "Blocks", "Residual")
    assert set(inside.ids()) == before and window.doc.undo_stack.count() == steps
    message = window.statusBar().currentMessage()
    assert "Cannot add Residual inside Residual" in message and "cannot hold itself" in message
    assert window.doc.analysis.valid, [d.message for d in window.doc.analysis.errors]
    drop(window, "Block library", "ConvBNReLU")   # another block still goes in
    assert len(set(inside.ids()) - before) == 1
