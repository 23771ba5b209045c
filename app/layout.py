"""Auto-layout: layered by graph depth, left to right, no overlaps. Pure Python (no Qt)."""
from __future__ import annotations

from graph.model import Graph
from graph.project import Project
from graph.topology import topological_order

Size = tuple[float, float]


def layered_positions(graph: Graph, sizes: dict[str, Size], gap_x: float = 70.0, gap_y: float = 36.0,
                      origin: tuple[float, float] = (0.0, 0.0)) -> dict[str, tuple[float, float]]:
    """Top-left positions for every node.

    A node's column is its depth: the longest path from a node with no inputs. Each column is
    as wide as its widest node, so columns never overlap; within a column nodes are stacked
    with a gap, ordered by the mean row of the nodes that feed them (fewer crossings), then
    by their order in the file. Columns are centred on one horizontal axis. Nodes on a
    cycle (only possible in a broken file) go in one last column.
    """
    ids = [n.id for n in graph.nodes if isinstance(n.id, str)]   # a broken file's [1, 2] is not an id
    known = set(ids)
    edges = [e for e in graph.edges if e.src in known and e.dst in known]
    order, leftover = topological_order(ids, edges)
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        preds[e.dst].append(e.src)
    depth: dict[str, int] = {}
    for node_id in order:
        depth[node_id] = max((depth[p] + 1 for p in preds[node_id] if p in depth), default=0)
    last = max(depth.values(), default=-1) + 1
    for node_id in leftover:
        depth[node_id] = last
    columns: dict[int, list[str]] = {}
    for node_id in ids:
        columns.setdefault(depth[node_id], []).append(node_id)

    rank = {node_id: i for i, node_id in enumerate(ids)}
    row: dict[str, float] = {}
    for col in sorted(columns):
        members = columns[col]

        def key(node_id: str) -> tuple[float, int]:
            rows = [row[p] for p in preds[node_id] if p in row]
            return (sum(rows) / len(rows) if rows else float(rank[node_id]), rank[node_id])

        members.sort(key=key)
        for i, node_id in enumerate(members):
            row[node_id] = float(i)

    def size(node_id: str) -> Size:
        return sizes.get(node_id, (180.0, 90.0))

    heights = {c: sum(size(n)[1] for n in m) + gap_y * (len(m) - 1) for c, m in columns.items()}
    tallest = max(heights.values(), default=0.0)
    positions: dict[str, tuple[float, float]] = {}
    x = origin[0]
    for col in sorted(columns):
        members = columns[col]
        y = origin[1] + (tallest - heights[col]) / 2
        for node_id in members:
            positions[node_id] = (round(x, 1), round(y, 1))
            y += size(node_id)[1] + gap_y
        x += max(size(n)[0] for n in members) + gap_x
    return positions


def place_unplaced(project: Project) -> None:
    """Give positions to nodes that have none (hand-written files) before they are shown.
    This is how the file is shown, not an edit: it is not on the undo stack."""
    graph = project.graph
    if all(n.pos is not None for n in graph.nodes):
        return
    positions = layered_positions(graph, {})
    if any(n.pos is not None for n in graph.nodes):  # keep the placed ones; put the rest underneath
        bottom = max(n.pos[1] for n in graph.nodes if n.pos is not None) + 200.0
        positions = {k: (x, y + bottom) for k, (x, y) in positions.items()}
    below = max((y for _, y in positions.values()), default=0.0) + 200.0
    for index, node in enumerate(graph.nodes):
        if node.pos is None:   # a node whose id is not text (reported by the analysis) goes in a row below
            node.pos = positions.get(node.id) if isinstance(node.id, str) else (index * 230.0, below)
