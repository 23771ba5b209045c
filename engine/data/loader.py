"""Batches from tensors in memory: shuffled with the run's generator, optionally augmented.

On a GPU a data set that fits is moved there once (engine.training.device decides), so that a
batch is one index operation, as in a hand-written loop. One that does not fit stays in host
memory: its batches are gathered by a few threads straight into pinned buffers and copied on a
side stream while the previous step computes (`_HostFeed`). Inputs may be stored narrower than
the model takes them (uint8 images, `Split.scales`): a batch becomes float32 only on the device.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from engine.data.augment import Augment


@dataclass
class Split:
    inputs: tuple[torch.Tensor, ...]
    targets: tuple[torch.Tensor, ...]   # one per trained Output
    # per input: None (used as stored), or a factor: stored as integers (uint8 pixels), used as
    # float32 times the factor; empty when every input is used as stored
    scales: tuple[float | None, ...] = ()

    def __len__(self) -> int:
        return int(self.inputs[0].shape[0])

    def to(self, device: torch.device, pin: bool = False) -> Split:
        def move(t: torch.Tensor) -> torch.Tensor:
            if pin and device.type == "cpu":
                return t.pin_memory()
            return t.to(device)

        return Split(tuple(move(t) for t in self.inputs), tuple(move(t) for t in self.targets), self.scales)

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (*self.inputs, *self.targets))

    def head(self, count: int) -> Split:
        return Split(tuple(t[:count] for t in self.inputs), tuple(t[:count] for t in self.targets), self.scales)

    def decode(self, xs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """A batch of inputs as the model takes them (stored integers to scaled float32)."""
        if not self.scales:
            return xs
        return tuple(x if s is None else (x.float() if s == 1.0 else x.float().mul_(s))
                     for x, s in zip(xs, self.scales))

    def decoded(self) -> Split:
        """This split with its inputs as the model takes them (for a probe, a few samples)."""
        return Split(self.decode(self.inputs), self.targets)


Batch = tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]

GATHER_WORKERS = max(1, min(6, (os.cpu_count() or 2) // 2))
PINNED_BYTES = 1 << 30      # a loader's ring of pinned buffers holds at most this much (and 3 batches)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _gather_pool() -> ThreadPoolExecutor:
    """One pool of gathering threads for every host-data loader of the process (index_select and
    the waits on copy events release the GIL, so the threads gather in parallel)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(GATHER_WORKERS, thread_name_prefix="layerloom-gather")
        return _pool


