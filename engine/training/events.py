"""What a training run reports: small, immutable, typed events, one kind per message.

A trainer calls its subscribers with these events on the thread that runs it. They hold
only plain Python values and small NumPy arrays (never device tensors), so a GUI adapter
can hand them to another thread as they are. Each class has a `kind` string for adapters
that dispatch on a name (`event.kind == "step"`).

Order in a run: RunStarted; then Step, WeightStats, GradientNorms, Activations (sampled at a
bounded rate), EpochEnded, Samples (mode gan) and CheckpointSaved repeating, with Paused/Resumed/Note at any
time; and last exactly one of Finished or Failed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"


@dataclass(frozen=True)
class LayerSummary:
    """One node of the model as the run sees it."""

    node: str
    type: str
    output_shape: tuple[int, ...] | None  # without the batch dimension
    params: int
    trainable: bool


@dataclass(frozen=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run_started"
    project: str
    device: str                 # "cpu", "cuda:0", "mps"
    device_name: str            # "CPU (2 threads)", "NVIDIA H100 80GB HBM3"
    layers: tuple[LayerSummary, ...]
    total_params: int
    trainable_params: int
    train_samples: int
    val_samples: int
    batch_size: int
    steps_per_epoch: int
    epochs: int
    start_epoch: int            # 0 for a fresh run, the epochs already done when resumed
    dataset: str
    data_info: dict[str, Any]   # shapes, classes, what was converted
    mixed_precision: str        # "off", "bf16", "fp16"
    settings: dict[str, Any]    # the complete training settings, defaults filled in
    metrics: tuple[str, ...] = ()  # metric names in EpochEnded: "accuracy", or "mae" and "r2"


@dataclass(frozen=True)
class Step(Event):
    """Emitted at a bounded rate and at each epoch's last batch. It covers the `steps`
    optimiser steps since the previous Step: `losses` and `lrs` hold each one's loss and
    learning rate, `loss` is their (sample-weighted) mean and `lr` the rate now."""

    kind: ClassVar[str] = "step"
    epoch: int                  # 1-based
    step: int                   # global optimiser step, 1-based
    batch: int                  # 1-based step within the epoch
    steps_per_epoch: int
    steps: int                  # optimiser steps that this event covers
    loss: float
    lr: float
    samples_per_s: float
    eta_s: float                # estimated seconds left in the run (training steps only)
    elapsed_s: float
    losses: tuple[float, ...] = ()
    lrs: tuple[float, ...] = ()


@dataclass(frozen=True)
class EpochEnded(Event):
    kind: ClassVar[str] = "epoch_ended"
    epoch: int
    epochs: int
    train_loss: float
    val_loss: float | None
    train_metrics: dict[str, float]   # "accuracy" (classification) or "mae" and "r2" (regression)
    val_metrics: dict[str, float]
    lr: float
    seconds: float
    samples_per_s: float
    best: bool                        # the best validation loss so far


@dataclass(frozen=True)
class Histogram:
    """Counts over `bins` equal bins from `low` to `high`, with summary statistics."""

    counts: np.ndarray   # int64, shape (bins,)
    low: float
    high: float
    mean: float
    std: float
    norm: float = 0.0


@dataclass(frozen=True)
class WeightStats(Event):
    """Per node: the distribution of its weights (its bias-free parameters)."""

    kind: ClassVar[str] = "weight_stats"
    epoch: int
    step: int
    layers: dict[str, Histogram]


@dataclass(frozen=True)
class GradientNorms(Event):
    """Per node: the L2 norm of all its parameters' gradients at one step (before clipping)."""

    kind: ClassVar[str] = "gradient_norms"
    epoch: int
    step: int
    norms: dict[str, float]
    total: float


