"""Batches from tensors in memory: shuffled with the run's generator, optionally augmented.

Data sets here are small enough to live in memory; on a GPU they are moved there once
(`Split.to`) so that a batch is one index operation, as in a hand-written loop.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from engine.data.augment import Augment


@dataclass
class Split:
    inputs: tuple[torch.Tensor, ...]
    targets: tuple[torch.Tensor, ...]   # one per trained Output

    def __len__(self) -> int:
        return int(self.inputs[0].shape[0])

    def to(self, device: torch.device, pin: bool = False) -> Split:
        def move(t: torch.Tensor) -> torch.Tensor:
            if pin and device.type == "cpu":
                return t.pin_memory()
            return t.to(device)

        return Split(tuple(move(t) for t in self.inputs), tuple(move(t) for t in self.targets))

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (*self.inputs, *self.targets))

    def head(self, count: int) -> Split:
        return Split(tuple(t[:count] for t in self.inputs), tuple(t[:count] for t in self.targets))


Batch = tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]


class BatchLoader:
    """Iterates a split in batches. A last batch of one sample is dropped while shuffling
    (BatchNorm cannot train on it); `device` is where batches go when the split lives elsewhere."""

    def __init__(self, split: Split, batch_size: int, *, shuffle: bool, device: torch.device,
                 generator: torch.Generator | None = None, augment: Augment | None = None):
        self.split, self.batch_size, self.shuffle = split, batch_size, shuffle
        self.device, self.generator, self.augment = device, generator, augment
        n = len(split)
        self.count = n - 1 if shuffle and n > 1 and n % batch_size == 1 else n
        self.on_device = split.inputs[0].device == device

    def __len__(self) -> int:
        return (self.count + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[Batch]:
        split, bs = self.split, self.batch_size
        order = None
        if self.shuffle:
            order = torch.randperm(len(split), generator=self.generator)
            if self.on_device and self.device.type != "cpu":
                order = order.to(self.device, non_blocking=True)
        simple = len(split.inputs) == 1 and len(split.targets) == 1
        for start in range(0, self.count, bs):
            if order is None:
                xs = tuple(t[start:start + bs] for t in split.inputs)
                ys = tuple(t[start:start + bs] for t in split.targets)
            elif simple:  # the common case, without generator overhead
                idx = order[start:start + bs]
                xs, ys = (split.inputs[0][idx],), (split.targets[0][idx],)
            else:
                idx = order[start:start + bs]
                xs = tuple(t[idx] for t in split.inputs)
                ys = tuple(t[idx] for t in split.targets)
            if not self.on_device:
                xs = tuple(t.to(self.device, non_blocking=True) for t in xs)
                ys = tuple(t.to(self.device, non_blocking=True) for t in ys)
            if self.augment is not None:
                xs, ys = self.augment.apply(xs, ys, self.generator)
            yield xs, ys
