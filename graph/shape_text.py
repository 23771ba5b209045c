"""Shapes as users read them, with the batch as N: `(N, 1, 28, 28)`.

Messages, the `check` table, the canvas, Properties, the summary and the generated code's
comments all write shapes here, so that one shape never reads two ways.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.analysis import NodeInfo


def shape_text(shape: Sequence[int]) -> str:
    """`(N, 1, 28, 28)`; `(N,)` for one value per sample, as Python writes a 1-tuple."""
    return "(" + ", ".join(["N", *map(str, shape)]) + ")" if shape else "(N,)"


def shapes_text(shapes: Sequence[Sequence[int] | None]) -> str:
    """Several shapes (a node's ports) joined with ' | '; unknown ones left out."""
    return " | ".join(shape_text(s) for s in shapes if s is not None)


def node_shape_text(info: NodeInfo | None) -> str:
    """What a node gives, for tables and the canvas: its outputs, or for an Output node what it
    receives; "?" when inference could not tell, "-" when there is nothing to show."""
    if info is None or info.outputs is None:
        return "?"
    return shapes_text(info.outputs or info.inputs) or "-"
