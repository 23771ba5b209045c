"""What a design needs in memory, counted from the analysis before anything is allocated (DESIGN §8).

Weights are float32 (4 bytes a parameter); activations are every node's outputs for a batch,
also float32. `too_large` compares that with what the machine has and names the node that
takes the most, so that `train` and `export` refuse a design that cannot fit instead of
asking the allocator for terabytes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from graph.analysis import Analysis, NodeInfo

BYTES_PER_VALUE = 4


def size_text(n: float) -> str:
    """Bytes as a person reads them: '3.0 GiB', '512 bytes'."""
    for unit, scale in (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


ADAM_STATES = 2          # Adam's and AdamW's two moments per weight
TRAINING_WEIGHT_COPIES = 2 + ADAM_STATES   # the weights, their gradients and the optimiser state
TRAINING_ACTIVATION_COPIES = 2             # each value kept for the backward pass, and its gradient


@dataclass(frozen=True)
class NodeMemory:
    """One node's memory in bytes: its weights (and, training, as many again for the gradients and
    ADAM_STATES times for Adam's moments) and its outputs for one sample; a block's outputs are
    those of every layer inside it, times its repeat."""

    weights: int
    activations: int

    @property
    def gradients(self) -> int:
        return self.weights

    @property
    def optimiser(self) -> int:
        return self.weights * ADAM_STATES


def _activation_values(info: NodeInfo) -> int:
    if info.inner is not None:
        inner = sum(_activation_values(i) for n, i in info.inner.analysis.nodes.items()
                    if info.inner.graph[n].type not in ("Input", "Output"))
        return inner * info.inner.repeat
    return sum(math.prod(shape) for shape in info.outputs or () if shape is not None)


def node_memory(info: NodeInfo) -> NodeMemory:
    return NodeMemory(info.params * BYTES_PER_VALUE, _activation_values(info) * BYTES_PER_VALUE)


@dataclass(frozen=True)
class Footprint:
    """The design's memory: weights (bytes), activations per sample, and what training and
    inference need as a fixed part plus a part per sample."""

    weights: int
    per_sample: int

    def fixed(self, training: bool) -> int:
        return self.weights * (TRAINING_WEIGHT_COPIES if training else 1)

    def sample(self, training: bool) -> int:
        return self.per_sample * (TRAINING_ACTIVATION_COPIES if training else 1)

    def total(self, batch: int, training: bool) -> int:
        return self.fixed(training) + batch * self.sample(training)

    def largest_batch(self, available: int, training: bool) -> int:
        """The largest batch whose total fits in `available` bytes (0: not even the weights fit)."""
        room = available - self.fixed(training)
        if room < 0:
            return 0
        return room // self.sample(training) if self.sample(training) else room


def footprint(analysis: Analysis) -> Footprint:
    memories = [node_memory(info) for info in analysis.nodes.values()]
    return Footprint(sum(m.weights for m in memories), sum(m.activations for m in memories))


def node_bytes(analysis: Analysis, batch: int) -> dict[str, tuple[int, int]]:
    """Per node: (weight bytes, activation bytes for `batch` samples)."""
    out = {}
    for node_id, info in analysis.nodes.items():
        memory = node_memory(info)
        out[node_id] = (memory.weights, memory.activations * batch)
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
