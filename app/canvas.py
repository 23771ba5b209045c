"""The NodeGraphQt canvas as a view of a `graph.model.Graph` (STYLE.md: NodeGraphQt is a view).

Two directions, kept apart:

* Gestures -> requests. `_LoomNodeGraph` overrides NodeGraphQt's slots for wiring, moving,
  dropping, Tab search and renaming so that they change nothing themselves; they tell the
  `Canvas`, which translates NodeGraphQt items into graph ids and port indices and emits a
  request signal. The editor turns requests into undo commands that call Graph methods.
* Graph events -> canvas. The Canvas subscribes to the Graph and makes the scene follow it
  (nodes, ports, wires, positions, names), always with `push_undo=False`, so NodeGraphQt's
  own undo stack (kept private, one step deep) never doubles the window's.

Analysis results (shape, parameter count, problems) are painted by `LoomNodeItem` from an
`Annotation`, never through NodeGraphQt properties.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from NodeGraphQt import BaseNode, NodeGraph
from NodeGraphQt.constants import PortTypeEnum
from PySide6 import QtCore, QtGui

from app import theme
from app.annotation import annotation_key, node_annotation
from app.canvas_view import ViewFraming
from app.node_item import Annotation, LiveBadge, LoomNodeItem
from app.node_items_lazy import SYNC_LIMIT, LazyItems  # noqa: F401 -- SYNC_LIMIT: the window's message
from app.viewer import LAYER_MIME, LIBRARY_MIME, LoomViewer
from app.window_geometry import OPEN_SCALE
from graph.analysis import Analysis, Diagnostic
from graph.blocks import BlockDef, BlockType
from graph.model import Edge, Graph, GraphEvent
from graph.registry import LayerType, all_types

FLAGGED_WIRE_COLOR = (*theme.ERROR_COLOR, 255)
WIRE_COLOR = (175, 95, 30, 255)  # NodeGraphQt's PipeEnum.COLOR


def _make_node_class(layer: LayerType) -> type[BaseNode]:
    r, g, b = theme.category_color(layer.category)

    def __init__(self):
        BaseNode.__init__(self, qgraphics_item=LoomNodeItem)
        self.set_port_deletion_allowed(True)
        self.model.color = (r, g, b, 255)
        self.model.border_color = (min(r + 50, 255), min(g + 50, 255), min(b + 50, 255), 255)
        values = layer.defaults()
        for name in layer.input_ports(values):
            self.add_input(name)
        for name in layer.output_ports(values):
            self.add_output(name, multi_output=True)

    # NodeGraphQt's type is `__identifier__.ClassName`, here `Category.Name`: the Tab search
    # groups its menu by the part before the dot.
    return type(layer.name, (BaseNode,), {
        "__identifier__": layer.category, "NODE_NAME": layer.name, "LAYER": layer, "__init__": __init__,
        "__module__": __name__,
    })


class _LoomNodeGraph(NodeGraph):
    """NodeGraphQt's controller with every editing slot turned into a request to the Canvas."""

    def __init__(self, canvas: Canvas):
        private = QtGui.QUndoStack()
        private.setUndoLimit(1)  # NodeGraphQt's own bookkeeping (selection); never shown to the user
        super().__init__(undo_stack=private, viewer=LoomViewer(undo_stack=None))
        self._private_stack = private
        self._canvas = canvas
        self.set_acyclic(False)  # cycles are refused by Graph.check_connection, with a message
        self.set_pipe_collision(False)

    # ids are unique in the Graph; NodeGraphQt's own check is O(n) per node
    def get_unique_name(self, name):
        return name

    def _on_connection_changed(self, disconnected, connected):
        if disconnected or connected:
            self._canvas._wire_gesture(disconnected, connected)

    def _on_connection_sliced(self, ports):
        if ports:
            self._canvas._wire_gesture(ports, [])

    def _on_nodes_moved(self, node_data):
        self._canvas._move_gesture(node_data)

    def _on_search_triggered(self, node_type, pos):
        self._canvas._create_gesture(node_type, (float(pos[0]), float(pos[1])))

    def _on_node_data_dropped(self, mimedata, pos):
        if mimedata.hasFormat(LAYER_MIME):
            type_name = bytes(mimedata.data(LAYER_MIME).data()).decode()
            self._canvas._create_gesture(type_name, (float(pos.x()), float(pos.y())))
        elif mimedata.hasFormat(LIBRARY_MIME):
            entry = bytes(mimedata.data(LIBRARY_MIME).data()).decode()
            self._canvas.library_drop_requested.emit(entry, (float(pos.x()), float(pos.y())))

    def _on_insert_node(self, pipe, node_id, prev_node_pos):
        self._on_nodes_moved(prev_node_pos)

    def _on_node_name_changed(self, node_id, name):
        self._canvas._rename_gesture(node_id, name)


