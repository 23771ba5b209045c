"""Big designs open with the view built first and the rest in short batches (stand-ins meanwhile),
can be edited meanwhile, and build a far node when the view or a panel goes to it."""
from __future__ import annotations

from PySide6 import QtCore

import app.node_items_lazy
from graph.model import Graph
from graph.project import Project, save


def chain(n: int) -> Project:
    g = Graph()
    g.add_node("Input", "x", {"shape": [8]}, (0.0, 0.0))
    prev = "x"
    for i in range(n - 2):
        node = g.add_node("Linear" if i % 2 == 0 else "ReLU", f"n{i}", {"out_features": 8} if i % 2 == 0 else {},
                          (230.0 * (i + 1), 0.0))
        g.connect(prev, node.id)
        prev = node.id
    g.add_node("Output", "y", {"loss": "mse"}, (230.0 * (n - 1), 0.0))
    g.connect(prev, "y")
    return Project("chain", g)


def test_a_big_design_streams_in_and_can_be_edited_while_it_does(make_window, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(app.node_items_lazy, "SYNC_LIMIT", 10)
    monkeypatch.setattr(app.node_items_lazy, "CHUNK", 8)
    path = tmp_path / "big.loom"
    save(chain(60), path)
    window = make_window(path)
    canvas = window.canvas
    qtbot.waitUntil(lambda: bool(canvas._nodes))  # the first batch, on the first turn
    assert canvas.loading
    built = set(canvas._nodes)
    assert "x" in built and "y" not in built  # nearest the left end (where the view opens) first
    # an edit while loading: rename a node that is not built yet, delete one that is
    window.editor.rename("n50", "late")
    window.canvas.select(["n1"])
    window.editor.delete_selection()
    qtbot.waitUntil(lambda: not canvas.loading, timeout=10_000)
    ids = [n.id for n in window.doc.graph.nodes]
    assert sorted(canvas._nodes) == sorted(ids)
    assert "late" in canvas._nodes and "n1" not in canvas._nodes
    for node_id in ids:
        assert canvas.annotation(node_id).shape != "", node_id
    # every wire in the Graph is drawn once
    pipes = sum(len(p.connected_pipes) for i in ids for p in canvas.item(i).view.inputs)
    assert pipes == len(window.doc.graph.edges)


def test_a_5000_node_design_opens_with_the_view_built_and_the_rest_in_short_batches(make_window, tmp_path, qtbot):
    path = tmp_path / "huge.loom"
    save(chain(5000), path)
    window = make_window(path)
    window.show()
    canvas, lazy = window.canvas, window.canvas.lazy
    qtbot.waitUntil(lambda: lazy.batches >= 2, timeout=20_000)  # the view has been set and built
    view = canvas.visible_rect()
    in_view = [n.id for n in window.doc.graph.nodes if view.intersects(QtCore.QRectF(n.pos[0], n.pos[1], 150, 60))]
    assert in_view and all(i in canvas._nodes for i in in_view)
    assert canvas.loading and len(canvas._nodes) < 1000  # the rest is not built in one go
    assert lazy.stand_ins.isVisible() and lazy.stand_ins.boundingRect().contains(QtCore.QPointF(230.0 * 4999, 10.0))
    # the event loop answers between batches: a timer posted now fires before many batches ran
    built, batches, fired = len(canvas._nodes), lazy.batches, []
    QtCore.QTimer.singleShot(0, lambda: fired.append(lazy.batches))
    qtbot.waitUntil(lambda: bool(fired), timeout=5_000)
    assert fired[0] <= batches + 1
    qtbot.waitUntil(lambda: lazy.batches >= batches + 3, timeout=20_000)
    assert len(canvas._nodes) - built <= 3 * app.node_items_lazy.CHUNK
    # fit view frames every node, built or not
    canvas.fit_view()
    frame = canvas.visible_rect()
    assert frame.contains(QtCore.QPointF(0.0, 0.0)) and frame.contains(QtCore.QPointF(230.0 * 4999, 0.0))
    window.doc.undo_stack.setClean()


def test_nodes_far_from_the_view_are_built_when_panned_to_or_shown_from_a_panel(make_window, tmp_path, qtbot):
    path = tmp_path / "huge.loom"
    save(chain(3000), path)
    window = make_window(path)
    window.show()
    canvas, lazy = window.canvas, window.canvas.lazy
    qtbot.waitUntil(lambda: lazy.batches >= 2, timeout=20_000)
    far, farther = "n2000", "y"
    assert far not in canvas._nodes and farther not in canvas._nodes
    # pan there: the next batch builds what the view shows, long before the rest
    x = window.doc.graph[far].pos[0]
    canvas.viewer.set_scene_rect([x - 400.0, -300.0, 1200.0, 700.0])
    batches = lazy.batches
    qtbot.waitUntil(lambda: far in canvas._nodes, timeout=10_000)
    assert lazy.batches <= batches + 2 and canvas.loading
    # the Problems panel's way to a node: selected, built and brought to the middle at once
    window.show_node(farther)
    assert canvas.selected_ids() == [farther]
    assert canvas.visible_rect().contains(canvas.item(farther).view.sceneBoundingRect().center())
    window.doc.undo_stack.setClean()


def test_node_texts_are_light_items_and_the_title_still_edits_by_double_click(window, qtbot):
    from PySide6 import QtTest, QtWidgets

    from app.node_labels import PortLabel, TitleLabel

    window.editor.add_node("Linear", (0.0, 0.0))
    node_id = window.doc.graph.nodes[-1].id
    view = window.canvas.item(node_id).view
    texts = [c for c in view.childItems() if isinstance(c, QtWidgets.QGraphicsTextItem)]
    assert texts == []  # no text documents on a node
    assert all(isinstance(t, PortLabel) for t in view._input_items.values())
    assert isinstance(view.text_item, TitleLabel) and view.text_item.toPlainText() == node_id
    window.canvas.center_on(node_id)
    viewer = window.canvas.viewer
    at = viewer.mapFromScene(view.text_item.sceneBoundingRect().center())
    QtTest.QTest.mouseDClick(viewer.viewport(), QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier, at)
    editors = [c for c in view.childItems() if isinstance(c, QtWidgets.QGraphicsTextItem)]
    assert len(editors) == 1 and editors[0].hasFocus()
    editors[0].setPlainText("encoder")
    QtTest.QTest.keyClick(viewer.viewport(), QtCore.Qt.Key.Key_Return)
    assert window.doc.graph.node("encoder") is not None
    qtbot.waitUntil(lambda: not [c for c in view.childItems() if isinstance(c, QtWidgets.QGraphicsTextItem)])
    assert view.text_item.toPlainText() == "encoder" and view.text_item.isVisible()
