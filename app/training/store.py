"""RunData: one run's events, kept as the plots read them (Qt-free).

The adapter hands events over in batches; `add()` files each one and bumps a revision
counter per plot group, so that a redraw touches only what changed. Times are in epochs
(global step / steps per epoch), so that curves of runs with other batch sizes line up.

Long runs stay small: weight histograms and activation samples are thinned to at most
`MAX_SNAPSHOTS` per node (every other one dropped when full), and only the latest
activation sample of each node is kept whole.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from graph import registry

MAX_SNAPSHOTS = 400
SMOOTHING = 0.9   # exponential moving average of the step losses, debiased as TensorBoard does
GROUPS = ("loss", "metric", "weights", "gradients", "activations", "boundary", "samples", "progress")


class Series:
    """A growing table of floats (rows appended one at a time or many at once)."""

    def __init__(self, columns: int):
        self._data = np.empty((64, columns), dtype=np.float64)
        self.n = 0

    def append(self, *values: float) -> None:
        self.extend(np.array([values], dtype=np.float64))

    def extend(self, rows: np.ndarray) -> None:
        end = self.n + len(rows)
        if end > len(self._data):
            grown = np.empty((max(end, 2 * len(self._data)), self._data.shape[1]), dtype=np.float64)
            grown[:self.n] = self._data[:self.n]
            self._data = grown
        self._data[self.n:end] = rows
        self.n = end

    @property
    def array(self) -> np.ndarray:
        return self._data[:self.n]

    def column(self, index: int) -> np.ndarray:
        return self._data[:self.n, index]

    def __len__(self) -> int:
        return self.n


def _thin(items: list) -> None:
    """Keep every other entry (the newest always stays) when a history is full."""
    if len(items) > MAX_SNAPSHOTS:
        last = items[-1]
        del items[1::2]
        if items[-1] is not last:
            items.append(last)


@dataclass
class Progress:
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    steps_per_epoch: int = 0
    step: int = 0
    total_steps: int = 0
    samples_per_s: float = 0.0
    eta_s: float = math.inf
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


@dataclass(eq=False)
class Overlay:
    """An earlier run's curves, read from its folder, drawn dashed under the current ones.
    Compared by identity: the plots rebuild their overlay curves only when the runs change."""

    name: str
    steps_x: np.ndarray
    steps_loss: np.ndarray
    epochs: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    metrics: dict[str, np.ndarray] = field(default_factory=dict)   # "train_accuracy", "val_mae", ...

    @cached_property
    def smoothed(self) -> np.ndarray:
        """The step losses' moving average, computed once per run read (it takes tens of ms for 50k steps)."""
        return ema(self.steps_loss)


def ema(values: np.ndarray, weight: float = SMOOTHING) -> np.ndarray:
    out = np.empty_like(values, dtype=np.float64)
    last, count = 0.0, 0
    for i, v in enumerate(values):
        if not math.isfinite(v):
            out[i] = v
            continue
        count += 1
        last = last * weight + (1 - weight) * v
        out[i] = last / (1 - weight ** count)
    return out