class Canvas(ViewFraming, QtCore.QObject):
    """Shows one Graph on a NodeGraphQt scene and reports the user's gestures as requests."""

    create_requested = QtCore.Signal(str, tuple)      # type name, (x, y) scene position
    library_drop_requested = QtCore.Signal(str, tuple)  # "library/Name" or "personal/Name", (x, y)
    wires_requested = QtCore.Signal(list, list)       # edges to remove, edges to add
    move_requested = QtCore.Signal(dict)              # id -> ((old x, y), (new x, y))
    rename_requested = QtCore.Signal(str, str)        # old id, new id
    selection_changed = QtCore.Signal()
    loading_progress = QtCore.Signal(int, int)        # nodes built, nodes in the design

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.ngraph = _LoomNodeGraph(self)
        self.viewer = self.ngraph.viewer()
        self.widget = self.viewer  # no NodeGraphWidget tab bar: LayerLoom has no sub-graphs
        self.viewer.setObjectName("canvas")
        self.viewer.design_rect = self.items_rect
        self.viewer.refit = lambda: self.fit_view(min_scale=OPEN_SCALE)
        self._types: dict[str, str] = {}  # registry name -> NodeGraphQt type
        for layer in all_types():
            cls = _make_node_class(layer)
            self.ngraph.register_node(cls)
            self._types[layer.name] = cls.type_
        block_class = _make_node_class(BlockDef("Block").layer_type())  # every block: ports from the Graph
        self.ngraph.register_node(block_class)
        self._block_type = block_class.type_
        # the blocks the Tab search offers besides the layer types (set by app.block_palette):
        # name -> NodeGraphQt-style "Section.Name", or "Section.source/Name" for a library's block
        self.search_blocks: Callable[[], dict[str, list[str]]] = dict
        self._searched: dict[str, list[str]] = {}
        # whether a type (a block: "Name" or "library/Name") may be added to the level edited; set by
        # app.block_palette, which says why not in the status bar
        self.allows: Callable[[str], bool] = lambda _entry: True
        self.viewer.tab_pressed.connect(self.show_tab_search)
        self.viewer.scene().selectionChanged.connect(self._on_selection_changed)
        self.graph: Graph | None = None
        self._nodes: dict[str, BaseNode] = {}  # graph id -> NodeGraphQt node
        self._ids: dict[str, str] = {}         # NodeGraphQt node id -> graph id
        self._flagged: set[Edge] = set()
        self._selection: tuple[str, ...] = ()
        self._quiet_selection = False
        self._analysis: Analysis | None = None
        self._annotation_keys: dict[str, tuple] = {}
        self._badges: dict[str, LiveBadge] = {}
        self.lazy = LazyItems(self.viewer.scene(), self._build_nodes, self.visible_rect, self)
        self.lazy.progress.connect(self.loading_progress)
        self.viewer.view_changed.connect(self.lazy.view_moved)

    # -- the graph --------------------------------------------------------------------
    def set_graph(self, graph: Graph, focus: tuple[float, float] | None = None) -> None:
        """Show `graph`, replacing whatever was shown; follows its events from now on.

        A big design's items are built in batches between event-loop turns, the part in view
        first (`app.node_items_lazy`), nearest to `focus` (the scene point the view will show)
        until the view is set; `finish_loading()` builds the rest at once."""
        if self.graph is not None:
            self.graph.unsubscribe(self._on_graph_event)
        self.graph = graph
        graph.subscribe(self._on_graph_event)
        self._rebuild(focus)

    def _rebuild(self, focus: tuple[float, float] | None = None) -> None:
        self._quiet_selection = True
        try:
            for node in list(self._nodes.values()):
                self._remove_item(node)
        finally:
            self._quiet_selection = False
        self._nodes.clear()
        self._ids.clear()
        self._flagged.clear()
        self._annotation_keys.clear()
        self.lazy.start(self.graph, focus)
        self._on_selection_changed()

    @property
    def loading(self) -> bool:
        """True while a big design is still being built in the background."""
        return self.lazy.loading

    def finish_loading(self) -> None:
        self.lazy.build_now()

    def _build_nodes(self, nodes: list) -> None:
        """Create items for these nodes, wire them to what is built, annotate them (LazyItems calls
        this a batch at a time)."""
        self._quiet_selection = True
        try:
            for node in nodes:
                self._add_item(node)
            built = {n.id for n in nodes if isinstance(n.id, str) and n.id in self._nodes}
            taken: set[tuple[str, int]] = set()
            for node_id in built:  # the first wire into an input wins, as in the Graph
                for edge in self.graph.edges_into(node_id):
                    if (edge.dst, edge.dst_port) not in taken:
                        taken.add((edge.dst, edge.dst_port))
                        self._link(edge)
            for node_id in built:  # wires to inputs built before: go by the Graph
                for edge in self.graph.edges_from(node_id):
                    if edge.dst not in built and (edge.dst, edge.dst_port) not in taken:
                        taken.add((edge.dst, edge.dst_port))
                        self.sync_input(edge.dst, edge.dst_port)
        finally:
            self._quiet_selection = False
        if self._analysis is not None and built:
            self.apply_analysis(self._analysis, list(built))
        for node_id in built & self._badges.keys():
            self._nodes[node_id].view.set_live_badge(self._badges[node_id])

    def _link(self, edge: Edge) -> None:
        src, dst = self._nodes.get(edge.src), self._nodes.get(edge.dst)
        if src is None or dst is None:
            return
        out_port, in_port = src.get_output(edge.src_port), dst.get_input(edge.dst_port)
        if out_port is not None and in_port is not None:
            out_port.connect_to(in_port, push_undo=False, emit_signal=False)

    def _on_graph_event(self, event: GraphEvent) -> None:
        kind = event.kind
        self.lazy.graph_changed()
        if kind == "node_added":
            node = self.graph.node(event.node)
            self.lazy.forget(node)
            self._add_item(node)
        elif kind == "node_removed":
            item = self._nodes.pop(event.node, None)
            self._annotation_keys.pop(event.node, None)
            if item is not None:
                self._ids.pop(item.id, None)
                self._remove_item(item)
        elif kind == "node_renamed":
            self._annotation_keys.pop(event.old, None)
            item = self._nodes.pop(event.old, None)
            if item is None:
                return
            self._nodes[event.node] = item
            self._ids[item.id] = event.node
            item.model.name = item.NODE_NAME = event.node
            item.view.name = event.node
            item.view.draw_node()
            twin = self.graph.node(event.old)  # a duplicate id (broken file) that can now be shown
            if twin is not None:
                self._add_item(twin)
                self.sync_nodes([event.old])
        elif kind == "params_changed":
            self._sync_ports(event.node)
        elif kind == "node_moved":
            item = self._nodes.get(event.node)
            pos = self.graph[event.node].pos if item is not None else None
            if pos is not None and tuple(item.view.xy_pos) != pos:
                item.view.xy_pos = list(pos)
                item.model.pos = list(pos)
        elif kind in ("edge_added", "edge_removed"):
            self.sync_input(event.edge.dst, event.edge.dst_port)
        elif kind == "graph_reset":
            self._rebuild()

    # -- items ------------------------------------------------------------------------
    def _add_item(self, node) -> None:
        layer = self.graph.layer_of(node)
        type_id = self._block_type if isinstance(layer, BlockType) else self._types.get(node.type)
        if type_id is None or not isinstance(node.id, str) or not node.id or node.id in self._nodes:
            # an unknown type, a bad or duplicate id (a broken file): not drawn; the problems
            # panel lists it, and the Graph keeps it as it was
            return
        pos = node.pos or (0.0, 0.0)
        item = self.ngraph.create_node(type_id, name=node.id, selected=False, pos=pos, push_undo=False)
        self._nodes[node.id] = item
        self._ids[item.id] = node.id
        if isinstance(layer, BlockType) or callable(layer.inputs) or callable(layer.outputs):
            self._sync_ports(node.id)

    def _remove_item(self, node: BaseNode) -> None:
        self.ngraph.remove_node(node, push_undo=False)

    def _sync_ports(self, node_id: str) -> None:
        """Variadic types (Add, Concat, Chunk) change their ports with a parameter; blocks take theirs
        from their definitions."""
        item = self._nodes.get(node_id)
        if item is None:
            return
        node = self.graph[node_id]
        want_in, want_out = self.graph.input_ports(node), self.graph.output_ports(node)
        if [p.name() for p in item.input_ports()] != list(want_in):
            for port in list(item.input_ports()):
                port.clear_connections(push_undo=False, emit_signal=False)
                item.delete_input(port)
            for name in want_in:
                item.add_input(name)
            for index in range(len(want_in)):
                self.sync_input(node_id, index)
        if [p.name() for p in item.output_ports()] != list(want_out):
            for port in list(item.output_ports()):
                port.clear_connections(push_undo=False, emit_signal=False)
                item.delete_output(port)
            for name in want_out:
                item.add_output(name, multi_output=True)
            for edge in self.graph.edges_from(node_id):
                self.sync_input(edge.dst, edge.dst_port)

    def sync_input(self, node_id: str, port_index: int) -> None:
        """Make one input port's wire on the canvas match the Graph (the first wire wins)."""
        item = self._nodes.get(node_id)
        if item is None or self.graph.node(node_id) is None:
            return
        in_port = item.get_input(port_index)
        if in_port is None:
            return
        want = None
        for edge in self.graph.edges_into(node_id):
            if edge.dst_port == port_index:
                src = self._nodes.get(edge.src)
                want = src.get_output(edge.src_port) if src is not None else None
                break
        have_model = in_port.connected_ports()
        have_view = [pipe.output_port for pipe in in_port.view.connected_pipes]
        if have_model == ([want] if want else []) and have_view == ([want.view] if want else []):
            return
        for port in have_model:
            in_port.disconnect_from(port, push_undo=False, emit_signal=False)
        for pipe in list(in_port.view.connected_pipes):
            pipe.delete()
        if want is not None:
            want.connect_to(in_port, push_undo=False, emit_signal=False)

    def sync_nodes(self, node_ids: Iterable[str]) -> None:
        """Redraw every wire into and out of these nodes from the Graph (after a refused gesture)."""
        for node_id in set(node_ids):
            node = self.graph.node(node_id)
            if node is None:
                continue
            for index in range(len(self.graph.input_ports(node))):
                self.sync_input(node_id, index)
            for edge in self.graph.edges_from(node_id):
                self.sync_input(edge.dst, edge.dst_port)

    # -- gestures -> requests ---------------------------------------------------------
    def _port_ref(self, port_view) -> tuple[str, str, int] | None:
        node_id = self._ids.get(port_view.node.id)
        if node_id is None:
            return None
        if port_view.port_type == PortTypeEnum.IN.value:
            return "in", node_id, port_view.node.inputs.index(port_view)
        return "out", node_id, port_view.node.outputs.index(port_view)

    def edge_for(self, port_a, port_b) -> Edge | None:
        """The Graph edge that a pair of NodeGraphQt port items stands for (either order)."""
        a, b = self._port_ref(port_a), self._port_ref(port_b)
        if a is None or b is None or a[0] == b[0]:
            return None
        out, inp = (a, b) if a[0] == "out" else (b, a)
        return Edge(out[1], inp[1], out[2], inp[2])

    def _wire_gesture(self, disconnected, connected) -> None:
        added = [e for e in (self.edge_for(a, b) for a, b in connected) if e is not None]
        targets = {(e.dst, e.dst_port) for e in added}
        removed = []
        for a, b in disconnected:
            edge = self.edge_for(a, b)
            # NodeGraphQt drops the wire already on a target input to make room; LayerLoom
            # refuses instead (Graph.check_connection says why), so that one is not removed.
            if edge is None or ((edge.dst, edge.dst_port) in targets and edge not in added):
                continue
            removed.append(edge)
        if removed or added:
            self.wires_requested.emit(removed, added)
        touched = {e.src for e in removed + added} | {e.dst for e in removed + added}
        self.sync_nodes(touched)

    def _move_gesture(self, node_data: dict) -> None:
        moves = {}
        for view, prev in node_data.items():
            node_id = self._ids.get(view.id)
            if node_id is not None:
                moves[node_id] = ((float(prev[0]), float(prev[1])), (float(view.xy_pos[0]), float(view.xy_pos[1])))
        if moves:
            self.move_requested.emit(moves)

    def _create_gesture(self, type_name: str, pos: tuple[float, float]) -> None:
        name = type_name.rsplit(".", 1)[-1]  # Tab search gives the NodeGraphQt type
        if not self.allows(name):
            return
        if "/" in name:  # a library's block, as the palette drags it
            self.library_drop_requested.emit(name, pos)
        else:
            self.create_requested.emit(name, pos)

    def _rename_gesture(self, ngraph_id: str, new_name: str) -> None:
        node_id = self._ids.get(ngraph_id)
        if node_id is None:
            return
        item = self._nodes[node_id]
        item.view.name = node_id  # the Graph decides; a refused name snaps back
        item.view.draw_node()
        if new_name != node_id:
            self.rename_requested.emit(node_id, new_name)

    def show_tab_search(self) -> None:
        """The canvas's Tab search over the registry's types (not NodeGraphQt's own Backdrop) and
        the blocks the palette lists: type a name, Enter adds it under the cursor (mid-view when
        opened from a menu or the toolbar)."""
        if not self.viewer.underMouse():
            self.viewer._previous_pos = self.viewer.viewport().rect().center()
        offered = {name: [type_id] for name, type_id in self._types.items()}
        for name, type_ids in self.search_blocks().items():
            offered.setdefault(name, []).extend(type_ids)
        if offered != self._searched:  # NodeGraphQt's menu keeps its first list unless told
            self._searched = offered
            self.viewer.rebuild_tab_search()
        self.viewer.tab_search_set_nodes(offered)

    def node_at(self, scene_pos: QtCore.QPointF) -> str | None:
        for item in self.viewer.scene().items(scene_pos):
            node_id = self._ids.get(getattr(item, "id", None))
            if node_id is not None:
                return node_id
        return None

    # -- analysis -> paint ------------------------------------------------------------
    def apply_analysis(self, analysis: Analysis, only: list[str] | None = None) -> None:
        """Paint each node's shape, parameter count and problems; flag wires that do not fit.
        A node whose facts did not change since the last paint is skipped."""
        self._analysis = analysis
        by_node: dict[str, list[Diagnostic]] = {}
        for d in analysis.diagnostics:
            if d.node is not None:
                by_node.setdefault(d.node, []).append(d)
        nodes = self.graph.nodes if only is None else [self.graph.node(i) for i in only]
        flagged: set[Edge] = set(self._flagged) if only is not None else set()
        for node in nodes:
            item = self._nodes.get(node.id) if node is not None and isinstance(node.id, str) else None
            if item is None:
                continue
            problems = by_node.get(node.id, ())
            info = analysis.nodes.get(node.id)
            key = annotation_key(node, info, problems)
            if self._annotation_keys.get(node.id) != key:
                self._annotation_keys[node.id] = key
                item.view.set_annotation(node_annotation(self.graph, node, info, problems))
            if problems:
                flagged.update(self._flagged_wires(node.id, problems))
        for edge in self._flagged ^ flagged:
            self._style_wire(edge, edge in flagged)
        self._flagged = flagged

    def _flagged_wires(self, node_id: str, problems) -> list[Edge]:
        """Wires into a node whose error is about what those wires bring (a shape or dtype that
        cannot work): the node has all its inputs wired and an error not tied to a parameter."""
        if not any(d.severity == "error" for d in problems):
            return []
        edges = self.graph.edges_into(node_id)
        out = [d.edge for d in problems if d.edge is not None and d.edge in edges]
        node = self.graph[node_id]
        wired = {e.dst_port for e in edges}
        if len(wired) >= len(self.graph.input_ports(node)) and any(
                d.severity == "error" and d.field is None and d.edge is None for d in problems):
            out.extend(edges)
        return out

    def _style_wire(self, edge: Edge, flagged: bool) -> None:
        item = self._nodes.get(edge.dst)
        if item is None:
            return
        port = item.get_input(edge.dst_port)
        if port is None:
            return
        for pipe in port.view.connected_pipes:
            pipe.color = FLAGGED_WIRE_COLOR if flagged else WIRE_COLOR
            pipe.style = 2 if flagged else 0  # dashed
            pipe.reset()
            pipe.setToolTip("this wire brings a shape or type that does not fit; see the node's message"
                            if flagged else "")

    # -- live badges (training) -------------------------------------------------------
    def set_live_badges(self, badges: dict[str, LiveBadge]) -> None:
        """Show each node's live badge; nodes not in `badges` show none (nor, once built, nodes not
        built yet). Only changed badges repaint."""
        self._badges = dict(badges)
        for node_id, item in self._nodes.items():
            view = item.view
            if isinstance(view, LoomNodeItem):
                view.set_live_badge(badges.get(node_id))

    def clear_live_badges(self) -> None:
        self.set_live_badges({})

    def live_badge(self, node_id: str) -> LiveBadge | None:
        item = self._nodes.get(node_id)
        return item.view.live_badge if item is not None else None

    def flagged_wires(self) -> set[Edge]:
        return set(self._flagged)

    def annotation(self, node_id: str) -> Annotation:
        return self._nodes[node_id].view.annotation

    def item(self, node_id: str) -> BaseNode:
        return self._nodes[node_id]

    # -- selection and view -----------------------------------------------------------
    def _on_selection_changed(self) -> None:
        if self._quiet_selection:
            return
        ids = tuple(self.selected_ids())
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit()

    def selected_ids(self) -> list[str]:
        ids = []
        for item in self.viewer.scene().selectedItems():
            node_id = self._ids.get(getattr(item, "id", None))
            if node_id is not None:
                ids.append(node_id)
        order = {n.id: i for i, n in enumerate(self.graph.nodes)} if len(ids) > 1 else {}
        return sorted(ids, key=lambda i: order.get(i, 0))

    def selected_edges(self) -> list[Edge]:
        edges = []
        for pipe in self.viewer.selected_pipes():
            edge = self.edge_for(pipe.input_port, pipe.output_port)
            if edge is not None:
                edges.append(edge)
        return edges

    def select(self, node_ids: Iterable[str]) -> None:
        wanted = set(node_ids)
        self.lazy.build_now(self.graph.node(i) for i in wanted if i not in self._nodes)
        self._quiet_selection = True
        try:
            for item in self.viewer.scene().selectedItems():
                item.setSelected(False)
            for node_id in wanted:
                item = self._nodes.get(node_id)
                if item is not None:
                    item.view.setSelected(True)
        finally:
            self._quiet_selection = False
        self._on_selection_changed()

    def select_all(self) -> None:
        self.finish_loading()
        self.select(self._nodes)

    def center_on(self, node_id: str) -> None:
        if node_id not in self._nodes:
            self.lazy.build_now([self.graph.node(node_id)])
        item = self._nodes.get(node_id)
        if item is not None:
            self.viewer.center_selection([item.view])
            self.lazy.view_moved()

    def node_size(self, node_id: str) -> tuple[float, float]:
        item = self._nodes.get(node_id)
        if item is None:
            return (180.0, 90.0)
        return (float(item.view.width), float(item.view.height))

