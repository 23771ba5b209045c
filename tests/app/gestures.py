"""What a user's hand does on the canvas, done through the same Qt paths: a drop event from
the palette, the viewer's wiring signal, the viewer's move signal, the Tab search signal."""
from __future__ import annotations

from PySide6 import QtCore, QtGui


def drop_layer(window, type_name: str, scene_pos: tuple[float, float]) -> str:
    """Drop a palette entry on the canvas at a scene position; returns the new node's id."""
    viewer = window.canvas.viewer
    before = set(window.doc.graph.ids())
    mime = window.palette.mime_for(type_name)
    point = viewer.mapFromScene(QtCore.QPointF(*scene_pos))
    event = QtGui.QDropEvent(QtCore.QPointF(point), QtCore.Qt.DropAction.CopyAction, mime,
                             QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    viewer.dropEvent(event)
    (new,) = set(window.doc.graph.ids()) - before
    return new


def port_items(window, node_id: str):
    view = window.canvas.item(node_id).view
    return view.inputs, view.outputs


def wire(window, src: str, dst: str, src_port: int = 0, dst_port: int = 0, detach=None) -> None:
    """Drag a wire from an output port to an input port (what NodeViewer.apply_live_connection emits).
    `detach`: (src, dst, src_port, dst_port) of an existing wire whose end is being moved."""
    outs = port_items(window, src)[1]
    ins = port_items(window, dst)[0]
    disconnected = []
    if detach is not None:
        d_src, d_dst, d_sp, d_dp = detach
        disconnected.append((port_items(window, d_src)[1][d_sp], port_items(window, d_dst)[0][d_dp]))
    connected = [(outs[src_port], ins[dst_port])]
    if ins[dst_port].connected_ports and not ins[dst_port].multi_connection:  # NodeGraphQt makes room
        disconnected.append((ins[dst_port], ins[dst_port].connected_ports[0]))
    window.canvas.viewer.connection_changed.emit(disconnected, connected)


def unwire(window, src: str, dst: str, src_port: int = 0, dst_port: int = 0) -> None:
    """Drag a wire's end off its input port into empty space."""
    out_item = port_items(window, src)[1][src_port]
    in_item = port_items(window, dst)[0][dst_port]
    window.canvas.viewer.connection_changed.emit([(out_item, in_item)], [])


def move(window, node_id: str, to: tuple[float, float]) -> None:
    """Drag a node (the viewer moves the item, then reports the old position)."""
    view = window.canvas.item(node_id).view
    old = list(view.xy_pos)
    view.xy_pos = list(to)
    window.canvas.viewer.moved_nodes.emit({view: old})


def tab_search(window, type_name: str, scene_pos: tuple[float, float]) -> str:
    before = set(window.doc.graph.ids())
    layer_type = window.canvas._types[type_name]
    window.canvas.viewer.search_triggered.emit(layer_type, scene_pos)
    (new,) = set(window.doc.graph.ids()) - before
    return new