@dataclass(frozen=True)
class ActivationSample:
    """What one node produced for a fixed probe batch.

    dead_fraction: units (positions after the batch) that are <= 0 for every probe sample.
    sample: the node's output for the first probe sample, made small: at most
    `max_feature_maps` channels of at most 32x32 for feature maps (C, H, W), at most
    64x64 for sequences, 256 values for vectors; float32.
    """

    shape: tuple[int, ...]
    mean: float
    std: float
    low: float
    high: float
    zero_fraction: float
    dead_fraction: float
    histogram: np.ndarray
    sample: np.ndarray


@dataclass(frozen=True)
class Activations(Event):
    kind: ClassVar[str] = "activations"
    epoch: int
    step: int
    nodes: dict[str, ActivationSample]


@dataclass(frozen=True)
class Samples(Event):
    """A GAN's samples from its fixed noise batch, after each epoch (mode gan). Images are
    (N, C, H, W) floats; points are (N, 2) with `real` (some of the data, for the scatter's
    background); `modes`/`mode_count` and `quality` are the mode coverage of 2-D data with known
    modes (DESIGN §9), else None."""

    kind: ClassVar[str] = "samples"
    epoch: int
    step: int
    samples: np.ndarray
    real: np.ndarray | None = None
    modes: int | None = None            # modes covered
    mode_count: int | None = None       # modes the data has
    quality: float | None = None        # fraction of samples within 3 std of some mode's centre

    @property
    def points(self) -> bool:
        return self.samples.ndim == 2 and self.samples.shape[1] == 2


@dataclass(frozen=True)
class CheckpointSaved(Event):
    kind: ClassVar[str] = "checkpoint_saved"
    epoch: int
    step: int
    path: str


@dataclass(frozen=True)
class Paused(Event):
    kind: ClassVar[str] = "paused"
    epoch: int
    step: int


@dataclass(frozen=True)
class Resumed(Event):
    kind: ClassVar[str] = "resumed"
    epoch: int
    step: int


@dataclass(frozen=True)
class Note(Event):
    """Something the user should know that does not stop the run (a fallback, a conversion)."""

    kind: ClassVar[str] = "note"
    message: str


FINISH_REASONS = ("completed", "early_stopping", "stopped", "interrupted")


@dataclass(frozen=True)
class Finished(Event):
    """The run ended normally; `reason` is one of FINISH_REASONS.

    `final` holds the figures of the weights the run ends with (after early stopping has
    restored the best ones): "train_loss", "val_loss", "val_accuracy", ...
    """

    kind: ClassVar[str] = "finished"
    reason: str
    epochs_done: int
    steps: int
    seconds: float
    final: dict[str, float]
    best_epoch: int | None = None


FAILURE_KINDS = ("settings", "graph", "data", "device", "nan", "out_of_memory", "weights", "error")


@dataclass(frozen=True)
class Failed(Event):
    """The run could not start or could not go on; `message` says what to do about it."""

    kind: ClassVar[str] = "failed"
    message: str
    reason: str = "error"         # one of FAILURE_KINDS
    epoch: int | None = None
    step: int | None = None
    details: str = field(default="", repr=False)  # a traceback, for bugs only


class TrainingError(Exception):
    """A user-fixable problem that stops a run; `reason` is one of FAILURE_KINDS."""

    def __init__(self, message: str, reason: str = "error"):
        super().__init__(message)
        self.message = message
        self.reason = reason


def final_figures(history: list[EpochEnded], restored_epoch: int | None = None) -> dict[str, float]:
    """Finished.final: the figures of the last epoch, or of `restored_epoch` when early stopping
    restored its weights."""
    if not history:
        return {}
    row = history[-1]
    if restored_epoch is not None:
        row = next((h for h in history if h.epoch == restored_epoch), row)
    final = {"epoch": float(row.epoch), "train_loss": row.train_loss}
    if row.val_loss is not None:
        final["val_loss"] = row.val_loss
    final.update({f"train_{k}": v for k, v in row.train_metrics.items()})
    final.update({f"val_{k}": v for k, v in row.val_metrics.items()})
    return final
