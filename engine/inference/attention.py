"""The attention weights of every attention node, per head, from one forward pass.

The nodes whose declaration names attention modules (`LayerType.attention`: a MultiheadAttention
node itself, a Transformer layer's `self_attn`) get a pre-hook that asks torch for the weights per
head (`need_weights=True, average_attn_weights=False`) and a hook that keeps them and hands the
caller what it asked for: nothing (a Transformer layer, or generated code that drops the weights)
or the head average (a MultiheadAttention whose weights port is wired). The fused fast paths,
which skip the module's forward and so the hooks, are off while the weights are taken.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from engine.inference.walk import Placed


@contextmanager
def capture_attention(placed: list[Placed]) -> Iterator[dict[str, torch.Tensor]]:
    """Yields {path: (N, heads, L, S) weights}, filled by the forward pass run inside."""
    weights: dict[str, torch.Tensor] = {}
    handles = []
    for node in placed:
        for path, module in node.attention_modules():
            asked: dict[str, bool] = {}

            def pre(module, args, kwargs, asked=asked):
                asked["need"] = kwargs.get("need_weights", True)
                asked["average"] = kwargs.get("average_attn_weights", True)
                return args, {**kwargs, "need_weights": True, "average_attn_weights": False}

            def post(module, args, kwargs, output, path=path, asked=asked):
                out, per_head = output
                weights[path] = per_head.detach()
                if not asked["need"]:
                    return out, None
                return out, per_head.mean(dim=1) if asked["average"] else per_head

            handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
            handles.append(module.register_forward_hook(post, with_kwargs=True))
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield weights
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
        for handle in handles:
            handle.remove()
