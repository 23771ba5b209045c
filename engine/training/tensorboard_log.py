"""`training.tensorboard: true`: the run's figures as TensorBoard event files in `<run>/tensorboard/`.

A subscriber like RunWriter (which makes one beside itself, so whatever writes a run folder writes
these too, and under several processes only rank 0 does). It adds nothing to the run's own work: it
writes what the events already carry. Per optimiser step the loss and learning rate; per epoch the
losses, the metrics, the learning rate and the speed (the epoch as TensorBoard's step); from the
sampled telemetry each layer's weight and activation histograms (`add_histogram_raw` from the
events' bin counts, no values copied again) and gradient norms. `tensorboard` is an optional extra:
`require()` is the check Trainer.prepare makes before any work when the setting is on.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.training.events import (
    Activations,
    EpochEnded,
    Event,
    Failed,
    Finished,
    GradientNorms,
    RunStarted,
    Step,
    TrainingError,
    WeightStats,
)

TENSORBOARD_DIR = "tensorboard"
MISSING = ('training.tensorboard is on, but the tensorboard package is not installed; install it with '
           '"pip install tensorboard" (or pip install -e ".[tensorboard]"), or set training.tensorboard to false')


def require() -> None:
    """Raise TrainingError (reason "settings") when TensorBoard's writer cannot be imported."""
    try:
        import tensorboard  # noqa: F401 -- torch.utils.tensorboard needs it
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise TrainingError(MISSING, "settings") from None


class TensorBoardLog:
    """Writes a run's events to `log_dir` when the run's settings have `tensorboard` on."""

    def __init__(self, log_dir: str | Path, trainer):
        self.log_dir = Path(log_dir)
        self.trainer = trainer
        self.writer = None
        trainer.subscribe(self)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._open(event)
        if self.writer is None:
            return
        if isinstance(event, Step):
            self._step(event)
        elif isinstance(event, EpochEnded):
            self._epoch(event)
        elif isinstance(event, WeightStats):
            for node, hist in event.layers.items():
                self._histogram(f"weights/{node}", hist.counts, hist.low, hist.high, hist.mean, hist.std, event.step)
        elif isinstance(event, GradientNorms):
            for node, norm in event.norms.items():
                self._scalar(f"gradient_norm/{node}", norm, event.step)
            self._scalar("gradient_norm/total", event.total, event.step)
        elif isinstance(event, Activations):
            for node, a in event.nodes.items():
                self._histogram(f"activations/{node}", a.histogram, a.low, a.high, a.mean, a.std, event.step)
        elif isinstance(event, (Finished, Failed)):
            self.writer.close()
            self.writer = None

    def _open(self, event: RunStarted) -> None:
        if not event.settings.get("tensorboard"):
            return
        from torch.utils.tensorboard import SummaryWriter

        # a resumed run drops what an earlier attempt logged after the checkpoint it goes on from
        resumed = getattr(self.trainer, "resume_from", None) is not None
        self.writer = SummaryWriter(str(self.log_dir), purge_step=self.trainer.global_step + 1 if resumed else None)

    def _scalar(self, tag: str, value: float | None, step: int) -> None:
        if value is not None and math.isfinite(value):
            self.writer.add_scalar(tag, value, step)

    def _step(self, e: Step) -> None:
        count = len(e.losses)
        for k, (loss, lr) in enumerate(zip(e.losses, e.lrs)):
            step = e.step - (count - 1 - k)
            self._scalar("step/loss", loss, step)
            self._scalar("step/lr", lr, step)

    def _epoch(self, e: EpochEnded) -> None:
        figures: dict[str, Any] = {"loss/train": e.train_loss, "loss/val": e.val_loss, "epoch/lr": e.lr,
                                   "epoch/seconds": e.seconds, "epoch/samples_per_s": e.samples_per_s}
        figures.update({f"{name}/train": v for name, v in e.train_metrics.items()})
        figures.update({f"{name}/val": v for name, v in e.val_metrics.items()})
        for tag, value in figures.items():
            self._scalar(tag, value, e.epoch)
        self.writer.flush()

    def _histogram(self, tag: str, counts: np.ndarray, low: float, high: float, mean: float, std: float,
                   step: int) -> None:
        """One histogram from the telemetry's equal bins over [low, high] and its mean and spread."""
        counts = np.asarray(counts, dtype=np.float64)
        num = float(counts.sum())
        if num <= 0 or not all(math.isfinite(v) for v in (low, high, mean, std)):
            return
        limits = np.linspace(low, high, len(counts) + 1)[1:]
        self.writer.add_histogram_raw(tag, min=low, max=high, num=num, sum=mean * num,
                                      sum_squares=(std * std + mean * mean) * num, bucket_limits=limits.tolist(),
                                      bucket_counts=counts.tolist(), global_step=step)

