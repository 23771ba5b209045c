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
same code whichever started it (docs/training.md: several machines). `LocalGroup` is the same run with rank 0
on the caller's thread (the window's training thread, whose events, plots, Stop and Pause are rank 0's) and
ranks 1.. started as processes by it.
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
from engine.training.events import Failed, Note, TrainingError
from engine.training.program import TrainingProgram
from engine.training.settings import parse_device_spec
from engine.training.trainer import Trainer
from graph.project import from_dict, to_dict

ENV_KEYS = ("RANK", "WORLD_SIZE")
GRACE_SECONDS = 10.0      # after one process fails, how long the others get to end by themselves
TIMEOUT = _dt.timedelta(minutes=10)
# a run in the window can be paused, and ranks 1.. wait for rank 0 in their next step all the while
WINDOW_TIMEOUT = _dt.timedelta(hours=24)


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


def device_kind(spec: str, processes: int, flags: tuple[str, str] = ("--nproc", "--device")) -> str:
    """"cpu" or "cuda" for a run of `processes` processes on one machine, from a `training.device`
    value; a device that cannot take them is a TrainingError naming what would, in the words of `flags`
    (the command's options, or the design's keys for a run in the window)."""
    nproc, dev = flags
    parsed = parse_device_spec(spec)
    if parsed is None:
        raise TrainingError(f"device {spec!r} is not a device; use auto, cpu or cuda with {nproc}", "device")
    kind, index = parsed
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "mps":
        raise TrainingError(f"{nproc} does not work on Apple's MPS (torch.distributed has no backend for it); "
                            f"use {dev} cpu", "device")
    if kind == "cuda":
        if index is not None and processes > 1:
            raise TrainingError(f"{dev} cuda:{index} names one GPU, but {nproc} {processes} trains on one GPU "
                                f"per process (cuda:0, cuda:1, ...); use {dev} cuda", "device")
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if processes > count:
            raise TrainingError(f"{nproc} {processes} needs {processes} CUDA devices, one per process, but this "
                                f"machine has {count}; use {nproc} {count} or {dev} cpu" if count else
                                f"{nproc} {processes} on CUDA needs CUDA devices, but this machine has none; use "
                                f"{dev} cpu", "device")
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


class Abandon(Exception):
    """Raised inside `process_group` to leave it at once: this rank failed alone, and the others may be
    waiting for it in a step, not at the closing barrier (they fail at their next collective)."""


@contextlib.contextmanager
def process_group(rank: Rank, port: int | None = None, timeout: _dt.timedelta = TIMEOUT) -> Iterator[None]:
    """The process group of a run, joined on entry and left on exit; the process's device and threads set.
    The group meets at MASTER_ADDR:MASTER_PORT (torch's environment contract), or at this machine's `port`."""
    if rank.kind == "cuda":
        torch.cuda.set_device(rank.local_rank)
    else:  # N processes on one machine's cores: each its share, not all of them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // rank.local_world))
    dist.init_process_group(rank.backend, rank=rank.rank, world_size=rank.world, timeout=timeout,
                            init_method=f"tcp://127.0.0.1:{port}" if port is not None else None,
                            device_id=torch.device(rank.device) if rank.kind == "cuda" else None)
    try:
        yield
        dist.barrier()   # rank 0 holds the group's store: no one leaves while another still needs it
    except Abandon:
        pass
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


def _ranks(ranks: range, world: int, port: int, target: Callable[..., int], args: tuple) -> list:
    """Processes (not yet started) that run `target(*args)` as the given ranks of a group of `world`: fresh
    interpreters (spawn), never a fork of a process whose torch has threads."""
    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    return [context.Process(target=_worker, args=(rank, world, port, target, args), name=f"layerloom-rank-{rank}")
            for rank in ranks]


def _end(children: list, seconds: float) -> None:
    """Give the processes `seconds` to end by themselves, then end them."""
    deadline = _now() + seconds
    for child in children:
        child.join(max(0.0, deadline - _now()))
    for child in children:
        if child.exitcode is None:
            child.terminate()
            child.join(5)
        if child.exitcode is None:
            child.kill()
            child.join()


def launch(processes: int, target: Callable[..., int], args: tuple) -> int:
    """Run `target(*args)` in `processes` new processes, ranks of one group on this machine; returns
    rank 0's exit code, or the first failure's. Ctrl-C reaches the processes from the terminal (they
    stop together); this one waits. When one fails, the others get GRACE_SECONDS, then are ended."""
    import multiprocessing.connection

    children = _ranks(range(processes), processes, free_port(), target, args)
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
                _end(alive, 0.0)
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
    print(f"error: process {rank} of {processes} failed ({_how(code)}); the others were stopped", file=sys.stderr)
    return 1


