"""The Properties panel's "Inferred" rows: what the analysis found out about one node (shapes,
parameters, MACs, memory, the registry's derived values), as (label, text) pairs. Its own module
so that the panel's editors and what it merely reports grow apart."""
from __future__ import annotations

from app.annotation import count_text
from graph.footprint import node_memory, size_text
from graph.shape_text import node_shape_text, shapes_text


def bytes_text(n: int) -> str:
    """'1.5 KiB (1,536 bytes)': readable, with the exact count that `check` rounds away."""
    return size_text(n) if n < 1024 else f"{size_text(n)} ({n:,} bytes)"


def inferred_pairs(info, value_text) -> list[tuple[str, str]]:
    """The rows for a node's analysis `info`; `value_text` writes a derived value as its field would."""
    if info is None or info.outputs is None:
        return [("output", "? (see the problems)")]
    pairs = []
    if info.inputs and any(s is not None for s in info.inputs):
        pairs.append(("input", shapes_text(info.inputs)))
    pairs.append(("output", node_shape_text(info)))
    pairs.append(("parameters", f"{info.params:,}" +
                  (f" ({count_text(info.params)})" if info.params >= 10_000 else "")))
    pairs.append(("MACs", f"{info.macs:,}"))
    memory = node_memory(info)   # float32, as graph/footprint.py and `check` count it
    pairs.append(("weights", bytes_text(memory.weights)))
    pairs.append(("activations", f"{bytes_text(memory.activations)} per sample"))
    pairs.extend((key, value_text(value)) for key, value in info.derived.items())
    return pairs
