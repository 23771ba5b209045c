"""Well-known designs as .loom builders, each beside a hand-written torch.nn equivalent.

Parity tests and bench/codegen.py use them: a design's generated module must have the
hand-written module's parameter shapes, in the same order, and give the same outputs once
the hand-written weights are copied in (`copy_weights`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from graph.project import Project
from tests.engine.designs import char_rnn, dcgan, lenet, resnet, transformer, unet


@dataclass(frozen=True)
class Design:
    name: str
    project: Callable[[], Project]
    hand_written: Callable[[], nn.Module]


DESIGNS = {
    d.name: d
    for d in (
        Design("lenet5", lenet.project, lenet.LeNet5),
        Design("resnet18", resnet.resnet18_project, resnet.ResNet18),
        Design("char_lstm", char_rnn.project, char_rnn.CharRNN),
        Design("char_bigru", lambda: char_rnn.project(cell="GRU", bidirectional=True),
               lambda: char_rnn.CharRNN(cell="GRU", bidirectional=True)),
        Design("transformer", transformer.project, transformer.TransformerClassifier),
        Design("unet", unet.project, unet.UNet),
        Design("dcgan", dcgan.project, dcgan.Generator),
    )
}


def copy_weights(source: nn.Module, target: nn.Module) -> None:
    """Copy `source`'s state_dict into `target` entry by entry, in order; shapes must agree."""
    src, dst = source.state_dict(), target.state_dict()
    src_shapes = [tuple(v.shape) for v in src.values()]
    dst_shapes = [tuple(v.shape) for v in dst.values()]
    assert src_shapes == dst_shapes, f"state_dict shapes differ:\n{src_shapes}\n{dst_shapes}"
    target.load_state_dict(dict(zip(dst.keys(), src.values(), strict=True)))


def param_shapes(module: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(p.shape) for p in module.parameters()]


def param_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def example_like(module, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs from a generated module's example_inputs, reproducibly."""
    torch.manual_seed(1)
    return module.example_inputs(batch_size)
