"""The trainer: runs a design's generated model over a data set and reports through events.

    trainer = Trainer(project, base_dir="path/of/the/loom", out_dir="runs/x")
    trainer.subscribe(print)          # called on the training thread with each event
    result = trainer.run()            # Finished or Failed (also the last event sent)

`stop()`, `pause()` and `resume()` may be called from any thread: a stop is honoured
after the step in flight (and inside a validation pass after the batch in flight), a
pause between steps. The model is built from exactly the source `export` writes
(engine.codegen), so the trained model and the exported code are one program.

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
from pathlib import Path
from typing import Any

import torch

from engine.data import BatchLoader, DataError, Prepared, Split, prepare_data
from engine.memory import available_bytes
from engine.training.checkpoint import cpu_state, load_checkpoint, load_initial_weights, save_checkpoint
from engine.training.device import DeviceInfo, autocast_dtype, resolve_device
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
)
from engine.training.losses import MetricTotals, Objective
from engine.training.optim import build_optimizer, build_schedule
from engine.training.settings import TrainingSettings, parse_training
from engine.training.telemetry import Sampler
from graph.analysis import Analysis, analyse
from graph.footprint import too_large
from graph.project import Project

CHECKPOINT_NAME = "checkpoint.pt"
AUTO_CHECKPOINT_SECONDS = 30.0
TRAIN_METRIC_EVERY = 8          # training metrics are estimated on every 8th batch
DEVICE_DATA_LIMIT = 2 << 30     # data sets up to 2 GiB are moved to the GPU once
SMALL_STEP_MACS = 50_000_000    # below this many multiply-adds per step one CPU thread is fastest

Callback = Callable[[Event], None]


class _Stop(Exception):
    pass


class _NonFinite(Exception):
    def __init__(self, value: float, epoch: int, step: int, batch: int):
        super().__init__(value)
        self.value, self.epoch, self.step, self.batch = value, epoch, step, batch


_OOM_ERRORS = (torch.cuda.OutOfMemoryError,) + ((torch.OutOfMemoryError,) if hasattr(torch, "OutOfMemoryError") else ())


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, _OOM_ERRORS):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                              or "DefaultCPUAllocator" in text)


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
        self.data: Prepared | None = None
        self.source: str = ""
        self.model: torch.nn.Module | None = None
        self.history: list[EpochEnded] = []
        self.result: Finished | Failed | None = None
        self.seed: int | None = None

    # -- events and control (any thread) -----------------------------------------------------
    def subscribe(self, callback: Callback) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callback) -> None:
        self._subscribers.remove(callback)

    def _emit(self, event: Event) -> None:
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
        self.device = resolve_device(s.device)
        device = self.device.device
        # weights, gradients and two optimiser moments; activations kept for the backward pass
        too_big = too_large(analysis, available_bytes(device), batch=2 * s.batch_size, weight_copies=4,
                            purpose=f"training with batch size {s.batch_size}")
        if too_big:
            raise TrainingError(f"{too_big[0]}: {too_big[1]}", "out_of_memory")
        self.threads = torch.get_num_threads()
        self.amp_dtype = autocast_dtype(s.mixed_precision, self.device)
        self.seed = s.seed if s.seed is not None else int.from_bytes(os.urandom(4), "little")
        torch.manual_seed(self.seed)
        try:
            data = self.data = prepare_data(project.data, project.graph, analysis, self.base_dir)
        except DataError as exc:
            raise TrainingError(str(exc), "data") from None
        from engine.codegen import CodegenError, build_model, generate_code

        try:  # the model is built from the very source that `export` writes and the run saves as model.py
            self.source = generate_code(project)
            model = build_model(project)
        except CodegenError as exc:
            raise TrainingError(f"the design cannot be compiled: {exc}", "graph") from None
        node_ids = [n.id for n in project.graph.nodes]
        self.node_ids = node_ids
        if s.initial_weights is not None:
            path = Path(s.initial_weights.path).expanduser()
            path = path if path.is_absolute() else self.base_dir / path
            loaded = load_initial_weights(model, path, s.initial_weights.nodes, set(node_ids))
            self._notes = [f"initial weights for {', '.join(loaded)} from {path.name}"]
        else:
            self._notes = []
        children = dict(model.named_children())
        frozen = [n.id for n in project.graph.nodes if not n.trainable and n.id in children]
        for node in frozen:
            children[node].requires_grad_(False)
        model.to(device)
        if s.channels_last:
            model.to(memory_format=torch.channels_last)
        self.model = model
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise TrainingError("nothing to train: the model has no trainable parameters (every layer is frozen "
                                "or has no weights)", "settings")
        self.params = params
        self.l1_params = [p for name, p in model.named_parameters()
                          if p.requires_grad and "weight" in name.rsplit(".", 1)[-1]] if s.l1_penalty else []
        self.trained_index = [i for i, n in enumerate(outputs) if n.values()["loss"] != "none"]
        self.single_output = len(outputs) == 1
        self.objective = Objective(data.targets, s.loss_weights, s.label_smoothing, s.huber_delta)
        # data on the device
        self.generator = torch.Generator().manual_seed(self.seed)
        on_gpu = device.type != "cpu"
        total_bytes = data.train.nbytes() + (data.val.nbytes() if data.val else 0)
        if on_gpu and total_bytes <= DEVICE_DATA_LIMIT:
            self.train_split, self.val_split = data.train.to(device), data.val.to(device) if data.val else None
        else:
            pin = on_gpu and device.type == "cuda"
            self.train_split = data.train.to(torch.device("cpu"), pin=pin) if pin else data.train
            self.val_split = (data.val.to(torch.device("cpu"), pin=pin) if pin else data.val) if data.val else None
        self.eval_batch = s.eval_batch_size or max(s.batch_size * 4, 256)
        self.train_loader = BatchLoader(self.train_split, s.batch_size, shuffle=True, device=device,
                                        generator=self.generator, augment=data.augment)
        self.steps_per_epoch = len(self.train_loader)
        self.optimizer = build_optimizer(params, s, device)
        self.schedule = build_schedule(self.optimizer, s, self.steps_per_epoch)
        self.scaler = torch.amp.GradScaler(device.type) if self.amp_dtype == torch.float16 else None
        self.threads = torch.get_num_threads()
        if device.type == "cpu":
            small = analysis.total_macs * s.batch_size < SMALL_STEP_MACS
            self.threads = s.threads or (1 if small else self.threads)
        self.forward = model
        if s.compile:
            try:
                self.forward = torch.compile(model)
            except Exception as exc:  # noqa: BLE001 -- compile is an optional speed-up
                self._notes.append(f"torch.compile is unavailable ({type(exc).__name__}: {exc}); running eagerly")
        probe_split = self.val_split or self.train_split
        probe = probe_split.head(s.telemetry.probe_samples).to(device) if probe_split is not None else None
        if self.forward is not model:  # compile lazily fails at the first call: find out now, on the probe
            try:
                with torch.no_grad():
                    self.forward(*probe.inputs)
            except Exception as exc:  # noqa: BLE001 -- compile is an optional speed-up
                self.forward = model
                self._notes.append(f"torch.compile failed ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                                   "running eagerly")
        input_ids = [spec.node for spec in data.inputs]
        self.sampler = Sampler(model, node_ids, s.telemetry, probe.inputs if probe else None, input_ids)
        # progress that a checkpoint carries
        self.start_epoch, self.global_step, self.skip_batches = 0, 0, 0
        self.best_val, self.best_epoch, self.bad_epochs, self.best_state = math.inf, None, 0, None
        self.epoch_generator_state = None
        self.pending: dict[str, Any] | None = None   # an epoch trained but not yet validated
        if self.resume_from is not None:
            self._restore(load_checkpoint(self.resume_from))
        self._prepared = True

    def _restore(self, ckpt: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:
            raise TrainingError(f"the checkpoint {self.resume_from} was made for a different design "
                                f"({str(exc).splitlines()[0]})", "settings") from None
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError):
            self._notes.append("the optimizer changed since the checkpoint; its state starts afresh")
        if ckpt.get("schedule_type") == self.settings.schedule.type:
            with contextlib.suppress(Exception):
                self.schedule.load_state_dict(ckpt.get("schedule"), steps_done=int(ckpt["step"]))
        if self.scaler is not None and ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
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
            if _is_oom(exc):
                self.result = self._oom()
            else:
                self.result = Failed(f"internal error: {type(exc).__name__}: {exc}", "error", *self._where(),
                                     details=traceback.format_exc())
        self._emit(self.result)
        return self.result

    def _where(self) -> tuple[int | None, int | None]:
        return (getattr(self, "epoch", None), getattr(self, "global_step", None))

    def _oom(self) -> Failed:
        bs = self.settings.batch_size if self.settings else "?"
        where = self.device.device if self.device else "the device"
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.empty_cache()
        step = getattr(self, "global_step", 0)
        return Failed(f"out of memory on {where} at step {step} with batch size {bs}: lower "
                      f"training.batch_size (now {bs}), or make the model smaller", "out_of_memory",
                      *self._where())

    def _autocast(self):
        if self.amp_dtype is None:
            return None
        return lambda: torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _outputs(self, xs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        out = self.forward(*xs)
        if self.single_output:
            return (out,)
        return tuple(out[i] for i in self.trained_index)

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
                          tuple(self.objective.metric_names()))

    def _train(self, started: float) -> Finished:
        s = self.settings
        self._emit(self._run_started())
        for note in self.data.notes + self._notes:
            self._emit(Note(note))
        model, optimizer, scaler, schedule = self.model, self.optimizer, self.scaler, self.schedule
        objective, sampler = self.objective, self.sampler
        forward = self.forward
        simple = self.single_output and len(self.data.inputs) == 1 and objective.single
        stop_requested, running = self._stop_event.is_set, self._go.is_set
        channels_last, per_step_schedule = s.channels_last, schedule.per_step
        loss_fn = objective.fns[0]
        autocast = self._autocast()
        on_cpu = self.device.type == "cpu" and not self.defer_loss_reads
        clip = s.grad_clip_norm
        l1, l1_params = s.l1_penalty, self.l1_params
        step_period = 1.0 / s.telemetry.step_hz
        total_steps = s.epochs * self.steps_per_epoch
        active_time = 0.0           # seconds spent training, pauses left out
        steps_this_run = 0
        self.epoch = self.start_epoch
        reason = "completed"
        last_checkpoint = time.perf_counter()
        stopped = False
        if self.start_epoch >= s.epochs:
            self._emit(Note(f"the checkpoint has already trained {self.start_epoch} epochs; raise the epochs "
                            "to train on"))
        for epoch in range(self.start_epoch + 1, s.epochs + 1):
            self.epoch = epoch
            model.train()
            self.epoch_generator_state = self.generator.get_state()
            skip, self.skip_batches = self.skip_batches, 0
            totals = MetricTotals(objective, self.device.device)
            loss_sum, loss_count = 0.0, 0               # sample-weighted, this epoch
            # the steps since the last Step event: losses (floats on the CPU; on accelerators 0-d device
            # tensors, read in one transfer when the event is due), learning rates, batch sizes
            step_losses: list = []
            step_lrs: list[float] = []
            step_sizes: list[int] = []
            epoch_start = time.perf_counter()
            last_event = epoch_start
            self.batch = skip
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
                if channels_last:
                    xs = tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in xs)
                if autocast is not None:
                    with autocast():
                        outs = self._outputs(xs)
                        loss = objective(outs, ys)
                elif simple:
                    outs = (forward(xs[0]),)
                    loss = loss_fn(outs[0], ys[0])
                else:
                    outs = self._outputs(xs)
                    loss = objective(outs, ys)
                if l1:
                    loss = loss + l1 * torch.stack([p.abs().sum() for p in l1_params]).sum()
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                else:
                    loss.backward()
                sample = sampler.due(step)
                if sample or clip:
                    if scaler is not None:
                        scaler.unscale_(optimizer)
                    if sample:
                        grads = sampler.gradient_norms(epoch, step)
                        if grads is not None:
                            self._emit(grads)
                    if clip:
                        torch.nn.utils.clip_grad_norm_(self.params, clip)
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                step_lrs.append(optimizer.param_groups[0]["lr"])
                if per_step_schedule:
                    schedule.step_batch()
                if on_cpu:  # reading the loss costs nothing here, so every step is checked at once
                    value = loss.item()
                    if not math.isfinite(value):
                        raise _NonFinite(value, epoch, step, batch_index)
                    step_losses.append(value)
                else:
                    step_losses.append(loss.detach())
                step_sizes.append(bs)
                loss_count += bs
                if (batch_index - 1) % TRAIN_METRIC_EVERY == 0:
                    totals.add(outs, ys, None, bs)
                steps_this_run += 1
                now = time.perf_counter()
                if now - last_event >= step_period or batch_index == self.steps_per_epoch:
                    values = step_losses if on_cpu else torch.stack(step_losses).float().cpu().tolist()
                    count = len(values)
                    if not on_cpu:
                        for k, v in enumerate(values):
                            if not math.isfinite(v):
                                raise _NonFinite(v, epoch, step - count + 1 + k, batch_index - count + 1 + k)
                    samples = sum(step_sizes)
                    weighted = sum(v * b for v, b in zip(values, step_sizes))
                    loss_sum += weighted
                    active = active_time + (now - epoch_start)
                    rate = steps_this_run / active if active > 0 else 0.0
                    self._emit(Step(epoch, step, batch_index, self.steps_per_epoch, count, weighted / samples,
                                    optimizer.param_groups[0]["lr"], samples / max(now - last_event, 1e-9),
                                    (total_steps - step) / rate if rate > 0 else math.inf, now - started,
                                    tuple(values), tuple(step_lrs)))
                    step_losses, step_lrs, step_sizes, last_event = [], [], [], now
                if sample:
                    self._emit(sampler.weight_stats(epoch, step))
                    acts = sampler.activations(epoch, step, autocast)
                    if acts is not None:
                        self._emit(acts)
            train_seconds = time.perf_counter() - epoch_start
            active_time += train_seconds
            if stopped:
                break
            train_loss = loss_sum / max(loss_count, 1)
            train_metrics = totals.metrics()
            if self.pending is not None and skip >= self.steps_per_epoch:  # resumed between training and validation
                train_loss, train_metrics = self.pending["train_loss"], dict(self.pending["train_metrics"])
                loss_count = self.pending["samples"]
            self.pending = None
            val_loss, val_metrics = self._validate(autocast)
            if self._stop_event.is_set() and val_loss is None and self.val_split is not None:
                self.pending = {"train_loss": train_loss, "train_metrics": train_metrics, "samples": loss_count}
                stopped = True
                break
            schedule.step_epoch(val_loss if val_loss is not None else train_loss)
            watched = val_loss if val_loss is not None else train_loss
            es = s.early_stopping
            improved = watched < self.best_val - (es.min_delta if es else 0.0)
            if improved:
                self.best_val, self.best_epoch, self.bad_epochs = watched, epoch, 0
                if es is not None and es.restore_best:
                    self.best_state = cpu_state(model.state_dict())
            else:
                self.bad_epochs += 1
            event = EpochEnded(epoch, s.epochs, train_loss, val_loss, train_metrics, val_metrics,
                               optimizer.param_groups[0]["lr"], time.perf_counter() - epoch_start,
                               loss_count / train_seconds if train_seconds > 0 else 0.0, improved)
            self.history.append(event)
            self._emit(event)
            if not math.isfinite(train_loss):
                raise _NonFinite(train_loss, epoch, self.global_step, self.batch)
            every = s.checkpoint_every
            due = (every and epoch % every == 0) or (
                not every and time.perf_counter() - last_checkpoint >= AUTO_CHECKPOINT_SECONDS)
            if due and epoch < s.epochs:
                self._checkpoint(epoch, 0)
                last_checkpoint = time.perf_counter()
            if es is not None and self.bad_epochs >= es.patience:
                reason = "early_stopping"
                self._emit(Note(f"early stopping: no better {'validation' if val_loss is not None else 'training'} "
                                f"loss for {es.patience} epochs (best {self.best_val:.4g} at epoch {self.best_epoch})"))
                break
            if self._stop_event.is_set():
                stopped = True
                break
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
            model.load_state_dict(self.best_state)
            restored = True
            self._emit(Note(f"restored the weights of epoch {self.best_epoch}, the best"))
        if not stopped:
            self._checkpoint(self.epoch if self.history else self.start_epoch, 0)
        final = self._final_figures(restored)
        if sampler.enabled and steps_this_run:
            self._emit(sampler.weight_stats(self.epoch, self.global_step))
            acts = sampler.activations(self.epoch, self.global_step, autocast)
            if acts is not None:
                self._emit(acts)
        epochs_done = len(self.history)
        return Finished(reason, epochs_done, self.global_step, time.perf_counter() - started, final, self.best_epoch)

    def _wait_paused(self) -> None:
        self._emit(Paused(self.epoch, self.global_step))
        while not self._go.wait(0.1):
            pass
        if not self._stop_event.is_set():
            self._emit(Resumed(self.epoch, self.global_step))

    @torch.no_grad()
    def _evaluate(self, split: Split, autocast) -> tuple[float, dict[str, float]] | None:
        """Loss and metrics over a split in eval mode; None when a stop interrupts it."""
        model = self.model
        model.eval()
        totals = MetricTotals(self.objective, self.device.device)
        loader = BatchLoader(split, self.eval_batch, shuffle=False, device=self.device.device)
        try:
            for xs, ys in loader:
                if self._stop_event.is_set():
                    return None
                if self.settings.channels_last:
                    xs = tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in xs)
                if autocast is not None:
                    with autocast():
                        outs = self._outputs(xs)
                        loss = self.objective(outs, ys)
                else:
                    outs = self._outputs(xs)
                    loss = self.objective(outs, ys)
                totals.add(outs, ys, loss.float(), xs[0].shape[0])
        finally:
            model.train()
        return totals.loss(), totals.metrics()

    def _validate(self, autocast) -> tuple[float | None, dict[str, float]]:
        if self.val_split is None:
            return None, {}
        result = self._evaluate(self.val_split, autocast)
        return (None, {}) if result is None else result

    def _final_figures(self, restored: bool) -> dict[str, float]:
        """The figures of the weights the run ends with."""
        if not self.history:
            return {}
        row = self.history[-1]
        if restored and self.best_epoch is not None:
            row = next((h for h in self.history if h.epoch == self.best_epoch), row)
        final = {"epoch": float(row.epoch), "train_loss": row.train_loss}
        if row.val_loss is not None:
            final["val_loss"] = row.val_loss
        final.update({f"train_{k}": v for k, v in row.train_metrics.items()})
        final.update({f"val_{k}": v for k, v in row.val_metrics.items()})
        return final

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
            "optimizer": self.optimizer.state_dict(),
            "schedule_type": self.settings.schedule.type,
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "epoch": epoch, "step": self.global_step, "batch": batch, "rng": rng,
            "best": {"val_loss": self.best_val, "epoch": self.best_epoch, "bad_epochs": self.bad_epochs},
            "best_state": self.best_state,
            "pending": self.pending,
            "history": [_epoch_row(h) for h in self.history],
        }
        save_checkpoint(path, payload)
        self._emit(CheckpointSaved(epoch, self.global_step, str(path)))


def _epoch_row(e: EpochEnded) -> dict[str, Any]:
    return {"epoch": e.epoch, "epochs": e.epochs, "train_loss": e.train_loss, "val_loss": e.val_loss,
            "train_metrics": dict(e.train_metrics), "val_metrics": dict(e.val_metrics), "lr": e.lr,
            "seconds": e.seconds, "samples_per_s": e.samples_per_s, "best": e.best}