def _now() -> float:
    return time.monotonic()


# -- rank 0 in this process (the window) ---------------------------------------------------------------
class LocalGroup:
    """A run on `processes` processes of this machine whose rank 0 (`trainer`) trains on the thread that
    calls `run()`: the window's training thread, so its events, plots, Pause and Stop are rank 0's, and a
    Stop is agreed by every rank as under `--nproc`. Ranks 1.. are started by `run()` as `launch` starts
    them, each building the design from its plain data; they end with it."""

    def __init__(self, project, processes: int, *, base_dir, out_dir=None, overrides: dict[str, Any] | None = None):
        overrides = dict(overrides or {})
        section = {**(project.training or {}), **overrides}
        if section.get("mode") == "gan":
            raise TrainingError("mode gan trains on one process; set training.processes to 1 (choose one device "
                                "in the device box)", "settings")
        kind = device_kind(section.get("device", "auto"), processes, ("training.processes", "training.device"))
        self.rank = Rank(0, processes, 0, processes, kind)
        self.trainer = DistributedTrainer(project, self.rank, base_dir=base_dir, out_dir=out_dir, overrides=overrides)
        self.tags = {"distributed": {"processes": processes, "backend": self.rank.backend}}
        self._args = (to_dict(project), str(self.trainer.base_dir), overrides)

    def run(self):
        """Start ranks 1.., train as rank 0, end them; the run's last event (a process that failed named)."""
        import torch.multiprocessing as mp

        world, threads = self.rank.world, torch.get_num_threads()
        port = free_port()
        ready = mp.get_context("spawn").SimpleQueue()
        children = _ranks(range(1, world), world, port, _serve_rank, (*self._args, ready))
        for child in children:
            child.start()
        result = None
        try:
            result = self._wait_ready(children, ready)
            if result is None:
                with process_group(self.rank, port, WINDOW_TIMEOUT):
                    result = self.trainer.run()
                    if isinstance(result, Failed):
                        raise Abandon
        finally:
            torch.set_num_threads(threads)
            _end(children, GRACE_SECONDS if not isinstance(result, Failed) else 2.0)
        failed = next(((rank, c.exitcode) for rank, c in enumerate(children, 1) if c.exitcode), None)
        if isinstance(result, Failed) and result.reason == "error" and failed:   # a lost rank, not rank 0's bug
            return Failed(f"process {failed[0]} of {world} failed ({_how(failed[1])}); the run stopped (its error "
                          "is on the terminal that started LayerLoom)", "error", result.epoch, result.step)
        return result

    def _wait_ready(self, children: list, ready):
        """None once every rank has started (imported torch: seconds); a Failed, emitted, when one could not."""
        started = 0
        while started < len(children):
            if not ready.empty():
                ready.get()
                started += 1
                continue
            dead = next(((rank, c.exitcode) for rank, c in enumerate(children, 1) if c.exitcode is not None), None)
            if dead is not None:
                failed = Failed(f"process {dead[0]} of {self.rank.world} could not start ({_how(dead[1])}); its "
                                "error is on the terminal that started LayerLoom", "error")
                self.trainer.result = failed
                self.trainer.emit(failed)
                return failed
            time.sleep(0.05)
        return None


def _serve_rank(project_data: dict, base_dir: str, overrides: dict, ready) -> int:
    """Rank 1.. of a LocalGroup: train as the window's rank 0 does, silently (rank 0 reports)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C in the window's terminal: the window decides
    project = from_dict(project_data)
    rank = from_environment({**(project.training or {}), **overrides}.get("device", "auto"))
    ready.put(rank.rank)
    with process_group(rank, timeout=WINDOW_TIMEOUT):
        result = DistributedTrainer(project, rank, base_dir=base_dir, overrides=overrides).run()
        if isinstance(result, Failed):
            if result.reason in ("out_of_memory", "error"):   # else rank 0 has failed alike and says it
                print(f"error: process {rank.rank}: {result.message}", file=sys.stderr)
            raise Abandon
    return 1 if isinstance(result, Failed) else 0


def _how(code: int) -> str:
    return f"exit code {code}" if code > 0 else f"ended by signal {-code}"
