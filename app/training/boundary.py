"""The decision boundary of a classifier of two-number inputs (spiral, moons, circles, xor,
two-feature blobs): the model is evaluated on a grid over the data, in eval mode, without
gradients, on the training thread at the end of an epoch (the trainer's model is between
steps there, and the GUI thread never runs torch). The result is a small RGBA image: each
cell takes the colour of its predicted class, brighter where the model is surer.

Qt-free; torch is imported only by the functions that run on the training thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graph import losses

GRID = 128          # cells per side of the image shown
EVAL_GRID = 48      # points per side the model is evaluated on (its scores are interpolated up to GRID)
MAX_POINTS = 900    # training points drawn over the boundary
MARGIN = 0.08       # of the data's range, on every side
BACKGROUND = (30, 30, 32)
CLASS_COLORS = ((72, 140, 240), (245, 135, 50), (70, 190, 90), (225, 60, 90), (160, 90, 220),
                (60, 200, 210), (230, 90, 200), (200, 220, 70), (150, 150, 150), (240, 200, 120))


def class_color(index: int) -> tuple[int, int, int]:
    return CLASS_COLORS[index % len(CLASS_COLORS)]


@dataclass(frozen=True)
class BoundaryPoints:
    """Sent once per run: a sample of the training points and the region the grid covers."""

    kind: ClassVar[str] = "boundary_points"
    points: np.ndarray                          # (n, 2) float32
    labels: np.ndarray                          # (n,) int64
    classes: tuple[str, ...]
    extent: tuple[float, float, float, float]   # x0, x1, y0, y1


@dataclass(frozen=True)
class BoundaryFrame:
    """The boundary after `epoch` epochs (0: the initial weights)."""

    kind: ClassVar[str] = "boundary"
    epoch: int
    image: np.ndarray                           # (GRID, GRID, 4) uint8; row i is y, column j is x
    extent: tuple[float, float, float, float]


def boundary_problem(trainer: Any) -> str | None:
    """Why this run has no decision boundary view, or None when it has one."""
    data = trainer.data
    if data is None:
        return "the data is not prepared"
    if len(data.inputs) != 1 or tuple(data.inputs[0].shape) != (2,) or data.inputs[0].dtype != "float32":
        return "it is drawn for models with one Input of shape [2] (spiral, moons, circles, xor, blobs)"
    target = data.targets[0] if data.targets else None
    if target is None or target.task != "classification":
        return "it is drawn for classification (an Output with cross_entropy, nll, kl_div, bce or bce_with_logits)"
    if losses.class_scores(target.loss) and not (len(target.shape) == 1 and target.class_dim == "first"):
        return "it is drawn when the Output gets one score per class"
    if losses.binary(target.loss) and tuple(target.shape) not in ((), (1,)):
        return "it is drawn when the Output gets one score per class"
    return None


class BoundaryProbe:
    """Evaluates one trainer's model on the grid. Make it with `for_trainer` after the
    trainer is prepared (at its RunStarted event); call only on the training thread."""

    def __init__(self, trainer: Any):
        import torch

        self.trainer = trainer
        split = trainer.train_split
        x = split.inputs[0].detach().float().cpu()
        low, high = x.min(0).values, x.max(0).values
        span = torch.clamp(high - low, min=1e-6)
        low, high = low - span * MARGIN, high + span * MARGIN
        self.extent = (float(low[0]), float(high[0]), float(low[1]), float(high[1]))
        xs = torch.linspace(self.extent[0], self.extent[1], EVAL_GRID)
        ys = torch.linspace(self.extent[2], self.extent[3], EVAL_GRID)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        self.grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).to(trainer.device.device)
        target = trainer.data.targets[0]
        self.binary = losses.binary(target.loss)
        self.logit = target.loss == "bce_with_logits"   # bce's output is the probability itself
        count = 2 if self.binary else int(target.shape[0])
        classes = list(trainer.data.classes or [])
        self.classes = tuple(classes[:count] + [str(i) for i in range(len(classes), count)])
        labels = split.targets[0].detach().cpu()
        if self.binary:
            labels = labels.reshape(-1).round().long()
        elif labels.dim() > 1:   # kl_div's one-hot targets
            labels = labels.argmax(1)
        labels = labels.long()
        order = np.random.default_rng(0).permutation(len(x))[:MAX_POINTS]
        self._points = BoundaryPoints(x.numpy()[order].astype(np.float32), labels.numpy()[order].astype(np.int64),
                                      self.classes, self.extent)
        base = np.array([class_color(i) for i in range(count)], dtype=np.float32)
        self._colors = torch.from_numpy(base)
        self._chance = 1.0 / count

    @classmethod
    def for_trainer(cls, trainer: Any) -> BoundaryProbe | None:
        if boundary_problem(trainer) is not None:
            return None
        return cls(trainer)

    def points(self) -> BoundaryPoints:
        return self._points

    def frame(self, epoch: int) -> BoundaryFrame:
        import torch

        trainer = self.trainer
        model = trainer.model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                out = model(self.grid)
                if not trainer.program.single_output:
                    out = out[trainer.program.trained_index[0]]
                out = out.float()
                if self.binary:
                    p = out.reshape(-1)
                    p = torch.sigmoid(p) if self.logit else p.clamp(0.0, 1.0)
                    probs = torch.stack([1.0 - p, p], 1)
                else:
                    probs = torch.softmax(out, 1)
                probs = probs.cpu().T.reshape(1, -1, EVAL_GRID, EVAL_GRID)
                probs = torch.nn.functional.interpolate(probs, size=(GRID, GRID), mode="bilinear",
                                                        align_corners=True)[0]
                conf, cls = probs.reshape(probs.shape[0], -1).max(0)
        finally:
            model.train(was_training)
        sure = ((conf - self._chance) / (1.0 - self._chance)).clamp(0.0, 1.0)
        sure = torch.nan_to_num(sure, nan=0.0)
        weight = (0.22 + 0.6 * sure)[:, None]
        background = torch.tensor(BACKGROUND, dtype=torch.float32)
        rgb = background + (self._colors[cls] - background) * weight
        image = torch.cat([rgb, torch.full((rgb.shape[0], 1), 255.0)], 1)
        image = image.round().clamp(0, 255).to(torch.uint8).reshape(GRID, GRID, 4).numpy()
        return BoundaryFrame(epoch, image, self.extent)
