"""Optimisers and learning-rate schedules from the training settings."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from engine.training.settings import TrainingSettings


def build_optimizer(params: list[torch.nn.Parameter], s: TrainingSettings,
                    device: torch.device) -> torch.optim.Optimizer:
    fused = {"fused": True} if device.type == "cuda" else {}  # one kernel for the whole update on CUDA
    kind = s.optimizer
    if kind == "sgd":
        return torch.optim.SGD(params, lr=s.learning_rate, momentum=s.momentum, nesterov=s.nesterov,
                               weight_decay=s.weight_decay)
    if kind == "adam":
        return torch.optim.Adam(params, lr=s.learning_rate, betas=s.betas, eps=s.eps,
                                weight_decay=s.weight_decay, **fused)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=s.learning_rate, betas=s.betas, eps=s.eps,
                                 weight_decay=s.weight_decay, **fused)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=s.learning_rate, alpha=s.alpha, eps=s.eps, momentum=s.momentum,
                                   weight_decay=s.weight_decay)
    raise ValueError(f"unknown optimizer {kind!r}")


@dataclass
class Schedule:
    """A scheduler and when to step it: after every optimiser step, or once per epoch."""

    scheduler: object | None
    per_step: bool = False
    on_val_loss: bool = False

    def step_batch(self) -> None:
        if self.per_step and self.scheduler is not None:
            self.scheduler.step()

    def step_epoch(self, val_loss: float | None) -> None:
        if self.scheduler is None or self.per_step:
            return
        if self.on_val_loss:
            if val_loss is not None:
                self.scheduler.step(val_loss)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict | None:
        return self.scheduler.state_dict() if self.scheduler is not None else None

    def load_state_dict(self, state: dict | None, steps_done: int = 0) -> None:
        """Go on from a checkpoint's schedule. A per-step schedule planned for another total (the run is
        resumed with more or fewer epochs) is re-planned for the new total instead: the learning rate
        goes on from where the new plan stands after `steps_done` steps (docs/training.md)."""
        if self.scheduler is None or state is None:
            return
        planned = _planned_steps(self.scheduler.state_dict())
        if self.per_step and planned is not None and _planned_steps(state) != planned:
            with warnings.catch_warnings():  # stepping a schedule without an optimiser step warns
                warnings.simplefilter("ignore", UserWarning)
                for _ in range(min(steps_done, planned)):
                    self.scheduler.step()
            return
        self.scheduler.load_state_dict(state)


def _planned_steps(state: dict) -> int | None:
    """The number of steps a schedule's state was planned for (one_cycle, cosine), or None."""
    return state.get("total_steps", state.get("T_max"))


def build_schedule(optimizer: torch.optim.Optimizer, s: TrainingSettings, steps_per_epoch: int) -> Schedule:
    kind, o = s.schedule.type, s.schedule.options
    total = max(1, s.epochs * steps_per_epoch)
    sched = torch.optim.lr_scheduler
    if kind == "none":
        return Schedule(None)
    if kind == "step":
        return Schedule(sched.StepLR(optimizer, step_size=o["step_size"], gamma=o["gamma"]))
    if kind == "cosine":
        return Schedule(sched.CosineAnnealingLR(optimizer, T_max=total, eta_min=o["min_lr"]), per_step=True)
    if kind == "one_cycle":
        return Schedule(sched.OneCycleLR(optimizer, max_lr=s.learning_rate, total_steps=total,
                                         pct_start=o["pct_start"], div_factor=o["div_factor"],
                                         final_div_factor=o["final_div_factor"]), per_step=True)
    if kind == "plateau":
        return Schedule(sched.ReduceLROnPlateau(optimizer, mode="min", factor=o["factor"], patience=o["patience"],
                                                threshold=o["threshold"], min_lr=o["min_lr"]), on_val_loss=True)
    raise ValueError(f"unknown schedule {kind!r}")
