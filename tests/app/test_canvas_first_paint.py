"""A big design's first paint comes before any node item is built: opening returns with every node
drawn as a stand-in, and the view's nodes are built in the next event-loop turns (issue 13 item 5:
first paint < 0.5 s for 5,000 nodes)."""
from __future__ import annotations

from PySide6 import QtCore

from graph.project import save
from tests.app.test_big import chain


def test_opening_a_big_design_paints_stand_ins_first_and_builds_the_view_next(make_window, tmp_path, qtbot):
    path = tmp_path / "huge.loom"
    save(chain(3000), path)
    window = make_window()
    window.show()
    qtbot.waitUntil(lambda: window.isVisible())
    canvas, lazy = window.canvas, window.canvas.lazy
    window.open_path(path, ask=False)
    # nothing built before the window gets back to its event loop (and paints): stand-ins show it all
    assert not canvas._nodes and canvas.loading
    assert lazy.stand_ins.isVisible() and lazy.stand_ins.boundingRect().contains(QtCore.QPointF(230.0 * 2999, 10.0))
    view = canvas.visible_rect()
    in_view = [n.id for n in window.doc.graph.nodes if view.intersects(QtCore.QRectF(n.pos[0], n.pos[1], 150, 60))]
    assert in_view
    # the next turns build what the view shows, before the rest
    qtbot.waitUntil(lambda: all(i in canvas._nodes for i in in_view), timeout=10_000)
    assert canvas.loading and lazy.batches <= 4
    window.doc.undo_stack.setClean()
