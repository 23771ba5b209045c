"""`python main.py train FILE [--epochs N] [--device D] [--out DIR]`: train without a window.

A progress bar per epoch (loss and ETA) on stderr, one summary line per epoch on stdout,
and under DIR: metrics.csv, steps.csv, weights.safetensors, model.py, run.json and
checkpoint.pt (see engine.training.outputs). Ctrl-C stops after the step in flight, saves a
checkpoint and the other files, and exits 1 (DESIGN §4: 0, or 1 with a message); `--resume` goes on from that checkpoint.
Every user mistake (bad file, bad graph, bad data, absent device, NaN loss, out of memory)
ends with `error: message` and exit 1, never a traceback.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from engine.cli.common import CommandError, analysed, check_folder_writable, load_project
from engine.training import distributed
from engine.training.events import (
    CheckpointSaved,
    EpochEnded,
    Event,
    Failed,
    Finished,
    Note,
    Paused,
    RunStarted,
    Step,
    TrainingError,
)
from engine.training.outputs import METRICS_NAME, MODEL_NAME, RUN_NAME, STEPS_NAME, WEIGHTS_NAME, RunWriter
from engine.training.settings import design_processes
from engine.training.trainer import CHECKPOINT_NAME, Trainer

RUN_FILES = (METRICS_NAME, STEPS_NAME, WEIGHTS_NAME, MODEL_NAME, RUN_NAME, CHECKPOINT_NAME)


def _run_record(path: Path) -> dict | None:
    """run.json as a LayerLoom run wrote it, or None when there is none or it is someone else's file."""
    import json

    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == "layerloom-run" else None


