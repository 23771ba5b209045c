"""Training on several processes with torch.distributed: `train FILE --nproc N`, or under torchrun.

Each process is a rank of one process group (gloo on CPUs, NCCL on GPUs, one GPU each). Every rank
builds the same model from the same seed, draws the same order of each epoch and takes its own part of
every batch (engine.data.loader's `shard`), so a step covers the batch one process would take and DDP
averages the gradients: the run computes what the one-process run computes. Whatever a decision rests
on is agreed by all ranks: each step's loss is summed over them (so a NaN stops every rank at the same
step), the metrics' totals are summed (engine.training.losses), a stop asked of any rank (Ctrl-C) is
honoured by all after the same step. Rank 0 alone writes the run folder and prints.

`launch` starts the N processes of `--nproc` on this machine with torch's environment contract
(MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK), the one torchrun sets, so a rank runs the
same code whichever started it (docs/training.md: several machines).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from engine.data import Split
from engine.training.events import Note, TrainingError
from engine.training.program import TrainingProgram
from engine.training.settings import parse_device_spec
from engine.training.trainer import Trainer

ENV_KEYS = ("RANK", "WORLD_SIZE")
GRACE_SECONDS = 10.0      # after one process fails, how long the others get to end by themselves
TIMEOUT = _dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Rank:
    """One process of a distributed run: its place, and the device it trains on."""
    rank: int
    world: int
    local_rank: int
    local_world: int
    kind: str                 # "cpu" or "cuda"

    @property
    def device(self) -> str:
        return f"cuda:{self.local_rank}" if self.kind == "cuda" else "cpu"

    @property
    def backend(self) -> str:
        return "nccl" if self.kind == "cuda" else "gloo"


def device_kind(spec: str, processes: int) -> str:
    """"cpu" or "cuda" for a run of `processes` processes on one machine, from a `training.device`
    value; a device that cannot take them is a TrainingError naming what would."""
    parsed = parse_device_spec(spec)
    if parsed is None:
        raise TrainingError(f"device {spec!r} is not a device; use auto, cpu or cuda with --nproc", "device")
    kind, index = parsed
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "mps":
        raise TrainingError("--nproc does not work on Apple's MPS (torch.distributed has no backend for it); "
                            "use --device cpu", "device")
    if kind == "cuda":
        if index is not None and processes > 1:
            raise TrainingError(f"--device cuda:{index} names one GPU, but --nproc {processes} trains on one GPU "
                                "per process (cuda:0, cuda:1, ...); use --device cuda", "device")
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if processes > count:
            raise TrainingError(f"--nproc {processes} needs {processes} CUDA devices, one per process, but this "
                                f"machine has {count}; use --nproc {count} or --device cpu" if count else
                                f"--nproc {processes} on CUDA needs CUDA devices, but this machine has none; use "
                                "--device cpu", "device")
    return kind


def from_environment(device: str) -> Rank | None:
    """This process's Rank when torchrun (or `launch`) started it, else None; `device` is the run's
    `training.device` (see `device_kind`)."""
    if not all(key in os.environ for key in ENV_KEYS):
        return None
    try:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    except ValueError:
        raise TrainingError("RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers (torchrun sets them)",
                            "settings") from None
    return Rank(rank, world, local_rank, local_world, device_kind(device, local_world))


@contextlib.contextmanager
def process_group(rank: Rank) -> Iterator[None]:
    """The process group of a run, joined on entry and left on exit; the process's device and threads set."""
    if rank.kind == "cuda":
        torch.cuda.set_device(rank.local_rank)
    else:  # N processes on one machine's cores: each its share, not all of them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // rank.local_world))
    dist.init_process_group(rank.backend, rank=rank.rank, world_size=rank.world, timeout=TIMEOUT,
                            device_id=torch.device(rank.device) if rank.kind == "cuda" else None)
    try:
        yield
        dist.barrier()   # rank 0 holds the group's store: no one leaves while another still needs it
    finally:
        dist.destroy_process_group()


def _all_sum(tensor: torch.Tensor) -> torch.Tensor:
    dist.all_reduce(tensor)
    return tensor


def _part(split: Split, rank: int, world: int) -> Split:
    """A contiguous 1/world of a split (validation: each rank scores its part; the totals are summed)."""
    n = len(split)
    start, stop = n * rank // world, n * (rank + 1) // world
    return Split(tuple(t[start:stop] for t in split.inputs), tuple(t[start:stop] for t in split.targets),
                 split.scales)