class RunData:
    def __init__(self) -> None:
        self.started: Any = None          # RunStarted
        self.result: Any = None           # Finished | Failed
        self.status = "starting"          # starting, running, paused, stopping, finished, failed
        self.node_types: dict[str, str] = {}
        self.progress = Progress()
        # loss: x (epochs), step, loss, smoothed
        self.steps = Series(4)
        self._ema, self._ema_count = 0.0, 0
        self.epochs: list[Any] = []       # EpochEnded
        self.weights: dict[str, list[tuple[float, int, Any]]] = {}          # node -> [(x, step, Histogram)]
        self.gradients: dict[str, Series] = {}                               # node -> (x, step, norm)
        self.gradient_total = Series(3)
        self.activation_stats: dict[str, Series] = {}                        # node -> (x, step, mean, std, dead, zero)
        self.activation_latest: dict[str, Any] = {}                          # node -> ActivationSample
        self.boundary_points: Any = None
        self.boundary: Any = None
        self.boundary_problem: str | None = None
        self.samples: Any = None          # a GAN's latest Samples (engine.training.events)
        self.notes: list[str] = []
        self.revision = dict.fromkeys(GROUPS, 0)

    # -- filing events ----------------------------------------------------------------
    def add(self, event: Any) -> None:
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is not None:
            handler(event)

    def _bump(self, *groups: str) -> None:
        for g in groups:
            self.revision[g] += 1

    def x_of(self, step: int) -> float:
        spe = self.progress.steps_per_epoch
        return step / spe if spe else float(step)

    def _on_run_started(self, e) -> None:
        self.started = e
        self.status = "running"
        self.node_types = {layer.node: layer.type for layer in e.layers}
        p = self.progress
        p.epochs, p.steps_per_epoch = e.epochs, e.steps_per_epoch
        p.total_steps = e.epochs * e.steps_per_epoch
        p.epoch = e.start_epoch
        p.step = e.start_epoch * e.steps_per_epoch
        self._bump(*GROUPS)

    def _on_step(self, e) -> None:
        p = self.progress
        p.epoch, p.batch, p.step, p.steps_per_epoch = e.epoch, e.batch, e.step, e.steps_per_epoch
        p.samples_per_s, p.eta_s, p.elapsed_s = e.samples_per_s, e.eta_s, e.elapsed_s
        # one point per optimiser step when the event carries each step's loss, else its mean;
        # filed as one block (a fast run sends hundreds of steps a second)
        losses = tuple(getattr(e, "losses", ()) or ()) or (e.loss,)
        self._file_losses(np.arange(e.step - len(losses) + 1, e.step + 1, dtype=np.float64), losses)
        self._bump("loss", "progress")

    def _file_losses(self, steps: np.ndarray, losses) -> None:
        """Step losses as loss-plot rows (x, step, loss, smoothed), the moving average carried on."""
        smoothed = []
        ema, count = self._ema, self._ema_count
        for loss in losses:
            if math.isfinite(loss):
                count += 1
                ema = ema * SMOOTHING + (1 - SMOOTHING) * loss
                smoothed.append(ema / (1 - SMOOTHING ** count))
            else:
                smoothed.append(loss)
        self._ema, self._ema_count = ema, count
        spe = self.progress.steps_per_epoch
        self.steps.extend(np.column_stack([steps / spe if spe else steps, steps, losses, smoothed]))

    def _on_run_history(self, e) -> None:
        """A resumed run's earlier part (app.training.session.RunHistory), filed before its live steps."""
        self.epochs[:0] = e.epochs
        self._file_losses(np.asarray(e.steps, dtype=np.float64), np.asarray(e.losses, dtype=np.float64))
        self._bump("loss", "metric")

    def _on_epoch_ended(self, e) -> None:
        self.epochs.append(e)
        self.progress.epoch = e.epoch
        self._bump("loss", "metric", "progress")

    def _on_weight_stats(self, e) -> None:
        x = self.x_of(e.step)
        for node, hist in e.layers.items():
            history = self.weights.setdefault(node, [])
            history.append((x, e.step, hist))
            _thin(history)
        self._bump("weights")

    def _on_gradient_norms(self, e) -> None:
        x = self.x_of(e.step)
        for node, norm in e.norms.items():
            self.gradients.setdefault(node, Series(3)).append(x, e.step, norm)
        self.gradient_total.append(x, e.step, e.total)
        self._bump("gradients")

    def _on_activations(self, e) -> None:
        x = self.x_of(e.step)
        for node, sample in e.nodes.items():
            self.activation_stats.setdefault(node, Series(6)).append(
                x, e.step, sample.mean, sample.std, sample.dead_fraction, sample.zero_fraction)
            self.activation_latest[node] = sample
        self._bump("activations")

    def _on_boundary_points(self, e) -> None:
        self.boundary_points = e
        self._bump("boundary")

    def _on_boundary(self, e) -> None:
        self.boundary = e
        self._bump("boundary")

    def _on_boundary_unavailable(self, e) -> None:
        self.boundary_problem = e.message
        self._bump("boundary")

    def _on_samples(self, e) -> None:
        self.samples = e
        self._bump("samples")

    @property
    def adversarial(self) -> bool:
        """Whether the run is a GAN's (training.mode gan): its plots show two players and samples."""
        return self.started is not None and self.started.settings.get("mode") == "gan"

    def _on_paused(self, e) -> None:
        self.status = "paused"
        self._bump("progress")

    def _on_resumed(self, e) -> None:
        self.status = "running"
        self._bump("progress")

    def _on_note(self, e) -> None:
        self.notes.append(e.message)

    def _on_finished(self, e) -> None:
        self.result = e
        self.status = "finished"
        self._bump(*GROUPS)

    def _on_failed(self, e) -> None:
        self.result = e
        self.status = "failed"
        self._bump("progress")

    # -- reading ------------------------------------------------------------------------
    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(self.started.metrics) if self.started is not None else ()

    def main_metric(self) -> str | None:
        """The metric the metric plot shows: accuracy when there is one, else the error (mae)."""
        names = self.metric_names
        for name in names:
            if name.endswith("accuracy"):
                return name
        for name in names:
            if name.endswith("mae"):
                return name
        return names[0] if names else None

    def epoch_table(self) -> dict[str, np.ndarray]:
        """Per epoch: epoch, train_loss, val_loss and train_/val_ of each metric (NaN where absent)."""
        rows = self.epochs
        table = {
            "epoch": np.array([e.epoch for e in rows], dtype=np.float64),
            "train_loss": np.array([e.train_loss for e in rows], dtype=np.float64),
            "val_loss": np.array([np.nan if e.val_loss is None else e.val_loss for e in rows], dtype=np.float64),
        }
        for name in self.metric_names:
            table[f"train_{name}"] = np.array([e.train_metrics.get(name, np.nan) for e in rows], dtype=np.float64)
            table[f"val_{name}"] = np.array([e.val_metrics.get(name, np.nan) for e in rows], dtype=np.float64)
        return table

    def trained_epochs(self) -> float:
        """How far the run got, in epochs (a stopped run's last step may lie inside an epoch)."""
        last_step = float(self.steps.array[-1, 0]) if len(self.steps) else 0.0
        last_epoch = float(self.epochs[-1].epoch) if self.epochs else 0.0
        return max(last_step, last_epoch)

    def weight_nodes(self) -> list[str]:
        return list(self.weights)

    def activation_nodes(self) -> list[str]:
        return list(self.activation_stats)

    def _layer(self, node: str) -> registry.LayerType | None:
        kind = self.node_types.get(node)
        return registry.get(kind) if kind is not None else None

    def is_relu_like(self, node: str) -> bool:
        """Whether the node's type declares itself a rectifier, whose units can die."""
        layer = self._layer(node)
        return layer is not None and layer.rectifier

    def is_model_end(self, node: str) -> bool:
        """Whether the node is a model input or output (its type's role), which computes nothing."""
        layer = self._layer(node)
        return layer is not None and layer.role != "layer"

    def has_data(self, group: str) -> bool:
        """Whether a plot group has anything to draw (the tests check each plot got data)."""
        return {
            "loss": len(self.steps) > 0 or bool(self.epochs),
            "metric": any(e.train_metrics or e.val_metrics for e in self.epochs),
            "weights": bool(self.weights),
            "gradients": bool(self.gradients),
            "activations": bool(self.activation_stats),
            "boundary": self.boundary is not None,
            "samples": self.samples is not None,
            "progress": self.started is not None,
        }[group]
