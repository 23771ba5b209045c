"""A big design's first paint comes before any node item is built: opening returns with every node
drawn as a stand-in, and the view's nodes are built in the next event-loop turns (issue 13 item 5:
first paint < 0.5 s for 5,000 nodes). Wires are not cached as pixmaps (memory and repaints)."""
from __future__ import annotations

from NodeGraphQt.qgraphics.pipe import PipeItem
from PySide6 import QtCore, QtWidgets

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


def test_wires_are_not_cached_as_pixmaps(window):
    """A wire's pixmap cache is the size of its box on screen (a skip wire: hundreds of KB); wires
    drawn from the Graph and wires the user draws are plain path strokes."""
    from tests.app.gestures import tab_search, wire

    a, b = tab_search(window, "Linear", (0.0, 0.0)), tab_search(window, "ReLU", (400.0, 200.0))
    wire(window, a, b)
    window.canvas.set_graph(window.doc.graph)   # and the same drawn by the canvas from the Graph
    pipes = [i for i in window.canvas.viewer.scene().items() if isinstance(i, PipeItem) and i.isVisible()
             and i is not window.canvas.viewer._LIVE_PIPE]
    assert len(pipes) == 1
    assert all(p.cacheMode() == QtWidgets.QGraphicsItem.CacheMode.NoCache for p in pipes)