def check_out_dir(out_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse, before any work, a results folder the run cannot use or would use to destroy something.

    A run writes only the files in RUN_FILES; the folder may hold anything else. Files of those
    names that no LayerLoom run made (the user's own model.py, say) are never replaced without
    --overwrite (DESIGN §8), and neither is a finished run.
    """
    check_folder_writable(out_dir, "--out")
    checkpoint = out_dir / CHECKPOINT_NAME
    if resume:
        if not checkpoint.is_file():
            raise CommandError(f"--resume: there is no {CHECKPOINT_NAME} in {out_dir} to go on from")
        return
    if overwrite:
        return
    record = _run_record(out_dir / RUN_NAME)
    if checkpoint.exists() or (record is not None and record.get("status") == "finished"):
        raise CommandError(f"{out_dir} already holds a run; pass --resume to go on with it, --overwrite to replace "
                           "it, or choose another --out")
    if record is None:
        theirs = [name for name in RUN_FILES if (out_dir / name).exists()]
        if theirs:
            raise CommandError(f"--out {out_dir} holds {', '.join(theirs)}, which no LayerLoom run wrote; choose "
                               "another --out, or pass --overwrite to replace them")


def default_out_dir(path: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{Path(path).stem}-{stamp}"


def format_metric(name: str, value: float) -> str:
    if name.endswith("accuracy"):
        return f"{name} {value * 100:.2f}%"
    return f"{name} {value:.4g}"


def epoch_line(e: EpochEnded) -> str:
    width = len(str(e.epochs))
    parts = [f"epoch {e.epoch:>{width}}/{e.epochs}", f"train loss {e.train_loss:.4f}"]
    if e.val_loss is not None:
        parts.append(f"val loss {e.val_loss:.4f}")
    metrics = e.val_metrics or e.train_metrics
    prefix = "val" if e.val_metrics else "train"
    parts += [f"{prefix} {format_metric(k, v)}" for k, v in metrics.items()]
    parts += [f"lr {e.lr:.2e}", f"{e.seconds:.1f}s" + (" *" if e.best else "")]
    return "  ".join(parts)


class Console:
    """Prints a run: a header, a tqdm bar per epoch, a line per epoch, notes and the ending."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.bar = None
        self.started: RunStarted | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.started = event
            data = f"{event.train_samples:,} training / {event.val_samples:,} validation samples"
            print(f"Training {event.project} on {event.device_name} [{event.device}]: {event.dataset}, {data}, "
                  f"{event.trainable_params:,} trainable parameters, batch {event.batch_size}, "
                  f"{event.epochs} epochs" + (f", mixed precision {event.mixed_precision}"
                                              if event.mixed_precision != "off" else ""), flush=True)
        elif isinstance(event, Step):
            self._step(event)
        elif isinstance(event, EpochEnded):
            self._close_bar()
            print(epoch_line(event), flush=True)
        elif isinstance(event, Note):
            self._write(f"note: {event.message}")
        elif isinstance(event, Paused):
            self._write("paused")
        elif isinstance(event, (Finished, Failed)):
            self._close_bar()
        elif isinstance(event, CheckpointSaved):
            pass

    def _write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    def _step(self, e: Step) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            epochs = self.started.epochs if self.started else e.epoch
            self.bar = tqdm(total=e.steps_per_epoch, desc=f"epoch {e.epoch}/{epochs}", unit="step", leave=False,
                            file=sys.stderr, dynamic_ncols=True, mininterval=0.2, initial=e.batch - e.steps,
                            postfix=f"loss {e.loss:.4f}")
        self.bar.set_postfix_str(f"loss {e.loss:.4f}", refresh=False)
        self.bar.update(e.steps)

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextmanager
def ctrl_c_stops(trainer: Trainer, announce: bool = True):
    """The first Ctrl-C asks the trainer to stop cleanly; a second one aborts at once."""
    asked = False

    def handler(signum, frame):
        nonlocal asked
        if asked:
            raise KeyboardInterrupt
        asked = True
        if announce:
            print("\nstopping after this step (press Ctrl-C again to abort without saving)", file=sys.stderr,
                  flush=True)
        trainer.stop("interrupted")

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(path: str, epochs: int | None = None, device: str | None = None, out: str | None = None,
        resume: bool = False, overwrite: bool = False, quiet: bool = False, nproc: int | None = None) -> int:
    """One run; with `nproc` > 1 it starts that many processes (engine.training.distributed), each of which
    comes back here as a rank (as one started by torchrun does), and returns when they have ended."""
    if nproc is not None and nproc < 1:
        raise CommandError(f"--nproc must be 1 or more, got {nproc}")
    try:
        project = load_project(path)
    except CommandError as exc:
        raise CommandError(str(exc), code=1) from None
    analysed(project)
    section = project.training or {}
    spec = device or section.get("device", "auto")
    try:
        rank = distributed.from_environment(spec)
    except TrainingError as exc:
        raise CommandError(str(exc)) from None
    if rank is not None and nproc is not None:
        raise CommandError("--nproc starts its processes itself; under torchrun (which sets RANK and WORLD_SIZE) "
                           "leave it out")
    if nproc is None and rank is None:   # the design's own training.processes (the device box's 'all N GPUs')
        nproc = design_processes(section)
    if nproc is not None and nproc > 1:
        if section.get("mode") == "gan":
            raise CommandError("mode gan trains on one process; leave out --nproc (and training.processes)")
        try:
            distributed.device_kind(spec, nproc)
        except TrainingError as exc:
            raise CommandError(str(exc)) from None
    leader = rank is None or rank.rank == 0
    out_dir = Path(out) if out else default_out_dir(path)
    checkpoint = out_dir / CHECKPOINT_NAME
    if leader:
        check_out_dir(out_dir, resume, overwrite)
        if overwrite and not resume:
            checkpoint.unlink(missing_ok=True)
    overrides = {}
    if epochs is not None:
        if epochs < 1:
            raise CommandError(f"--epochs must be 1 or more, got {epochs}")
        overrides["epochs"] = epochs
    if device is not None:
        overrides["device"] = device
    if nproc is not None and nproc > 1:
        return distributed.launch(nproc, run_rank, (path, epochs, device, str(out_dir), resume, overwrite, quiet))
    kwargs = {"base_dir": Path(path).resolve().parent, "out_dir": out_dir, "overrides": overrides,
              "resume_from": checkpoint if resume else None}
    if rank is None:
        return _train(Trainer(project, **kwargs), path, out_dir, quiet)
    with distributed.process_group(rank):
        trainer = distributed.DistributedTrainer(project, rank, **kwargs)
        if leader:
            print(f"{rank.world} processes ({rank.backend}), each a part of every batch", flush=True)
            return _train(trainer, path, out_dir, quiet, {"processes": rank.world, "backend": rank.backend})
        with ctrl_c_stops(trainer, announce=False):
            result = trainer.run()
        if isinstance(result, Failed) and result.reason in ("out_of_memory", "error"):  # else rank 0 says it too
            print(f"error: process {rank.rank}: {result.message}", file=sys.stderr)
        return 1 if isinstance(result, Failed) else 0


def run_rank(*args) -> int:
    """A process started by `--nproc` (distributed.launch): `run` as one rank; only rank 0 speaks."""
    try:
        return run(*args)
    except CommandError as exc:
        if os.environ.get("RANK") == "0":
            print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 1


def _train(trainer: Trainer, path: str, out_dir: Path, quiet: bool, processes: dict | None = None) -> int:
    """Train, printing as it goes and writing the run folder; the end of `run` (one process, or rank 0)."""
    console = Console(quiet)
    trainer.subscribe(console)
    RunWriter(out_dir, trainer, source_file=str(Path(path).resolve()),
              tags={"distributed": processes} if processes else None)
    with ctrl_c_stops(trainer):
        result = trainer.run()
    if isinstance(result, Failed):
        if result.reason == "error":
            raise CommandError(f"{result.message} (a LayerLoom bug: the traceback is in {out_dir / RUN_NAME})")
        raise CommandError(result.message)
    files = ", ".join(sorted(p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith(".")))
    figures = "  ".join(format_metric(k, v) if "loss" not in k else f"{k} {v:.4f}"
                        for k, v in result.final.items() if k != "epoch" and math.isfinite(v))
    print(f"{result.reason} after {result.epochs_done} epoch(s), {result.steps:,} steps in {result.seconds:.1f}s"
          + (f": {figures}" if figures else ""))
    print(f"wrote {out_dir}: {files}")
    if result.reason == "interrupted":
        again = f" --nproc {processes['processes']}" if processes else ""
        print(f"interrupted: checkpoint saved; go on with: python main.py train {path} --out {out_dir} --resume"
              + again, file=sys.stderr)
        return 1
    return 0
