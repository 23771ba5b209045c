"""Every node of a design beside the submodule it became, blocks included, named by path.

The generated model names each layer's submodule by its node id (DESIGN §5); a block node's module
holds its layers under their ids in turn, and a repeated block is an `nn.Sequential` of copies. So
a node inside a block is found at `block.inner` (`layer1_0.conv1`), and inside copy k of a repeated
block at `block.k.inner` (`encoder.0.attn`), the names `named_modules()` and the state dict use.
What a node's module does at prediction time (dropout, attention) comes from its type's
declaration in the registry (`LayerType.dropout`, `LayerType.attention`), never from type names.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from torch import nn

from graph.analysis import Analysis, NodeInfo
from graph.blocks import BlockType, repeat_of
from graph.model import Graph, Node
from graph.registry import LayerType


@dataclass(frozen=True)
class Placed:
    """One node at one place in the model: `path` is its module's name in `model.named_modules()`."""

    path: str
    node: Node
    layer: LayerType
    info: NodeInfo
    module: nn.Module | None    # None for Input/Output and for functional nodes (Reshape, Add, ...)
    depth: int                  # 0 for the design's own nodes, 1 inside a block, ...

    @property
    def stochastic(self) -> bool:
        """Whether the node draws dropout masks while training (its declared probability above 0)."""
        name = self.layer.dropout
        value = self.info.values.get(name) if name else None
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0

    def attention_modules(self) -> Iterator[tuple[str, nn.MultiheadAttention]]:
        """(path, module) of each attention the node's declaration names inside its module."""
        if self.module is None:
            return
        for sub in self.layer.attention:
            module = self.module.get_submodule(sub) if sub else self.module
            if isinstance(module, nn.MultiheadAttention):
                yield (f"{self.path}.{sub}" if sub else self.path), module


def placed_nodes(graph: Graph, analysis: Analysis, model: nn.Module) -> Iterator[Placed]:
    """The design's nodes with their modules, each block node followed by the nodes inside it."""
    yield from _walk(graph, analysis, model, "", 0)


def _walk(graph: Graph, analysis: Analysis, module: nn.Module, prefix: str, depth: int) -> Iterator[Placed]:
    children = dict(module.named_children())
    for node in graph.nodes:
        info = analysis.nodes.get(node.id)
        layer = graph.layer_of(node)
        if info is None or layer is None:
            continue
        sub = children.get(node.id)
        yield Placed(prefix + node.id, node, layer, info, sub, depth)
        if isinstance(layer, BlockType) and info.inner is not None and sub is not None:
            inner = info.inner
            if repeat_of(node) != 1 and isinstance(sub, nn.Sequential):
                places = [(copy, f"{prefix}{node.id}.{k}.") for k, copy in enumerate(sub)]
            else:
                places = [(sub, f"{prefix}{node.id}.")]
            for copy, inner_prefix in places:
                yield from _walk(inner.graph, inner.analysis, copy, inner_prefix, depth + 1)
