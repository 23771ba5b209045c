"""What a design needs in memory, counted from the analysis before anything is allocated (DESIGN §8).

Weights are float32 (4 bytes a parameter); activations are every node's outputs for a batch,
also float32. `too_large` compares that with what the machine has and names the node that
takes the most, so that `train` and `export` refuse a design that cannot fit instead of
asking the allocator for terabytes.
"""
from __future__ import annotations

import math

from graph.analysis import Analysis

BYTES_PER_VALUE = 4


def size_text(n: float) -> str:
    """Bytes as a person reads them: '3.0 GiB', '512 bytes'."""
    for unit, scale in (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def node_bytes(analysis: Analysis, batch: int) -> dict[str, tuple[int, int]]:
    """Per node: (weight bytes, activation bytes for `batch` samples)."""
    out = {}
    for node_id, info in analysis.nodes.items():
        acts = sum(math.prod(shape) for shape in info.outputs or () if shape is not None) * batch
        out[node_id] = (info.params * BYTES_PER_VALUE, acts * BYTES_PER_VALUE)
    return out


def too_large(analysis: Analysis, available: int | None, *, batch: int, weight_copies: int,
              purpose: str) -> tuple[str, str] | None:
    """(node id, message) when the design cannot fit in `available` bytes, else None.

    `weight_copies` counts the weights and what lives beside them (gradients, optimiser state);
    activations are counted twice when training (kept for the backward pass) by the caller's
    choice of `batch`. Unknown memory (`available` None) is never a reason to refuse."""
    if available is None:
        return None
    sizes = node_bytes(analysis, batch)
    weights = sum(w for w, _ in sizes.values()) * weight_copies
    acts = sum(a for _, a in sizes.values())
    if weights + acts <= available:
        return None
    node, (w, a) = max(sizes.items(), key=lambda item: item[1][0] * weight_copies + item[1][1])
    params = analysis.nodes[node].params
    what = (f"its weights take {size_text(w)} ({params:,} parameters)" if w * weight_copies >= a
            else f"its output takes {size_text(a)} for a batch of {batch}")
    return node, (f"{what}; {purpose} needs about {size_text(weights + acts)}, more than the "
                  f"{size_text(available)} of memory available: make {node} smaller")
