"""The trainer: runs a design's generated model over a data set and reports through events.

    trainer = Trainer(project, base_dir="path/of/the/loom", out_dir="runs/x")
    trainer.subscribe(print)          # called on the training thread with each event
    result = trainer.run()            # Finished or Failed (also the last event sent)

`stop()`, `pause()` and `resume()` may be called from any thread: a stop is honoured
after the step in flight (and inside a validation pass after the batch in flight), a
pause between steps. The model is built from exactly the source `export` writes
(engine.codegen), so the trained model and the exported code are one program.

The trainer is what every kind of training shares (the loop, events, telemetry, checkpoints,
pause/stop/resume, the run folder's files); what one kind does in a step and at an epoch's end is
its training program (engine.training.program; supervised training is engine.training.supervised).

Nothing here imports Qt; a GUI runs `run()` in a worker thread and relays the events.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch

from engine.data import BatchLoader, DataError, Prepared, Split, prepare_data
from engine.memory import available_bytes
from engine.training.accelerate import (
    CompiledForward,
    LossReadings,
    compiled,
    configure_cuda,
    first_non_finite,
)
from engine.training.adversarial import Adversarial, gan_design
from engine.training.checkpoint import cpu_state, epoch_row, load_checkpoint, save_checkpoint
from engine.training.device import DeviceInfo, autocast_dtype, is_out_of_memory, place_splits, resolve_device
from engine.training.events import (
    CheckpointSaved,
    EpochEnded,
    Event,
    Failed,
    Finished,
    LayerSummary,
    Note,
    Paused,
    Resumed,
    RunStarted,
    Step,
    TrainingError,
    final_figures,
)
from engine.training.gan_design import GanDesign
from engine.training.program import TrainingProgram
from engine.training.run_model import build_run_model
from engine.training.settings import TrainingSettings, parse_training
from engine.training.supervised import Supervised
from engine.training.telemetry import Sampler
from engine.training.tensorboard_log import require as require_tensorboard
from graph.analysis import Analysis, analyse
from graph.footprint import too_large
from graph.project import Project

CHECKPOINT_NAME = "checkpoint.pt"
AUTO_CHECKPOINT_SECONDS = 30.0
SMALL_STEP_MACS = 50_000_000    # below this many multiply-adds per step one CPU thread is fastest

Callback = Callable[[Event], None]


class _NonFinite(Exception):
    def __init__(self, value: float, epoch: int, step: int, batch: int):
        super().__init__(value)
        self.value, self.epoch, self.step, self.batch = value, epoch, step, batch


class _Trained(NamedTuple):
    """One epoch's steps: weighted loss sum, samples, start (pauses left out), seconds, batches a resume skipped."""
    loss_sum: float
    samples: int
    start: float
    seconds: float
    skipped: int


@dataclass
class _Clock:
    """A run's timing: its start, seconds spent training (pauses left out), steps, last checkpoint."""
    started: float
    active: float = 0.0
    steps: int = 0
    last_checkpoint: float = field(default_factory=time.perf_counter)


