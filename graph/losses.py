"""The losses an Output node can be trained with: what each reads from the Output and what it needs
from the data. The one place that knows a loss by name; the data side, the trainer's metrics, prediction
and the boundary view all ask this table rather than keeping lists of their own.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loss:
    """`task`: "classification" (class probabilities, `accuracy`), "regression" (values) or "none".
    `output`: what the Output's values are: "logits" and "log_probabilities" (class scores, softmax reads
    both), "logit" and "probability" (one per element, two classes), "values", "log_rate" (a Poisson
    rate's logarithm), "mean_variance" (the last dimension's halves) or "direction" (only the angle counts).
    `targets`: "labels" (class indices), "binary" (0 to 1), "distribution" (or labels, read one-hot),
    "values" or "counts" (0 or more). `after`: the layer types whose values the loss takes (empty: any).
    `needs`: what a data set must give for the loss; set only where no data set gives it, and training
    refuses with it."""

    name: str
    task: str
    output: str
    targets: str
    doc: str
    after: tuple[str, ...] = ()
    needs: str | None = None


_PAIRS = "none of the built-in data sets or data files does; use mse, cosine_embedding or a class loss"

TABLE = (
    Loss("cross_entropy", "classification", "logits", "labels", "class scores (logits) vs class labels"),
    Loss("mse", "regression", "values", "values", "mean squared error"),
    Loss("l1", "regression", "values", "values", "mean absolute error"),
    Loss("huber", "regression", "values", "values", "squared below training.huber_delta, linear above"),
    Loss("bce_with_logits", "classification", "logit", "binary", "one logit per element vs targets 0 to 1"),
    Loss("nll", "classification", "log_probabilities", "labels", "log-probabilities (after a LogSoftmax) vs "
         "class labels"),
    Loss("bce", "classification", "probability", "binary", "probabilities (after a Sigmoid) vs targets 0 to 1",
         after=("Sigmoid", "Hardsigmoid", "Softmax")),
    Loss("kl_div", "classification", "log_probabilities", "distribution", "KL divergence of log-probabilities "
         "(after a LogSoftmax) from target probabilities (labels read one-hot), summed per sample"),
    Loss("gaussian_nll", "regression", "mean_variance", "values", "Gaussian negative log-likelihood: the last "
         "dimension's first half is the mean, its second half the variance before a softplus"),
    Loss("poisson_nll", "regression", "log_rate", "counts", "Poisson negative log-likelihood of counts; the "
         "output is the rate's logarithm (log_input)"),
    Loss("smooth_l1", "regression", "values", "values", "squared below training.huber_delta (beta), linear "
         "above, divided by beta"),
    Loss("cosine_embedding", "regression", "direction", "values", "1 - cosine similarity of the output and "
         "the target vector over the last dimension"),
    Loss("margin_ranking", "regression", "values", "values", "ranks two inputs' scores by a ±1 target",
         needs="margin_ranking needs a data set that gives pairs of inputs (x1, x2) and a target of 1 or -1 "
               "saying which ranks higher; " + _PAIRS),
    Loss("triplet", "regression", "values", "values", "pulls an anchor's embedding towards a positive and "
         "away from a negative", needs="triplet needs a data set that gives (anchor, positive, negative) "
                                       "inputs; " + _PAIRS),
    Loss("none", "none", "values", "values", "not trained; needs no target"),
)
_BY_NAME = {loss.name: loss for loss in TABLE}
LOSSES = tuple(loss.name for loss in TABLE)


def get(name: str) -> Loss | None:
    return _BY_NAME.get(name)


def is_classification(name: str) -> bool:
    loss = _BY_NAME.get(name)
    return loss is not None and loss.task == "classification"


def binary(name: str) -> bool:
    """One score per element read as two classes (1 - p, p)."""
    loss = _BY_NAME.get(name)
    return loss is not None and loss.output in ("logit", "probability")


def class_scores(name: str) -> bool:
    """A score per class, classes first or last: softmax reads them as probabilities."""
    loss = _BY_NAME.get(name)
    return loss is not None and loss.output in ("logits", "log_probabilities")
