"""The training program interface: what one kind of training does, apart from what every kind shares.

The trainer (engine.training.trainer) owns what every run shares: the design checked and its model
built, the data on the device, the loop over epochs and batches, pause/stop/resume, the events and
their timing, telemetry, checkpoints, early stopping and the run folder. A program owns what
differs between objectives: its optimisers and losses, one optimisation step, validation and the
end of an epoch, and the part of a checkpoint that is its own. Supervised training
(engine.training.supervised) is the first program; another objective (adversarial, a VAE,
self-supervised) is one new module subclassing `TrainingProgram`.

Nothing here imports Qt.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import torch

    from engine.training.trainer import Trainer


class TrainingProgram(ABC):
    """One kind of training. Made by the trainer in `prepare()` once the model, the data and
    the trainer's settings are there; it reads them from `self.trainer` and never runs the loop."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer

    # -- set up (once, from Trainer.prepare) --------------------------------------------------------
    @abstractmethod
    def metric_names(self) -> list[str]:
        """The metrics its epochs report (RunStarted lists them)."""

    def probe(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The model's inputs for the telemetry probe, from the data's probe samples (as they are,
        unless the model takes inputs the data does not give, such as a GAN's noise)."""
        return inputs

    @abstractmethod
    def restore(self, checkpoint: dict[str, Any]) -> list[str]:
        """Take up the program's part of a checkpoint (see `state`); returns notes for the user."""

    # -- each epoch ------------------------------------------------------------------------------
    def begin_epoch(self) -> None:
        """Called before an epoch's first step (also when a resume skips some of its batches)."""

    @abstractmethod
    def step(self, xs: tuple[torch.Tensor, ...], ys: tuple[torch.Tensor, ...], batch_index: int,
             sample: bool) -> tuple[torch.Tensor, float]:
        """One optimisation step on a batch: returns its loss (a 0-d tensor; the trainer reads it) and
        the learning rate the step used. When `sample` is true the program calls
        `trainer.sample_gradients()` once, after the backward pass and before the update."""

    @abstractmethod
    def train_metrics(self) -> dict[str, float]:
        """The metrics of the epoch's training steps."""

    @abstractmethod
    def validate(self) -> tuple[float | None, dict[str, float]]:
        """Validation loss and metrics; (None, {}) without validation data or when a stop cut it short."""

    def end_epoch(self, watched: float) -> None:
        """After an epoch and its validation; `watched` is the loss early stopping watches."""

    @property
    @abstractmethod
    def lr(self) -> float:
        """The learning rate now (the Step and EpochEnded events report it)."""

    # -- checkpoints -----------------------------------------------------------------------------
    @abstractmethod
    def state(self) -> dict[str, Any]:
        """The program's part of a checkpoint (its optimisers, schedules...), merged into the file."""

    # -- the run folder --------------------------------------------------------------------------
    def write_files(self, out_dir: Path) -> dict[str, str]:
        """Files of its own in a finished run's folder (run.json's "files": key -> name); none by default."""
        return {}