class _HostFeed:
    """Host-memory batches for a CUDA device: gathered ahead by the pool's threads into a ring of
    pinned buffers, each copied on a side stream; the step's stream waits only for its own batch.
    A buffer is gathered into again only once the copy out of it has finished (its event)."""

    def __init__(self, split: Split, batch_size: int, device: torch.device):
        self.split, self.device = split, device
        tensors = (*split.inputs, *split.targets)
        batch_bytes = batch_size * sum(t[:1].numel() * t.element_size() for t in tensors)
        self.depth = max(3, min(GATHER_WORKERS + 2, PINNED_BYTES // max(batch_bytes, 1)))
        self.slots = [tuple(torch.empty((batch_size, *t.shape[1:]), dtype=t.dtype, pin_memory=True)
                            for t in tensors) for _ in range(self.depth)]
        self.copied: list[torch.cuda.Event | None] = [None] * self.depth
        self.stream = torch.cuda.Stream(device)

    def _gather(self, slot: int, idx: torch.Tensor) -> int:
        event = self.copied[slot]
        if event is not None:
            event.synchronize()
        n = len(idx)
        for source, buffer in zip((*self.split.inputs, *self.split.targets), self.slots[slot]):
            torch.index_select(source, 0, idx, out=buffer[:n])
        return n

    def batches(self, chunks: list[torch.Tensor]) -> Iterator[Batch]:
        pool, split, count = _gather_pool(), self.split, len(self.split.inputs)
        pending: deque = deque()
        for b in range(min(self.depth - 1, len(chunks))):
            pending.append(pool.submit(self._gather, b % self.depth, chunks[b]))
        main = torch.cuda.current_stream(self.device)
        for b in range(len(chunks)):
            n = pending.popleft().result()
            if b + self.depth - 1 < len(chunks):
                ahead = b + self.depth - 1
                pending.append(pool.submit(self._gather, ahead % self.depth, chunks[ahead]))
            slot = b % self.depth
            event = torch.cuda.Event()
            with torch.cuda.stream(self.stream):
                moved = [t[:n].to(self.device, non_blocking=True) for t in self.slots[slot]]
                xs = split.decode(tuple(moved[:count]))
                ys = tuple(moved[count:])
                event.record(self.stream)
            self.copied[slot] = event
            for t in (*xs, *ys):
                t.record_stream(main)
            main.wait_event(event)
            yield xs, ys


class BatchLoader:
    """Iterates a split in batches. A last batch of one sample is dropped while shuffling
    (BatchNorm cannot train on it), and every last partial batch when `drop_last` (a compiled
    model then runs one graph); `device` is where batches go when the split lives elsewhere."""

    def __init__(self, split: Split, batch_size: int, *, shuffle: bool, device: torch.device,
                 generator: torch.Generator | None = None, augment: Augment | None = None,
                 drop_last: bool = False, shard: tuple[int, int] | None = None):
        self.split, self.batch_size, self.shuffle = split, batch_size, shuffle
        self.device, self.generator, self.augment = device, generator, augment
        n = len(split)
        self.count = n - 1 if shuffle and n > 1 and n % batch_size == 1 else n
        if drop_last and n >= batch_size:
            self.count = n - n % batch_size
        self.shard = shard
        if shard is not None:  # (rank, processes): this process's share of every shuffled batch
            self.batch_size = -(-batch_size // shard[1])
            self.count = _share_count(n, self.batch_size, shard[1])
        held = split.inputs[0].device   # cuda:0 is where "cuda" means, so both are on the device
        self.on_device = held.type == device.type and (device.index is None or held.index == device.index)
        self._feed: _HostFeed | None = None
        if not self.on_device and device.type == "cuda":
            self._feed = _HostFeed(split, batch_size, device)

    def __len__(self) -> int:
        return (self.count + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[Batch]:
        if self._feed is not None:
            yield from self._from_host()
            return
        split, bs = self.split, self.batch_size
        order, augment_generator = None, self.generator
        if self.shuffle:
            order = torch.randperm(len(split), generator=self.generator)
            if self.shard is not None:
                order, augment_generator = self._share(order)
            if self.on_device and self.device.type != "cpu":
                order = order.to(self.device, non_blocking=True)
        simple = len(split.inputs) == 1 and len(split.targets) == 1
        decode = split.decode if split.scales else None
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
            if decode is not None:
                xs = decode(xs)
            if self.augment is not None:
                xs, ys = self.augment.apply(xs, ys, augment_generator)
            yield xs, ys

    def _from_host(self) -> Iterator[Batch]:
        bs = self.batch_size
        order = torch.randperm(len(self.split), generator=self.generator) if self.shuffle \
            else torch.arange(len(self.split))
        augment_generator = self.generator
        if self.shuffle and self.shard is not None:
            order, augment_generator = self._share(order)
        chunks = [order[start:min(start + bs, self.count)] for start in range(0, self.count, bs)]
        for xs, ys in self._feed.batches(chunks):
            if self.augment is not None:
                xs, ys = self.augment.apply(xs, ys, augment_generator)
            yield xs, ys

    def _share(self, order: torch.Tensor) -> tuple[torch.Tensor, torch.Generator | None]:
        """This process's part of each batch of an epoch's order, which every process draws alike
        (engine.training.distributed), and its own generator for augmentation, seeded from the shared one.

        A batch is `processes` parts of `batch_size` samples; the last, shorter one is filled up from the
        order's start so that every process takes as many samples, or dropped when that is under 2 each."""
        rank, world = self.shard
        per = self.batch_size
        whole = len(order) // (per * world)
        mine = [order[:whole * per * world].view(whole, world, per)[:, rank].reshape(-1)]
        rest = self.count - whole * per
        if rest:
            tail = order[whole * per * world:]
            tail = torch.cat([tail, order[:rest * world - len(tail)]])
            mine.append(tail.view(world, rest)[rank])
        seed = int(torch.randint(1 << 62, (1,), generator=self.generator))
        return torch.cat(mine), torch.Generator().manual_seed(seed + rank)


def _share_count(n: int, per: int, world: int) -> int:
    """Samples one of `world` processes takes per epoch, `per` of each batch (BatchLoader._share)."""
    whole, rest = divmod(n, per * world)
    last = -(-rest // world)
    return whole * per + (last if last >= 2 else 0)
