"""The canvas's view: NodeGraphQt's viewer with LayerLoom's keys, menu, drops and pacing."""
from __future__ import annotations

from collections.abc import Callable

from NodeGraphQt.constants import PortTypeEnum
from NodeGraphQt.widgets.viewer import NodeViewer
from PySide6 import QtCore, QtWidgets

from app.training.pacing import Paced

LAYER_MIME = "application/x-layerloom-layer"
LIBRARY_MIME = "application/x-layerloom-library-block"  # "library/Name" or "personal/Name" (app.block_palette)


class LoomViewer(NodeViewer):
    """NodeGraphQt's viewer with Tab for search, LayerLoom's context menu, palette drops accepted,
    and zoom and pan paced while a run trains (`busy`)."""

    tab_pressed = QtCore.Signal()
    view_changed = QtCore.Signal()   # zoomed or panned: the canvas builds what comes into view
    context_menu_requested = QtCore.Signal(QtCore.QPoint, QtCore.QPointF)  # global, scene position
    _gesture = False   # in a wheel or mouse-move event (NodeViewer's __init__ already lays the scene out)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.busy: Callable[[], bool] = lambda: False   # a run trains: set by the Editor
        self.design_rect: Callable[[], QtCore.QRectF] = QtCore.QRectF   # every node's extent: set by the Canvas
        self.refit: Callable[[], None] = lambda: None                  # frame the design again: set by the Canvas
        self._paced_view = Paced(super()._update_scene, lambda: self.busy(), parent=self)

    # NodeGraphQt rescales the view on every resize (by the ratio of the sizes), so a design
    # framed at 45 % fell below the 70 px at which NodeGraphQt hides a node's texts once the plots
    # dock made the canvas shorter. A design wholly in view before a resize is framed again after;
    # any other view keeps its zoom and its centre, as in every editor (a first start's spiral,
    # wider than the canvas at 45 %, fell to 37 % when the window took its final size).
    def resizeEvent(self, event):
        design, old = self.design_rect(), event.oldSize()
        seen = self.mapToScene(QtCore.QRect(QtCore.QPoint(0, 0), old)).boundingRect() if old.isValid() else None
        scale = self.transform().m11()
        super().resizeEvent(event)
        if seen is None or seen.isEmpty():
            return
        if not design.isNull() and seen.contains(design):
            QtCore.QTimer.singleShot(0, self, self.refit)
        else:
            self.show_at(seen.center(), scale)

    def show_at(self, centre: QtCore.QPointF, scale: float) -> None:
        """Show the scene around `centre` at zoom `scale` (fitInView keeps 2 px free on each side)."""
        size = self.viewport().size()
        width, height = (size.width() - 4) / scale, (size.height() - 4) / scale
        self.set_scene_rect([centre.x() - width / 2, centre.y() - height / 2, width, height])

    # Each wheel step and pan move re-lays the whole scene out (setSceneRect + fitInView) and
    # repaints every node in Python: 20 a second cost the training thread 11-28 % (issue 11).
    # While a run trains they are paced by the GUI thread's CPU budget: the view range still
    # follows every event, and the view moves to it when the budget allows.
    def _update_scene(self):
        if self._gesture:
            self._paced_view()
        else:
            super()._update_scene()
        self.view_changed.emit()

    def wheelEvent(self, event):
        self._gesture = True
        try:
            super().wheelEvent(event)
        finally:
            self._gesture = False

    def mouseMoveEvent(self, event):
        self._gesture = True
        try:
            super().mouseMoveEvent(event)
        finally:
            self._gesture = False

    # NodeGraphQt caches every wire as a pixmap the size of its bounding box on screen: a long wire
    # (a skip connection) costs hundreds of KB, and a zoomed-out view of a big design re-renders
    # them all at each zoom step. Drawing a wire is one path stroke, so wires are not cached:
    # a 1,000-node design fitted in view repaints in 80 ms instead of 0.7 s, pans at 45 % in 37 ms a
    # step instead of 154 ms, and holds 15-20 MB less (docs/designer.md, big designs).
    def establish_connection(self, start_port, end_port):
        super().establish_connection(start_port, end_port)
        in_port = end_port if end_port.port_type == PortTypeEnum.IN.value else start_port
        if in_port.connected_pipes:  # the pipe just made is the last one
            in_port.connected_pipes[-1].setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)

    def contextMenuEvent(self, event):  # LayerLoom's own menu, with its own actions
        self.RMB_state = False
        self.context_menu_requested.emit(event.globalPos(), self.mapToScene(event.pos()))

    def focusNextPrevChild(self, next_):
        return False

    def keyPressEvent(self, event):
        if event.key() == QtCore.Qt.Key.Key_Tab and not event.modifiers():
            self.tab_pressed.emit()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME) or event.mimeData().hasFormat(LIBRARY_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME) or event.mimeData().hasFormat(LIBRARY_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)