class Trainer:
    """Trains one project. Settings come from `project.training`, data from `project.data`;
    `overrides` replaces training keys (the CLI's --epochs and --device)."""

    def __init__(self, project: Project, *, base_dir: str | os.PathLike | None = None,
                 out_dir: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None,
                 resume_from: str | os.PathLike | None = None, on_event: Callback | None = None):
        self.project = project
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.overrides = dict(overrides or {})
        self.resume_from = Path(resume_from) if resume_from is not None else None
        self._subscribers: list[Callback] = [on_event] if on_event else []
        self._stop_reason: str | None = None
        self._stop_event = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._prepared = False
        # read losses as on an accelerator (in batches, at Step events); on by itself off the CPU,
        # settable so that the tests exercise that path on a CPU
        self.defer_loss_reads = False
        # filled by prepare()
        self.settings: TrainingSettings | None = None
        self.analysis: Analysis | None = None
        self.device: DeviceInfo | None = None
        self.amp_dtype: torch.dtype | None = None
        self.threads = torch.get_num_threads()
        self.seed: int | None = None
        self.data: Prepared | None = None
        self.source: str = ""
        self.node_ids: list[str] = []
        self.model: torch.nn.Module | None = None
        self.forward: Callable[..., Any] | None = None      # the model, or torch.compile's wrapper of it
        self.params: list[torch.nn.Parameter] = []         # the trainable ones
        self.generator: torch.Generator | None = None      # the training order's random numbers
        self.train_split: Split | None = None
        self.val_split: Split | None = None
        self.eval_batch = 0
        self.train_loader: BatchLoader | None = None
        self.steps_per_epoch = 0
        self.sampler: Sampler | None = None
        self.program: TrainingProgram | None = None
        self.gan: GanDesign | None = None                  # mode gan: the design's two networks
        # a run on several processes (engine.training.distributed): this one's (rank, processes), which
        # shards the training batches, and the sum over the processes that the metrics' totals take
        self.shard: tuple[int, int] | None = None
        self.reduce: Callable[[torch.Tensor], torch.Tensor] | None = None
        self._notes: list[str] = []
        # progress, which a checkpoint carries
        self.epoch: int | None = None   # the epoch in flight, once the loop runs
        self.batch = 0
        self.start_epoch, self.global_step, self.skip_batches = 0, 0, 0
        self.best_val, self.best_epoch, self.bad_epochs = math.inf, None, 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.epoch_generator_state: torch.Tensor | None = None
        self.pending: dict[str, Any] | None = None   # an epoch trained but not yet validated
        self.history: list[EpochEnded] = []
        self.result: Finished | Failed | None = None

    # -- events and control (any thread) -----------------------------------------------------
    def subscribe(self, callback: Callback) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callback) -> None:
        self._subscribers.remove(callback)

    def emit(self, event: Event) -> None:
        """Send an event to the subscribers, on the training thread (programs send their own: a GAN's Samples)."""
        for callback in list(self._subscribers):
            callback(event)

    def stop(self, reason: str = "stopped") -> None:
        """Ask the run to end after the step in flight; it saves a checkpoint and finishes with `reason`."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stop_event.set()
        self._go.set()

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    # -- setting up ------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Check everything and build the model, data and optimiser; raises TrainingError."""
        if self._prepared:
            return
        project = self.project
        analysis = self.analysis = analyse(project.graph)
        if not analysis.valid:
            problems = "; ".join(str(d) for d in analysis.errors[:5])
            more = f" (and {len(analysis.errors) - 5} more)" if len(analysis.errors) > 5 else ""
            raise TrainingError(f"the design has {len(analysis.errors)} problem(s): {problems}{more}", "graph")
        outputs = project.graph.outputs()
        section = dict(project.training or {})
        section.update(self.overrides)
        s = self.settings = parse_training(section, [n.id for n in outputs])
        if s.tensorboard:   # an optional extra: said before any work, not at the first event
            require_tensorboard()
        self.device = resolve_device(s.device)
        device = self.device.device
        if device.type == "cuda":
            configure_cuda(s.tf32)
        # weights, gradients and two optimiser moments; activations kept for the backward pass
        too_big = too_large(analysis, available_bytes(device), batch=2 * s.batch_size, weight_copies=4,
                            purpose=f"training with batch size {s.batch_size}")
        if too_big:
            raise TrainingError(f"{too_big[0]}: {too_big[1]}", "out_of_memory")
        self.amp_dtype = autocast_dtype(s.mixed_precision, self.device)
        self.seed = s.seed if s.seed is not None else int.from_bytes(os.urandom(4), "little")
        torch.manual_seed(self.seed)
        self.gan = gan_design(self) if s.mode == "gan" else None
        try:
            data = self.data = prepare_data(project.data, project.graph, analysis, self.base_dir,
                                            real_input=self.gan.data if self.gan else None,
                                            keep_stored=device.type == "cuda")
        except DataError as exc:
            raise TrainingError(str(exc), "data") from None
        built = build_run_model(project, s, self.base_dir, device)
        self.source, model, self.params = built.source, built.model, built.params
        self._notes += built.notes
        self.model = model
        node_ids = self.node_ids = [n.id for n in project.graph.nodes]
        # data on the device
        self.generator = torch.Generator().manual_seed(self.seed)
        self.train_split, self.val_split = place_splits(data, device)
        self.eval_batch = s.eval_batch_size or max(s.batch_size * 4, 256)
        self.train_loader = BatchLoader(self.train_split, s.batch_size, shuffle=True, device=device,
                                        generator=self.generator, augment=data.augment, drop_last=s.compile,
                                        shard=self.shard)
        self.steps_per_epoch = len(self.train_loader)
        self.threads = torch.get_num_threads()
        if device.type == "cpu":
            small = analysis.total_macs * s.batch_size < SMALL_STEP_MACS
            self.threads = s.threads or (1 if small else self.threads)
        self.forward = model
        if s.compile:
            try:
                self.forward = CompiledForward(model, compiled(model), lambda note: self.emit(Note(note)))
            except Exception as exc:  # noqa: BLE001 -- compile is an optional speed-up
                self._notes.append(f"torch.compile is unavailable ({type(exc).__name__}: {exc}); running eagerly")
        self.program = Adversarial(self) if self.gan is not None else Supervised(self)
        probe_split = self.val_split or self.train_split
        probe = self.program.probe(probe_split.head(s.telemetry.probe_samples).to(device).decoded().inputs)
        self.sampler = Sampler(model, node_ids, s.telemetry, probe, [n.id for n in project.graph.inputs()])
        if self.resume_from is not None:
            self._restore(load_checkpoint(self.resume_from))
        self._prepared = True

    def _restore(self, ckpt: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:
            raise TrainingError(f"the checkpoint {self.resume_from} was made for a different design "
                                f"({str(exc).splitlines()[0]})", "settings") from None
        self._notes += self.program.restore(ckpt)
        self.start_epoch = int(ckpt["epoch"])
        self.global_step = int(ckpt["step"])
        self.skip_batches = int(ckpt.get("batch", 0))
        rng = ckpt.get("rng", {})
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if "generator" in rng:  # the state the next epoch to run starts from
            self.generator.set_state(rng["generator"])
        if "cuda" in rng and self.device.type == "cuda":
            with contextlib.suppress(Exception):
                torch.cuda.set_rng_state(rng["cuda"], self.device.device)
        best = ckpt.get("best", {})
        self.best_val = float(best.get("val_loss", math.inf))
        self.best_epoch = best.get("epoch")
        self.bad_epochs = int(best.get("bad_epochs", 0))
        self.best_state = ckpt.get("best_state")
        self.pending = ckpt.get("pending")
        self.history = [EpochEnded(**row) for row in ckpt.get("history", [])]
        self._notes.append(f"resumed from {self.resume_from} after epoch {self.start_epoch}"
                           + (f", batch {self.skip_batches}" if self.skip_batches else ""))

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> Finished | Failed:
        """Train to the end (or a stop); returns the last event, which is also emitted."""
        started = time.perf_counter()
        try:
            try:
                self.prepare()
            except DataError as exc:
                raise TrainingError(str(exc), "data") from None
            threads = torch.get_num_threads()
            if self.threads != threads:
                torch.set_num_threads(self.threads)
            try:
                self.result = self._train(started)
            finally:
                if torch.get_num_threads() != threads:
                    torch.set_num_threads(threads)
        except TrainingError as exc:
            self.result = Failed(exc.message, exc.reason, *self._where())
        except _NonFinite as exc:
            s = self.settings
            where = f"at step {exc.step} (epoch {exc.epoch}, batch {exc.batch})"
            clip = "" if s.grad_clip_norm else ", or set training.grad_clip_norm (e.g. 1.0)"
            self.result = Failed(f"the loss became {exc.value} {where}; lower training.learning_rate (now "
                                 f"{s.learning_rate:g}){clip}", "nan", exc.epoch, exc.step)
        except OSError as exc:  # a full disk or a folder gone while writing checkpoints: the machine's, not ours
            where = f" in {self.out_dir}" if self.out_dir is not None else ""
            self.result = Failed(f"cannot write the run's files{where} ({exc.strerror or exc}); free some space "
                                 "or choose another folder for the run", "settings", *self._where())
        except Exception as exc:  # noqa: BLE001 -- every failure must reach the user as an event
            if is_out_of_memory(exc):
                self.result = self._oom()
            else:
                self.result = Failed(f"internal error: {type(exc).__name__}: {exc}", "error", *self._where(),
                                     details=traceback.format_exc())
        self.emit(self.result)
        return self.result

    def _where(self) -> tuple[int | None, int | None]:
        return self.epoch, (self.global_step if self.program is not None else None)

    def _oom(self) -> Failed:
        bs = self.settings.batch_size if self.settings else "?"
        where = self.device.device if self.device else "the device"
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.empty_cache()
        step = self.global_step
        return Failed(f"out of memory on {where} at step {step} with batch size {bs}: lower "
                      f"training.batch_size (now {bs}), or make the model smaller", "out_of_memory",
                      *self._where())

    def autocast(self) -> Callable[[], contextlib.AbstractContextManager] | None:
        """A maker of the mixed-precision context, or None when mixed precision is off."""
        if self.amp_dtype is None:
            return None
        return lambda: torch.autocast(self.device.type, dtype=self.amp_dtype)

    def sample_gradients(self) -> None:
        """Send the gradient norms of the step in flight (a program calls it between backward and update)."""
        grads = self.sampler.gradient_norms(self.epoch, self.global_step)
        if grads is not None:
            self.emit(grads)

    def _run_started(self) -> RunStarted:
        s, data, analysis = self.settings, self.data, self.analysis
        layers = []
        for node in self.project.graph.nodes:
            info = analysis.nodes.get(node.id)
            shape = tuple(info.shape) if info is not None and info.shape is not None else None
            layers.append(LayerSummary(node.id, node.type, shape, info.params if info else 0, node.trainable))
        total = sum(p.numel() for p in self.model.parameters())
        trainable = sum(p.numel() for p in self.params)
        precision = {None: "off", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.amp_dtype]
        settings = s.as_dict()
        settings["seed"] = self.seed
        name = self.device.name
        if self.device.type == "cpu":
            settings["threads"] = self.threads
            name = f"CPU ({self.threads} thread{'s' if self.threads != 1 else ''})"
        info = dict(data.info)
        if data.notes:
            info["notes"] = list(data.notes)
        return RunStarted(self.project.name, str(self.device.device), name, tuple(layers), total,
                          trainable, len(data.train), len(data.val) if data.val else 0, s.batch_size,
                          self.steps_per_epoch, s.epochs, self.start_epoch, data.dataset, info, precision, settings,
                          tuple(self.program.metric_names()))

    def _train(self, started: float) -> Finished:
        s = self.settings
        self.emit(self._run_started())
        for note in self.data.notes + self._notes:
            self.emit(Note(note))
        clock = _Clock(started)
        self.epoch = self.start_epoch
        reason, stopped = "completed", False
        if self.start_epoch >= s.epochs:
            self.emit(Note(f"the checkpoint has already trained {self.start_epoch} epochs; raise the epochs "
                            "to train on"))
        for epoch in range(self.start_epoch + 1, s.epochs + 1):
            self.epoch = epoch
            trained = self._train_epoch(clock)
            outcome = "stopped" if trained is None else self._end_epoch(trained, clock)
            if outcome == "early_stopping":
                reason = outcome
            if outcome is not None:
                stopped = outcome == "stopped"
                break
        return self._finish(reason, stopped, clock)

    def _train_epoch(self, clock: _Clock) -> _Trained | None:
        """The steps of epoch `self.epoch` with their Step events and telemetry; None when a stop ends it."""
        s, program, sampler = self.settings, self.program, self.sampler
        epoch = self.epoch
        self.model.train()
        self.epoch_generator_state = self.generator.get_state()
        skip, self.skip_batches = self.skip_batches, 0
        program.begin_epoch()
        program_step = program.step
        stop_requested, running = self._stop_event.is_set, self._go.is_set
        readings = LossReadings(immediate=self.device.type == "cpu" and not self.defer_loss_reads)
        step_period = 1.0 / s.telemetry.step_hz
        total_steps = s.epochs * self.steps_per_epoch
        loss_sum, loss_count = 0.0, 0               # sample-weighted, this epoch
        epoch_start = time.perf_counter()
        last_event = epoch_start
        stopped = False
        self.batch = skip

        def report(now: float, wait: bool) -> None:
            """One Step event for the steps since the last one (their losses read from the device)."""
            nonlocal loss_sum, last_event
            taken = readings.take(self.global_step, wait=wait)
            if taken is None:
                return
            values, lrs, sizes, upto = taken
            step, batch_index = self.global_step, self.batch
            bad = first_non_finite(values)
            if bad is not None:
                back = upto - len(values) + 1 + bad
                raise _NonFinite(values[bad], epoch, back, batch_index - (step - back))
            samples = sum(sizes)
            weighted = sum(v * b for v, b in zip(values, sizes))
            loss_sum += weighted
            active = clock.active + (now - epoch_start)
            rate = clock.steps / active if active > 0 else 0.0
            self.emit(Step(epoch, upto, batch_index - (step - upto), self.steps_per_epoch, len(values),
                           weighted / samples, program.lr, samples / max(now - last_event, 1e-9),
                           (total_steps - step) / rate if rate > 0 else math.inf, now - clock.started,
                           tuple(values), tuple(lrs)))
            last_event = now

        for batch_index, (xs, ys) in enumerate(self.train_loader, 1):
            if batch_index <= skip:
                continue
            if stop_requested():
                stopped = True
                break
            if not running():
                paused_at = time.perf_counter()
                self._wait_paused()
                pause = time.perf_counter() - paused_at
                epoch_start += pause
                last_event += pause
                if self._stop_event.is_set():
                    stopped = True
                    break
            self.global_step += 1
            self.batch = batch_index
            step = self.global_step
            bs = xs[0].shape[0]
            sample = sampler.due(step)
            loss, lr = program_step(xs, ys, batch_index, sample)
            value = readings.add(loss, lr, bs)
            if value is not None and not math.isfinite(value):  # read at once on the CPU: checked at once
                raise _NonFinite(value, epoch, step, batch_index)
            loss_count += bs
            clock.steps += 1
            now = time.perf_counter()
            last = batch_index == self.steps_per_epoch
            if now - last_event >= step_period or last:
                report(now, last)
            if sample:
                self._sample_layers()
        if stopped:   # the steps since the last Step get theirs: steps.csv stays whole for a resume
            report(time.perf_counter(), True)
        seconds = time.perf_counter() - epoch_start
        clock.active += seconds
        return None if stopped else _Trained(loss_sum, loss_count, epoch_start, seconds, skip)

    def _end_epoch(self, trained: _Trained, clock: _Clock) -> str | None:
        """Validation, the EpochEnded event, best weights and checkpoints after an epoch's steps;
        returns "stopped" or "early_stopping" when the run ends here, else None."""
        s, program, epoch = self.settings, self.program, self.epoch
        train_loss = trained.loss_sum / max(trained.samples, 1)
        train_metrics = program.train_metrics()
        samples = trained.samples
        if self.pending is not None and trained.skipped >= self.steps_per_epoch:  # resumed before validation
            train_loss, train_metrics = self.pending["train_loss"], dict(self.pending["train_metrics"])
            samples = self.pending["samples"]
        self.pending = None
        val_loss, val_metrics = program.validate()
        if self._stop_event.is_set() and val_loss is None and self.val_split is not None:
            self.pending = {"train_loss": train_loss, "train_metrics": train_metrics, "samples": samples}
            return "stopped"
        watched = val_loss if val_loss is not None else train_loss
        program.end_epoch(watched)
        es = s.early_stopping
        improved = watched < self.best_val - (es.min_delta if es else 0.0)
        if improved:
            self.best_val, self.best_epoch, self.bad_epochs = watched, epoch, 0
            if es is not None and es.restore_best:
                self.best_state = cpu_state(self.model.state_dict())
        else:
            self.bad_epochs += 1
        event = EpochEnded(epoch, s.epochs, train_loss, val_loss, train_metrics, val_metrics, program.lr,
                           time.perf_counter() - trained.start, samples / trained.seconds if trained.seconds > 0
                           else 0.0, improved)
        self.history.append(event)
        self.emit(event)
        if not math.isfinite(train_loss):
            raise _NonFinite(train_loss, epoch, self.global_step, self.batch)
        every = s.checkpoint_every
        due = (every and epoch % every == 0) or (
            not every and time.perf_counter() - clock.last_checkpoint >= AUTO_CHECKPOINT_SECONDS)
        if due and epoch < s.epochs:
            self._checkpoint(epoch, 0)
            clock.last_checkpoint = time.perf_counter()
        if es is not None and self.bad_epochs >= es.patience:
            self.emit(Note(f"early stopping: no better {'validation' if val_loss is not None else 'training'} "
                            f"loss for {es.patience} epochs (best {self.best_val:.4g} at epoch {self.best_epoch})"))
            return "early_stopping"
        return "stopped" if self._stop_event.is_set() else None

    def _finish(self, reason: str, stopped: bool, clock: _Clock) -> Finished:
        """The last checkpoint, the best weights restored, the final telemetry and the Finished event."""
        s = self.settings
        if stopped:
            reason = self._stop_reason or "stopped"
            if self.batch < self.steps_per_epoch or self.pending is not None:
                # mid-epoch: a resume replays this epoch's order, skipping the batches done
                self._checkpoint(self.epoch - 1, self.batch, self.epoch_generator_state)
            else:
                self._checkpoint(self.epoch, 0)
        restored = False
        if (reason == "early_stopping" and s.early_stopping and s.early_stopping.restore_best
                and self.best_state is not None and self.best_epoch != self.epoch):
            self.model.load_state_dict(self.best_state)
            restored = True
            self.emit(Note(f"restored the weights of epoch {self.best_epoch}, the best"))
        if not stopped:
            self._checkpoint(self.epoch if self.history else self.start_epoch, 0)
        final = final_figures(self.history, self.best_epoch if restored else None)
        if self.sampler.enabled and clock.steps:
            self._sample_layers()
        return Finished(reason, len(self.history), self.global_step, time.perf_counter() - clock.started, final,
                        self.best_epoch)

    def _sample_layers(self) -> None:
        """Send the weight statistics and the probe's activations (telemetry's per-layer samples)."""
        self.emit(self.sampler.weight_stats(self.epoch, self.global_step))
        acts = self.sampler.activations(self.epoch, self.global_step, self.autocast())
        if acts is not None:
            self.emit(acts)

    def _wait_paused(self) -> None:
        self.emit(Paused(self.epoch, self.global_step))
        while not self._go.wait(0.1):
            pass
        if not self._stop_event.is_set():
            self.emit(Resumed(self.epoch, self.global_step))

    # -- checkpoints -----------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        return self.out_dir / CHECKPOINT_NAME if self.out_dir is not None else None

    def _checkpoint(self, epoch: int, batch: int, generator_state: torch.Tensor | None = None) -> None:
        """Save the run; `epoch` epochs are complete and `batch` batches of the next one are done."""
        path = self.checkpoint_path
        if path is None:
            return
        rng = {"torch": torch.get_rng_state(),
               "generator": generator_state if generator_state is not None else self.generator.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device.device)
        payload = {
            "model": cpu_state(self.model.state_dict()),
            **self.program.state(),
            "epoch": epoch, "step": self.global_step, "batch": batch, "rng": rng,
            "best": {"val_loss": self.best_val, "epoch": self.best_epoch, "bad_epochs": self.bad_epochs},
            "best_state": self.best_state,
            "pending": self.pending,
            "history": [epoch_row(h) for h in self.history],
        }
        save_checkpoint(path, payload)
        self.emit(CheckpointSaved(epoch, self.global_step, str(path)))

