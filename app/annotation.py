"""What a node shows on the canvas, from the analysis: its shape, "Type · parameters" and its
problems, for layers and blocks alike. A block node also shows its summed MACs, its `repeat`,
and is marked when a problem lies inside it (`NodeInfo.inside`, docs/blocks.md)."""
from __future__ import annotations

from app.node_item import Annotation, tooltip_html
from graph.analysis import NodeInfo
from graph.blocks import BlockType, repeat_of
from graph.model import Graph, Node
from graph.shape_text import node_shape_text


def count_text(n: int) -> str:
    """Parameter counts as people read them: 850, 6,106, 61.7k, 2.36M."""
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000_000:
        return f"{n / 1_000_000:.2f}M"
    return f"{n / 1_000_000_000:.2f}G"


def annotation_key(node: Node, info: NodeInfo | None, problems) -> tuple:
    """Everything the annotation depends on: a node whose key did not change is not repainted."""
    facts = (info.outputs, info.inputs, info.params, info.macs, tuple(d.text() for d in info.inside)) \
        if info is not None else None
    return (node.type, node.trainable, node.extra.get("repeat"), facts,
            tuple((d.severity, d.field, d.message, d.hint) for d in problems))


def node_annotation(graph: Graph, node: Node, info: NodeInfo | None, problems) -> Annotation:
    layer = graph.layer_of(node)
    block = isinstance(layer, BlockType)
    known = info is not None and info.outputs is not None
    shape = node_shape_text(info)
    if layer is not None and layer.role == "output" and known:
        shape = "→ " + shape
    params = f"{count_text(info.params)} params" if known and info.params else ""
    frozen = known and not node.trainable and bool(info.params)
    if frozen:
        params += " (frozen)"
    type_text = node.type
    macs = ""
    if block:
        repeat = repeat_of(node)
        type_text += f" ×{repeat}" if repeat != 1 else ""
        macs = f"{count_text(info.macs)} MACs" if known and info.macs else ""
    info_line = " · ".join(p for p in (type_text, params, macs) if p)
    messages = [(d.severity, d.text() if d.field is None else f"{d.field}: {d.text()}") for d in problems]
    inside = info.inside if info is not None else []
    messages += [(d.severity, f"{d.where}: {d.text()}") for d in inside]
    severity = None
    if messages:
        severity = "error" if any(s == "error" for s, _ in messages) else "warning"
    doc = layer.doc if layer is not None else ""
    if block:
        doc += " Double-click to edit its definition."
    tip = tooltip_html(node.id, node.type, doc, messages)
    return Annotation(shape, info_line, severity, tip, block=block, frozen=frozen)
