"""The loss of each Output node (its `loss` parameter) and the metrics that go with it.

Several trained Outputs are summed, each times its `training.loss_weights` entry (default 1).
Classification outputs report `accuracy` (kl_div: the top class agrees with the target's);
regression outputs report `mae` (mean absolute error) and `r2` of what they predict (poisson_nll:
the rate; gaussian_nll: the mean), cosine_embedding the mean `cosine` similarity. With several Outputs, metric names are prefixed by the Output id
(`y.accuracy`). Metrics are accumulated on the device and read once per epoch.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from engine.data.prepare import TargetSpec
from engine.inference.stats import point_values

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _scores_first(out: torch.Tensor, spec: TargetSpec) -> torch.Tensor:
    """Class scores moved to dim 1, where torch's classification losses look for them."""
    return out.movedim(-1, 1) if spec.class_dim == "last" else out


def loss_function(spec: TargetSpec, label_smoothing: float = 0.0, huber_delta: float = 1.0) -> LossFn:
    last = spec.class_dim == "last"
    if spec.loss == "cross_entropy":
        if last:
            return lambda out, y: F.cross_entropy(out.movedim(-1, 1), y, label_smoothing=label_smoothing)
        if label_smoothing:
            return lambda out, y: F.cross_entropy(out, y, label_smoothing=label_smoothing)
        return F.cross_entropy
    if spec.loss == "nll":
        return (lambda out, y: F.nll_loss(out.movedim(-1, 1), y)) if last else F.nll_loss
    if spec.loss == "mse":
        return F.mse_loss
    if spec.loss == "l1":
        return F.l1_loss
    if spec.loss == "huber":
        return lambda out, y: F.huber_loss(out, y, delta=huber_delta)
    if spec.loss == "bce_with_logits":
        return F.binary_cross_entropy_with_logits
    return _other_loss(spec.loss, huber_delta)


def _bce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # torch refuses binary_cross_entropy under autocast (unsafe in half precision): float32, autocast off
    with torch.autocast(out.device.type, enabled=False):
        return F.binary_cross_entropy(out.float(), y.float())


