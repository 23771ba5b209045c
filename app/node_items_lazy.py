"""Big designs open at once: node items for the part of the canvas in view are built first, the
rest in time-boxed batches between event-loop turns, and until a node is built it is painted as a
stand-in (a box, and a line per wire) by one light item, so the whole design shows at any zoom.

Why: a NodeGraphQt node item (ports, labels, wires) takes 1-2 ms to build. Built in one go, a
5,000-node design held the window for 15 s; built 25 at a time in file-distance order, the view
the user panned to could wait seconds for its nodes. Here every batch stops after `BATCH_S`, and
each batch starts with the nodes the view shows now (re-ordered whenever the view moved).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from PySide6 import QtCore, QtGui, QtWidgets

from app import theme
from app.gc_guard import guard
from graph.model import Graph, Node

SYNC_LIMIT = 250      # designs up to this many nodes are built in one go
CHUNK = 200           # a batch builds at most this many nodes ...
BATCH_S = 0.03        # ... and stops after this long, so an event-loop turn stays short
REFRESH_S = 0.2       # stand-ins are re-read at most this often while batches run
GROUP = 4             # nodes built between two looks at the clock
STAND_IN = (180.0, 90.0)  # the size a node not built yet is drawn with (about a layer node's)
STAND_IN_WIRE = (150, 110, 70, 200)
SETTLE_MS = 300       # idle time after the last item is built before the design is frozen (app.gc_guard)


class StandIns(QtWidgets.QGraphicsItem):
    """Paints every node not built yet as a box in its category's colour and every wire to one as
    a line: one item for thousands, so a zoomed-out view shows the whole design from the start.
    It takes no mouse buttons: a rubber band or a pan starts through it."""

    def __init__(self, pending: Callable[[], Iterable[Node]], graph: Callable[[], Graph]):
        super().__init__()
        self._pending, self._graph = pending, graph
        self.setZValue(-1.0)  # below node items and wires
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self._all: tuple[list, list, QtCore.QRectF] | None = None  # every node's box, every wire's line
        self._boxes: list[tuple[QtGui.QColor, list[QtCore.QRectF]]] = []
        self._lines: list[QtCore.QLineF] = []
        self._rect = QtCore.QRectF()

    def invalidate(self) -> None:
        """The Graph changed (an edit while loading): boxes and lines are read again."""
        self._all = None

    def _read_graph(self) -> tuple[list, list, QtCore.QRectF]:
        w, h = STAND_IN
        graph = self._graph()
        boxes, pos, colors = [], {}, {}
        for node in graph.nodes:
            if node.pos is not None and isinstance(node.id, str):
                pos[node.id] = node.pos
                color = colors.get(node.type)
                if color is None:
                    layer = node.layer
                    color = colors[node.type] = theme.category_color(layer.category) if layer is not None else (90, 90, 90)
                boxes.append((node.id, color, QtCore.QRectF(node.pos[0], node.pos[1], w, h)))
        lines = []
        for edge in graph.edges:
            a, b = pos.get(edge.src), pos.get(edge.dst)
            if a is not None and b is not None:
                lines.append((edge.src, edge.dst, QtCore.QLineF(a[0] + w, a[1] + h / 2, b[0], b[1] + h / 2)))
        rect = QtCore.QRectF()
        if pos:
            xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
            rect = QtCore.QRectF(min(xs), min(ys), max(xs) - min(xs) + w, max(ys) - min(ys) + h)
        return boxes, lines, rect.adjusted(-2.0, -2.0, 2.0, 2.0)

    def refresh(self) -> None:
        """Show what is pending now (after a batch or an edit)."""
        pending = {n.id for n in self._pending() if isinstance(n.id, str)}
        if not pending:
            self._all = None
            self._boxes, self._lines = [], []
            self.setVisible(False)
            return
        if self._all is None:
            self._all = self._read_graph()
        boxes, lines, rect = self._all
        by_color: dict[tuple, list[QtCore.QRectF]] = {}
        for node_id, color, box in boxes:
            if node_id in pending:
                by_color.setdefault(color, []).append(box)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self._boxes = [(QtGui.QColor(*color), group) for color, group in by_color.items()]
        self._lines = [line for src, dst, line in lines if src in pending or dst in pending]
        self.setVisible(True)
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # the whole design while anything is pending
        return self._rect

    def paint(self, painter, option, widget=None):
        painter.setPen(QtGui.QPen(QtGui.QColor(*STAND_IN_WIRE), 1.5))
        painter.drawLines(self._lines)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for color, boxes in self._boxes:
            painter.setBrush(color)
            painter.drawRects(boxes)


class LazyItems(QtCore.QObject):
    """The nodes of the shown Graph that have no item yet, and the batches that build them.

    `build` is the Canvas's way to make items (and their wires and annotations) for some nodes;
    `view_rect` says which part of the scene the view shows."""

    progress = QtCore.Signal(int, int)  # nodes built, nodes in the design

    def __init__(self, scene: QtWidgets.QGraphicsScene, build: Callable[[list[Node]], int],
                 view_rect: Callable[[], QtCore.QRectF], parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._build, self._view_rect = build, view_rect
        self.graph: Graph | None = None
        self._pending: dict[int, Node] = {}   # id(Node) -> Node not built yet (ids may be broken)
        self._order: list[Node] = []          # pending nodes, the next to build last
        self._ordered_for: QtCore.QRectF | None = None
        self.batches = 0                      # batches run since the design opened (tests count them)
        self._refreshed = 0.0
        self.stand_ins = StandIns(lambda: self._pending.values(), lambda: self.graph)
        scene.addItem(self.stand_ins)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._batch)
        self._settle = QtCore.QTimer(self)  # once every item is built, the design is frozen
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(lambda: guard().design_built())

    @property
    def loading(self) -> bool:
        return bool(self._pending)

    def is_pending(self, node: Node) -> bool:
        return id(node) in self._pending

    def forget(self, node: Node | None) -> None:
        """A node the Canvas built itself (added by an edit)."""
        if node is not None:
            self._pending.pop(id(node), None)

    def graph_changed(self) -> None:
        """An edit while loading: the stand-ins are read again on the next batch."""
        if self._pending:
            self.stand_ins.invalidate()
            self._refreshed = 0.0

    def start(self, graph: Graph, focus: tuple[float, float] | None) -> None:
        """Begin showing `graph`: small designs are built at once; big ones between turns, the
        view's nodes first once it is set (`build_view`), nearest `focus` (the scene point the
        view will show) until then."""
        self.graph = graph
        nodes = list(graph.nodes)
        self._pending = {id(n): n for n in nodes}
        self.batches = 0
        self._ordered_for = None
        self._settle.stop()
        guard().design_replaced()
        if len(nodes) <= SYNC_LIMIT:
            self._order = nodes[::-1]
            self._take(len(nodes), None)
            return
        self._refresh(force=True)
        if focus is None:
            placed = [n.pos for n in nodes if n.pos is not None] or [(0.0, 0.0)]
            ys = [p[1] for p in placed]
            focus = (min(p[0] for p in placed), (min(ys) + max(ys)) / 2)
        self._sort(lambda n: _distance(n, focus))
        self._timer.start()  # not now: the window sets the view next, and `build_view` builds what it shows

    def build_view(self) -> None:
        """The view was just set (on open, fit view, a level entered): what it shows is built first,
        from the next event-loop turn. Not now: the first paint comes first, the nodes not built yet
        drawn as stand-ins, and a batch builds about 20 nodes, so the view follows within a few
        turns (building the view of a 5,000-node design before painting took 0.1-0.2 s of the
        first paint's 0.5 s)."""
        if self._pending:
            self._order_for_view()
            self._timer.start()

    def build_now(self, nodes: Iterable[Node] | None = None) -> None:
        """Build these nodes (every pending one with None) at once: a node about to be selected
        or centred, or all of them before select-all or auto-layout."""
        wanted = list(self._pending.values()) if nodes is None else [
            n for n in nodes if n is not None and id(n) in self._pending]
        if wanted:
            for node in wanted:
                del self._pending[id(node)]
            self._finish(wanted)
            self._refresh(force=True)
            if not self._pending:
                self._settle.start()

    def view_moved(self) -> None:
        """The view panned or zoomed: what it shows now is built first, on the next batch."""
        if self._pending and not self._timer.isActive():
            self._timer.start()

    # -- batches ----------------------------------------------------------------------
    def _order_for_view(self) -> None:
        view = self._view_rect()
        if view == self._ordered_for:
            return
        self._ordered_for = view
        center = (view.center().x(), view.center().y())
        self._sort(lambda n: (not _in(n, view), _distance(n, center)))

    def _sort(self, key) -> None:
        self._order = sorted(self._pending.values(), key=key, reverse=True)  # the next to build last

    def _batch(self) -> None:
        self._order_for_view()
        self._take(CHUNK, BATCH_S)

    def _take(self, count: int, budget: float | None) -> None:
        """Build up to `count` nodes in order, in groups of `GROUP`, until `budget` seconds have passed."""
        start = time.perf_counter()
        built = 0
        while built < count and (budget is None or time.perf_counter() - start < budget):
            group: list[Node] = []
            while self._order and len(group) < GROUP:
                node = self._order[-1]
                if id(node) not in self._pending:  # built meanwhile by an edit, or gone
                    self._order.pop()
                    continue
                self._order.pop()
                del self._pending[id(node)]
                group.append(node)
            if not group:
                break
            built += len(group)
            self._finish(group)
        self.batches += 1
        self._refresh(force=not self._pending)
        if self._pending:
            self._timer.start()
        else:
            self._settle.start()

    def _finish(self, nodes: list[Node]) -> None:
        alive = {id(n) for n in self.graph.nodes}
        self._build([n for n in nodes if id(n) in alive])
        total = len(self.graph.nodes)
        self.progress.emit(total - len(self._pending), total)

    def _refresh(self, force: bool = False) -> None:
        """Repaint the stand-ins: at once when asked, else at most every `REFRESH_S` (re-reading
        thousands of pending nodes per batch would double the batches' cost)."""
        now = time.perf_counter()
        if force or now - self._refreshed >= REFRESH_S:
            self._refreshed = now
            self.stand_ins.refresh()


def _distance(node: Node, point: tuple[float, float]) -> float:
    if node.pos is None:
        return float("inf")
    return (node.pos[0] - point[0]) ** 2 + (node.pos[1] - point[1]) ** 2


def _in(node: Node, rect: QtCore.QRectF) -> bool:
    if node.pos is None:
        return False
    x, y = node.pos
    return x + STAND_IN[0] >= rect.left() and x <= rect.right() and y + STAND_IN[1] >= rect.top() and y <= rect.bottom()