class DistributedTrainer(Trainer):
    """The trainer as one rank of a process group (which must be joined first: `process_group`)."""

    def __init__(self, project, rank: Rank, *, overrides: dict[str, Any] | None = None, **kwargs: Any):
        overrides = {**(overrides or {}), "device": rank.device}
        if rank.rank:  # the live statistics are rank 0's to send
            overrides["telemetry"] = False
        super().__init__(project, overrides=overrides, **kwargs)
        self.rank = rank
        self.shard = (rank.rank, rank.world)
        self.reduce = _all_sum
        self.asked: str | None = None         # a stop asked of this process, not yet agreed by all
        self.local_forward: Callable[..., Any] | None = None

    @property
    def checkpoint_path(self):
        return super().checkpoint_path if self.rank.rank == 0 else None

    def stop(self, reason: str = "stopped") -> None:
        """Asked here; every rank stops after the step at which all have heard of it (`_Agreed.step`)."""
        if self.asked is None:
            self.asked = reason

    def agree_to_stop(self) -> None:
        Trainer.stop(self, self.asked or "interrupted")

    def prepare(self) -> None:
        if self._prepared:
            return
        super().prepare()
        if self.gan is not None:
            raise TrainingError("mode gan trains on one process; leave out --nproc", "settings")
        model = self.model
        self.local_forward = self.forward
        untrained = any(n.values().get("loss") == "none" for n in self.project.graph.outputs())
        ddp = DistributedDataParallel(model, device_ids=[self.rank.local_rank] if self.rank.kind == "cuda" else None,
                                      find_unused_parameters=untrained)
        self.forward = ddp
        if self.local_forward is not model:   # training.compile: the DDP module compiled, as the model was
            from engine.training.accelerate import CompiledForward, compiled

            self.forward = CompiledForward(ddp, compiled(ddp), lambda message: self.emit(Note(message)))
        self.program = _Agreed(self.program, self)
        if self.val_split is not None:
            self.val_split = _part(self.val_split, self.rank.rank, self.rank.world)


class _Agreed(TrainingProgram):
    """A program whose steps report the loss of the whole batch (summed over the ranks) and carry the
    stop requests; validation runs the model without DDP (no collective per batch, so ranks whose parts
    of the validation set differ by a batch cannot wait on each other)."""

    def __init__(self, inner: TrainingProgram, trainer: DistributedTrainer):
        super().__init__(trainer)
        self.inner = inner
        # on GPUs the stop flag goes through a CPU group, so that no step waits for the device to read it
        self.control = dist.new_group(backend="gloo") if trainer.rank.kind == "cuda" else None

    def step(self, xs, ys, batch_index, sample):
        trainer: DistributedTrainer = self.trainer
        loss, lr = self.inner.step(xs, ys, batch_index, sample)
        world = trainer.rank.world
        flag = torch.tensor([1.0 if trainer.asked is not None else 0.0])
        if self.control is None:   # gloo: the loss and the flag in one call
            both = torch.cat([loss.detach().float().reshape(1), flag])
            dist.all_reduce(both)
            loss, asked = both[0] / world, both[1].item()
        else:
            loss = loss.detach().float()
            dist.all_reduce(loss)
            loss = loss / world
            dist.all_reduce(flag, group=self.control)
            asked = flag.item()
        if asked and not trainer.stopping:
            trainer.agree_to_stop()
        return loss, lr

    def validate(self):
        trainer: DistributedTrainer = self.trainer
        trainer.forward, training = trainer.local_forward, trainer.forward
        try:
            return self.inner.validate()
        finally:
            trainer.forward = training

    # the rest is the inner program's
    def metric_names(self):
        return self.inner.metric_names()

    def probe(self, inputs):
        return self.inner.probe(inputs)

    def restore(self, checkpoint):
        return self.inner.restore(checkpoint)

    def begin_epoch(self):
        self.inner.begin_epoch()

    def train_metrics(self):
        return self.inner.train_metrics()

    def end_epoch(self, watched):
        self.inner.end_epoch(watched)

    @property
    def lr(self):
        return self.inner.lr

    def state(self):
        return self.inner.state()

    def write_files(self, out_dir):
        return self.inner.write_files(out_dir)


# -- starting the processes (`--nproc N`) ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, target: Callable[..., int], args: tuple) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": str(world)})
    sys.exit(target(*args))


def launch(processes: int, target: Callable[..., int], args: tuple) -> int:
    """Run `target(*args)` in `processes` new processes, ranks of one group on this machine; returns
    rank 0's exit code, or the first failure's. Ctrl-C reaches the processes from the terminal (they
    stop together); this one waits. When one fails, the others get GRACE_SECONDS, then are ended."""
    import multiprocessing.connection

    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    port = free_port()
    children = [context.Process(target=_worker, args=(rank, processes, port, target, args),
                                name=f"layerloom-rank-{rank}") for rank in range(processes)]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for child in children:
            child.start()
        deadline = None
        alive = list(children)
        while alive:
            timeout = None if deadline is None else max(0.0, deadline - _now())
            multiprocessing.connection.wait([c.sentinel for c in alive], timeout)
            alive = [c for c in children if c.exitcode is None]
            if deadline is None and any(c.exitcode for c in children):
                deadline = _now() + GRACE_SECONDS
            if deadline is not None and _now() >= deadline:
                for child in alive:
                    child.terminate()
                for child in alive:
                    child.join(5)
                    if child.exitcode is None:
                        child.kill()
                        child.join()
                alive = []
    finally:
        signal.signal(signal.SIGINT, previous)
    codes = [c.exitcode for c in children]
    if codes[0] is not None and codes[0] > 0:   # rank 0 has said why
        return 1
    failed = [(rank, code) for rank, code in enumerate(codes) if code]
    if not failed:
        return 0
    rank, code = next(((r, c) for r, c in failed if c > 0), failed[0])
    how = f"exit code {code}" if code > 0 else f"ended by signal {-code}"
    print(f"error: process {rank} of {processes} failed ({how}); the others were stopped", file=sys.stderr)
    return 1


def _now() -> float:
    return time.monotonic()
