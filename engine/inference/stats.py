"""The numbers prediction reports: class probabilities, the spread of MC-dropout passes, and
a tensor's summary for the trace. Pure functions of tensors, so each is checked by hand in tests.

Entropies are in nats (natural logarithm), as in the MC-dropout literature (Gal, 2016): at most
ln C for C classes (ln 2 = 0.693 for two). Over T passes with class probabilities p_t:

    mean                 p̄ = (1/T) Σ p_t               std  per class, over the passes (ddof 0)
    predictive entropy   H[p̄] = -Σ_c p̄_c ln p̄_c        (all the uncertainty)
    mutual information   H[p̄] - (1/T) Σ_t H[p_t]        (the epistemic part: how much the passes,
                                                         i.e. the weights, disagree)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from graph import losses


@dataclass(frozen=True)
class OutputKind:
    """How to read one Output node's values. `class_dim`: where its class scores lie in a sample,
    "first" ((C, ...), torch's convention) or "last" ((..., C), sequences); None for values."""

    node: str
    loss: str
    shape: tuple[int, ...]
    class_dim: str | None = None
    classes: tuple[str, ...] | None = None

    @property
    def task(self) -> str:
        return "classification" if losses.is_classification(self.loss) else "regression"


def guess_class_dim(shape: tuple[int, ...]) -> str:
    """Where the class scores lie when no data set says (its labels' shape decides in training): a
    vector's one dimension, a sequence's last ((L, C), batch-first), else the first ((C, H, W))."""
    return "last" if len(shape) == 2 else "first"


def probabilities(out: torch.Tensor, kind: OutputKind) -> torch.Tensor:
    """(N, *sample) scores as (N, ..., C) probabilities, the classes last. cross_entropy scores are
    logits, nll and kl_div ones log-probabilities: softmax reads both. bce_with_logits gives one logit
    per element and bce one probability (the output itself, after its Sigmoid), read as the two classes
    (1 - p, p)."""
    out = out.detach().float()
    if losses.binary(kind.loss):
        p = torch.sigmoid(out) if kind.loss == "bce_with_logits" else out.clamp(0.0, 1.0)
        if out.dim() == 2 and out.shape[1] == 1:
            p = p[:, 0]
        return torch.stack([1.0 - p, p], dim=-1)
    if kind.class_dim == "first" and out.dim() > 2:
        out = out.movedim(1, -1)
    return torch.softmax(out, dim=-1)


def point_values(out: torch.Tensor, loss: str) -> torch.Tensor:
    """What a regression Output predicts, in its targets' units: poisson_nll's output is the rate's
    logarithm (the rate is its exp), gaussian_nll's the mean in the last dimension's first half."""
    kind = losses.get(loss)
    output = kind.output if kind is not None else "values"
    if output == "log_rate":
        return out.exp()
    if output == "mean_variance":
        return out.chunk(2, dim=-1)[0]
    return out


def variance(out: torch.Tensor, loss: str) -> torch.Tensor | None:
    """gaussian_nll's predicted variance (softplus of the last dimension's second half); None otherwise."""
    kind = losses.get(loss)
    if kind is None or kind.output != "mean_variance":
        return None
    return torch.nn.functional.softplus(out.chunk(2, dim=-1)[1])


def entropy(p: torch.Tensor) -> torch.Tensor:
    """-Σ p ln p over the last dimension (0 ln 0 = 0)."""
    return -torch.special.xlogy(p, p).sum(-1)


@dataclass
class Spread:
    """What T passes say about one output, per sample (leading dimension N). For classes `mean` and
    `std` are per class and `entropy`/`mutual_information` per sample (per position for sequences
    and maps); for values they are per value and the entropies are None."""

    mean: torch.Tensor
    std: torch.Tensor
    entropy: torch.Tensor | None
    mutual_information: torch.Tensor | None
    passes: torch.Tensor     # (T, N, ...): each pass's probabilities, or values


def spread(passes: torch.Tensor, classes: bool) -> Spread:
    """The summary of T passes stacked in dimension 0."""
    passes = passes.float()
    mean = passes.mean(0)
    std = passes.std(0, correction=0)
    if not classes:
        return Spread(mean, std, None, None, passes)
    total = entropy(mean)
    expected = entropy(passes).mean(0)
    return Spread(mean, std, total, (total - expected).clamp_min(0.0), passes)


def still(value: torch.Tensor, passes: int, classes: bool) -> Spread:
    """The summary of `passes` passes that cannot differ (no dropout): exactly zero spread."""
    value = value.float()
    zero = torch.zeros_like(value)
    total = entropy(value) if classes else None
    return Spread(value, zero, total, torch.zeros_like(total) if classes else None,
                  value.expand(passes, *value.shape))


def summary(value: torch.Tensor) -> dict:
    """A sample's value as the trace reports it: shape (without the batch), mean, std, min, max."""
    x = value.detach().float()
    if x.numel() == 0:
        return {"shape": list(value.shape), "mean": None, "std": None, "min": None, "max": None}
    std, mean = torch.std_mean(x, correction=0)
    low, high = torch.aminmax(x)
    return {"shape": list(value.shape), "mean": float(mean), "std": float(std), "min": float(low),
            "max": float(high)}