def _gaussian_nll(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The last dimension's halves: the mean, and the variance before a softplus (any number is valid)."""
    mean, raw = out.chunk(2, dim=-1)
    return F.gaussian_nll_loss(mean, y, F.softplus(raw))


def _cosine_embedding(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """torch's pair loss with every pair similar (target 1): 1 - cos(output, target) over the last dimension."""
    flat, target = out.reshape(-1, out.shape[-1]), y.reshape(-1, y.shape[-1])
    return F.cosine_embedding_loss(flat, target, flat.new_ones(len(flat)))


def _other_loss(name: str, beta: float) -> LossFn:
    """Probabilities, likelihoods and directions. margin_ranking and triplet never get here: the data
    side refuses them, as no data set gives their pairs."""
    if name == "bce":
        return _bce
    if name == "kl_div":
        return lambda out, y: F.kl_div(out, y, reduction="batchmean")
    if name == "gaussian_nll":
        return _gaussian_nll
    if name == "poisson_nll":
        return F.poisson_nll_loss   # log_input=True: the output is the rate's logarithm
    if name == "smooth_l1":
        return lambda out, y: F.smooth_l1_loss(out, y, beta=beta)
    if name == "cosine_embedding":
        return _cosine_embedding
    raise ValueError(f"unknown loss {name!r}")


class Objective:
    """The total loss over all trained Outputs, and the metrics of each."""

    def __init__(self, specs: Sequence[TargetSpec], weights: dict[str, float], label_smoothing: float = 0.0,
                 huber_delta: float = 1.0):
        self.specs = list(specs)
        self.fns = [loss_function(s, label_smoothing, huber_delta) for s in self.specs]
        self.weights = [float(weights.get(s.node, 1.0)) for s in self.specs]
        self.single = len(self.specs) == 1 and self.weights[0] == 1.0

    def __call__(self, outputs: Sequence[torch.Tensor], targets: Sequence[torch.Tensor]) -> torch.Tensor:
        if self.single:
            return self.fns[0](outputs[0], targets[0])
        total = None
        for fn, w, out, y in zip(self.fns, self.weights, outputs, targets):
            term = fn(out, y) * w
            total = term if total is None else total + term
        return total

    def metric_names(self) -> list[str]:
        names = []
        for spec in self.specs:
            prefix = f"{spec.node}." if len(self.specs) > 1 else ""
            names.extend(prefix + k for k in metric_kinds(spec))
        return names


def metric_kinds(spec: TargetSpec) -> list[str]:
    if spec.task == "classification":
        return ["accuracy"]
    return ["cosine"] if spec.loss == "cosine_embedding" else ["mae", "r2"]


def _hits(out: torch.Tensor, y: torch.Tensor, spec: TargetSpec) -> torch.Tensor:
    if spec.loss == "bce_with_logits":
        return (out > 0) == (y > 0.5)
    if spec.loss == "bce":
        return (out > 0.5) == (y > 0.5)
    scores = _scores_first(out, spec).argmax(1)
    if spec.loss == "kl_div":
        return scores == _scores_first(y, spec).argmax(1)
    return scores == y


class MetricTotals:
    """Running sums for one pass over the data, kept on the device: each batch appends a few
    0-d tensors (no sync, no read-modify-write), summed once when the figures are read."""

    def __init__(self, objective: Objective, device: torch.device,
                 reduce: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.objective = objective
        self.device = device
        self.parts: list[list[torch.Tensor]] = [[] for _ in objective.specs]
        self.counts = [0] * len(objective.specs)
        self.losses: list[torch.Tensor] = []
        self.samples = 0
        self.reduce = reduce   # a run on several processes: the sum over them, taken once before reading

    def add(self, outputs: Sequence[torch.Tensor], targets: Sequence[torch.Tensor], loss: torch.Tensor | None,
            batch: int) -> None:
        # everything here works on detached tensors, so no autograd context is needed (it costs a few µs)
        self.samples += batch
        if loss is not None:
            self.losses.append(loss.detach() * batch)
        for k, (spec, out, y) in enumerate(zip(self.objective.specs, outputs, targets)):
            out = out.detach()
            if spec.task == "classification":
                hits = _hits(out, y, spec)
                self.parts[k].append(hits.sum())
                self.counts[k] += hits.numel()
            elif spec.loss == "cosine_embedding":
                cos = F.cosine_similarity(out.float(), y, dim=-1)
                self.parts[k].append(cos.sum())
                self.counts[k] += cos.numel()
            else:
                err = point_values(out, spec.loss).float() - y
                self.parts[k].append(torch.stack([err.abs().sum(), (err * err).sum(), y.sum(), (y * y).sum()]))
                self.counts[k] += err.numel()

    def _combine(self) -> None:
        """Every process's totals summed into each (one collective call, which every process makes
        at the same point of its run: the figures of an epoch are read by all alike)."""
        reduce, self.reduce = self.reduce, None
        if reduce is None:
            return
        widths = [4 if s.task != "classification" and s.loss != "cosine_embedding" else 1
                  for s in self.objective.specs]
        pieces = [torch.stack(self.losses).double().sum().reshape(1) if self.losses else
                  torch.zeros(1, dtype=torch.float64, device=self.device),
                  torch.tensor([len(self.losses), self.samples, *self.counts], dtype=torch.float64,
                               device=self.device)]
        pieces += [torch.stack(parts).double().sum(0).reshape(w) if parts else
                   torch.zeros(w, dtype=torch.float64, device=self.device) for parts, w in zip(self.parts, widths)]
        total = reduce(torch.cat([p.to(self.device) for p in pieces]))
        values = total.cpu().tolist()
        k = len(self.counts)
        self.losses = [total[:1].sum()] if values[1] else []
        self.samples = int(values[2])
        self.counts = [int(c) for c in values[3:3 + k]]
        self.parts, at = [], 3 + k
        for w in widths:
            self.parts.append([total[at:at + w].squeeze(0) if w == 1 else total[at:at + w]])
            at += w

    def loss(self) -> float:
        self._combine()
        if not self.losses:
            return float("nan")
        return float(torch.stack(self.losses).cpu().double().sum().item()) / max(self.samples, 1)

    def metrics(self) -> dict[str, float]:
        self._combine()
        out: dict[str, float] = {}
        many = len(self.objective.specs) > 1
        for spec, parts, count in zip(self.objective.specs, self.parts, self.counts):
            prefix = f"{spec.node}." if many else ""
            if count == 0:
                continue
            total = torch.stack(parts).cpu().double().sum(0).tolist()
            if spec.task == "classification":
                out[prefix + "accuracy"] = total / count
            elif spec.loss == "cosine_embedding":
                out[prefix + "cosine"] = total / count
            else:
                abs_sum, sse, sy, syy = total
                out[prefix + "mae"] = abs_sum / count
                variance = syy - sy * sy / count
                out[prefix + "r2"] = 1.0 - sse / variance if variance > 1e-12 else 0.0
        return out
