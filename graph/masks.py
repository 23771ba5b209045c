"""Which token Input's padding an attention node masks (docs/shapes.md, "Masks").

A token Input (int64) with a `padding_id` marks padding positions; an attention node whose keys
come from it, through any layers that keep the positions (Embedding, PositionalEncoding, Linear,
norms, Add, ...), ignores those keys: codegen passes `key_padding_mask = tokens == padding_id`.
"""
from __future__ import annotations

from collections.abc import Mapping

from graph.analysis import NodeInfo
from graph.model import Graph


def padding_sources(graph: Graph, infos: Mapping[str, NodeInfo]) -> dict[str, str]:
    """{attention node id: token Input id} for the attention nodes (types with `masks`) whose key
    sequence comes from exactly one Input with a padding id and has that Input's length."""
    padded = {n.id for n in graph.inputs() if n.params.get("padding_id") is not None}
    if not padded:
        return {}
    found = {}
    for node in graph.nodes:
        layer = graph.layer_of(node)
        masks = getattr(layer, "masks", None)
        edge = next((e for e in graph.edges_into(node.id) if masks and e.dst_port == masks.keys), None)
        if edge is None:
            continue
        sources = _inputs_upstream(graph, edge.src) & padded
        if len(sources) == 1:
            (source,) = sources
            if _length(infos, edge.src, edge.src_port) == _length(infos, source, 0):
                found[node.id] = source
    return found


def _length(infos: Mapping[str, NodeInfo], node_id: str, port: int) -> int | None:
    info = infos.get(node_id)
    shape = info.outputs[port] if info is not None and info.outputs and port < len(info.outputs) else None
    return shape[0] if shape else None


def _inputs_upstream(graph: Graph, start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(e.src for e in graph.edges_into(current))
    return seen
