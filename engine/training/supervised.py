"""Supervised training, the first training program: each Output with a loss learns its target.

One optimiser over the trainable parameters, its schedule, optional L1 penalty, gradient clipping
and mixed precision (a GradScaler for fp16); training metrics estimated on every 8th batch and a
validation pass per epoch. The loop, events, telemetry and checkpoints are the trainer's
(engine.training.program says who does what).
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import torch

from engine.data import BatchLoader, Split
from engine.training.losses import MetricTotals, Objective
from engine.training.optim import build_optimizer, build_schedule
from engine.training.program import TrainingProgram

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

TRAIN_METRIC_EVERY = 8          # training metrics are estimated on every 8th batch


def channels_last(xs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Image batches in the channels-last layout that `training.channels_last` asks for."""
    return tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in xs)


class Supervised(TrainingProgram):
    """Minimises the design's losses (engine.training.losses.Objective) over its Outputs' targets."""

    def __init__(self, trainer: Trainer):
        super().__init__(trainer)
        s, model, data = trainer.settings, trainer.model, trainer.data
        outputs = trainer.project.graph.outputs()
        self.settings = s
        self.l1_params = [p for name, p in model.named_parameters()
                          if p.requires_grad and "weight" in name.rsplit(".", 1)[-1]] if s.l1_penalty else []
        self.trained_index = [i for i, n in enumerate(outputs) if n.values()["loss"] != "none"]
        self.single_output = len(outputs) == 1
        self.objective = Objective(data.targets, s.loss_weights, s.label_smoothing, s.huber_delta)
        self.optimizer = build_optimizer(trainer.params, s, trainer.device.device)
        self.schedule = build_schedule(self.optimizer, s, trainer.steps_per_epoch)
        self.scaler = torch.amp.GradScaler(trainer.device.type) if trainer.amp_dtype == torch.float16 else None
        self.totals: MetricTotals | None = None
        # what a step reads, bound once (the step runs thousands of times a second on small models)
        self._simple = self.single_output and len(data.inputs) == 1 and self.objective.single
        self._loss_fn = self.objective.fns[0]
        self._autocast = trainer.autocast()
        self._eval_loaders: dict[int, BatchLoader] = {}   # by split: a host split's pinned buffers are kept

    def outputs(self, xs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The model's outputs that have a loss, for a batch of inputs."""
        out = self.trainer.forward(*xs)
        if self.single_output:
            return (out,)
        return tuple(out[i] for i in self.trained_index)

    def metric_names(self) -> list[str]:
        return self.objective.metric_names()

    def restore(self, checkpoint: dict[str, Any]) -> list[str]:
        notes = []
        try:
            self.optimizer.load_state_dict(checkpoint["optimizer"])
        except (ValueError, KeyError):
            notes.append("the optimizer changed since the checkpoint; its state starts afresh")
        if checkpoint.get("schedule_type") == self.settings.schedule.type:
            with contextlib.suppress(Exception):
                self.schedule.load_state_dict(checkpoint.get("schedule"), steps_done=int(checkpoint["step"]))
        if self.scaler is not None and checkpoint.get("scaler"):
            self.scaler.load_state_dict(checkpoint["scaler"])
        return notes

    def state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(),
                "schedule_type": self.settings.schedule.type,
                "schedule": self.schedule.state_dict(),
                "scaler": self.scaler.state_dict() if self.scaler is not None else None}

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    # -- an epoch --------------------------------------------------------------------------------
    def begin_epoch(self) -> None:
        self.totals = MetricTotals(self.objective, self.trainer.device.device, self.trainer.reduce)

    def step(self, xs: tuple[torch.Tensor, ...], ys: tuple[torch.Tensor, ...], batch_index: int,
             sample: bool) -> tuple[torch.Tensor, float]:
        s, optimizer, scaler = self.settings, self.optimizer, self.scaler
        if s.channels_last:
            xs = channels_last(xs)
        if self._autocast is not None:
            with self._autocast():
                outs = self.outputs(xs)
                loss = self.objective(outs, ys)
        elif self._simple:
            outs = (self.trainer.forward(xs[0]),)
            loss = self._loss_fn(outs[0], ys[0])
        else:
            outs = self.outputs(xs)
            loss = self.objective(outs, ys)
        if s.l1_penalty:
            loss = loss + s.l1_penalty * torch.stack([p.abs().sum() for p in self.l1_params]).sum()
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
        else:
            loss.backward()
        clip = s.grad_clip_norm
        if sample or clip:
            if scaler is not None:
                scaler.unscale_(optimizer)
            if sample:
                self.trainer.sample_gradients()
            if clip:
                torch.nn.utils.clip_grad_norm_(self.trainer.params, clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        lr = optimizer.param_groups[0]["lr"]
        if self.schedule.per_step:
            self.schedule.step_batch()
        if (batch_index - 1) % TRAIN_METRIC_EVERY == 0:
            self.totals.add(outs, ys, None, xs[0].shape[0])
        return loss, lr

    def train_metrics(self) -> dict[str, float]:
        return self.totals.metrics()

    def validate(self) -> tuple[float | None, dict[str, float]]:
        split = self.trainer.val_split
        if split is None:
            return None, {}
        result = self.evaluate(split)
        return (None, {}) if result is None else result

    def end_epoch(self, watched: float) -> None:
        self.schedule.step_epoch(watched)

    @torch.no_grad()
    def evaluate(self, split: Split) -> tuple[float, dict[str, float]] | None:
        """Loss and metrics over a split in eval mode; None when a stop interrupts it."""
        trainer = self.trainer
        model = trainer.model
        model.eval()
        totals = MetricTotals(self.objective, trainer.device.device, trainer.reduce)
        loader = self._eval_loaders.get(id(split))
        if loader is None or loader.split is not split:
            loader = self._eval_loaders[id(split)] = BatchLoader(split, trainer.eval_batch, shuffle=False,
                                                                 device=trainer.device.device)
        try:
            for xs, ys in loader:
                if trainer.stopping:
                    return None
                if self.settings.channels_last:
                    xs = channels_last(xs)
                if self._autocast is not None:
                    with self._autocast():
                        outs = self.outputs(xs)
                        loss = self.objective(outs, ys)
                else:
                    outs = self.outputs(xs)
                    loss = self.objective(outs, ys)
                totals.add(outs, ys, loss.float(), xs[0].shape[0])
        finally:
            model.train()
        return totals.loss(), totals.metrics()
