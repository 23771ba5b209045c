"""The Output losses beyond class scores and squared errors (kl_div, bce, gaussian_nll, poisson_nll,
smooth_l1, cosine_embedding): each equals torch's functional, fits its data, reports its metric and
trains on a built-in data set; the pair losses are refused, naming what the data must give."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from app.training.boundary import BoundaryProbe
from engine.data import DataError
from engine.data.prepare import TargetSpec
from engine.inference.stats import OutputKind, point_values, probabilities, variance
from engine.training import Finished
from engine.training.losses import MetricTotals, Objective, loss_function
from tests.engine.test_data_fit import graph_doc, prepare, project
from tests.engine.test_train_trainer import run

torch.manual_seed(0)


def spec(loss, shape=(3,), task="regression", class_dim=None):
    return TargetSpec("y", loss, task, class_dim, shape[0] if class_dim else None, shape)


def test_each_loss_is_torchs_functional():
    out, y = torch.randn(5, 4), torch.randn(5, 4)
    logp, p = torch.log_softmax(torch.randn(5, 4), 1), torch.softmax(torch.randn(5, 4), 1)
    prob, bits = torch.rand(5, 4), torch.randint(0, 2, (5, 4)).float()
    counts = torch.poisson(torch.full((5, 2), 3.0))
    cases = [
        ("kl_div", logp, p, F.kl_div(logp, p, reduction="batchmean")),
        ("bce", prob, bits, F.binary_cross_entropy(prob, bits)),
        ("gaussian_nll", out, y[:, :2], F.gaussian_nll_loss(out[:, :2], y[:, :2], F.softplus(out[:, 2:]))),
        ("poisson_nll", out[:, :2], counts, F.poisson_nll_loss(out[:, :2], counts, log_input=True)),
        ("smooth_l1", out, y, F.smooth_l1_loss(out, y, beta=0.5)),
        ("cosine_embedding", out, y, F.cosine_embedding_loss(out, y, torch.ones(5))),
    ]
    for name, a, b, want in cases:
        got = loss_function(spec(name, tuple(a.shape[1:])), huber_delta=0.5)(a, b)
        torch.testing.assert_close(got, want, msg=name)


def test_kl_div_of_one_hot_targets_is_cross_entropy():
    logits, labels = torch.randn(6, 3), torch.randint(0, 3, (6,))
    kl = loss_function(spec("kl_div", task="classification", class_dim="first"))
    torch.testing.assert_close(kl(torch.log_softmax(logits, 1), F.one_hot(labels, 3).float()),
                               F.cross_entropy(logits, labels))


def test_bce_runs_in_float32_under_autocast():
    prob, bits = torch.rand(4, 1), torch.randint(0, 2, (4, 1)).float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = loss_function(spec("bce", (1,)))(prob.bfloat16(), bits)
    assert got.dtype == torch.float32 and torch.isfinite(got)


def metrics(s, out, y):
    totals = MetricTotals(Objective([s], {}), torch.device("cpu"))
    totals.add([out], [y], None, len(out))
    return totals.metrics()


def test_metrics_read_each_output_as_its_loss_does():
    bce = spec("bce", (1,), "classification")
    assert metrics(bce, torch.tensor([[0.4], [0.6], [0.9]]), torch.tensor([[0.0], [0.0], [1.0]])) == {
        "accuracy": pytest.approx(2 / 3)}   # 0.4 is class 0: bce's outputs are probabilities, not logits
    kl = spec("kl_div", task="classification", class_dim="first")
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    assert metrics(kl, p.log(), torch.tensor([[1.0, 0, 0], [1.0, 0, 0]]))["accuracy"] == 0.5
    rate = metrics(spec("poisson_nll", (1,)), torch.tensor([[0.0], [2.0]]).log(), torch.tensor([[1.0], [2.0]]))
    assert rate["mae"] == pytest.approx(0.5)   # the rate exp(output), not the output
    mean = metrics(spec("gaussian_nll", (2,)), torch.tensor([[1.0, -5.0], [3.0, 7.0]]), torch.tensor([[1.0], [2.0]]))
    assert mean["mae"] == pytest.approx(0.5)   # the mean half only
    cos = metrics(spec("cosine_embedding", (2,)), torch.tensor([[1.0, 0.0], [0.0, 2.0]]),
                  torch.tensor([[2.0, 0.0], [1.0, 0.0]]))
    assert cos == {"cosine": pytest.approx(0.5)}


def test_prediction_reads_bce_as_probabilities_and_the_likelihoods_as_their_values():
    p = probabilities(torch.tensor([[0.3]]), OutputKind("y", "bce", (1,)))
    torch.testing.assert_close(p, torch.tensor([[0.7, 0.3]]))
    assert OutputKind("y", "bce", (1,)).task == "classification"
    assert OutputKind("y", "kl_div", (3,), "first").task == "classification"
    torch.testing.assert_close(point_values(torch.tensor([[0.0, 2.0]]), "poisson_nll"),
                               torch.tensor([[1.0, math.exp(2.0)]]))
    out = torch.tensor([[1.0, 0.0]])
    torch.testing.assert_close(point_values(out, "gaussian_nll"), torch.tensor([[1.0]]))
    torch.testing.assert_close(variance(out, "gaussian_nll"), F.softplus(torch.tensor([[0.0]])))
    assert variance(out, "mse") is None


def chain(*layers, inputs=2, loss="mse"):
    nodes = [("x", "Input", {"shape": [inputs]})] + [(f"n{i}", t, p) for i, (t, p) in enumerate(layers)]
    nodes.append(("y", "Output", {"loss": loss}))
    ids = [n[0] for n in nodes]
    return graph_doc(nodes, list(itertools.pairwise(ids)))


MLP = (("Linear", {"out_features": 16}), ("Tanh", {}))


@pytest.mark.parametrize("loss, data, head", [
    ("bce", {"dataset": "moons"}, (("Linear", {"out_features": 1}), ("Sigmoid", {}))),
    ("kl_div", {"dataset": "spiral"}, (("Linear", {"out_features": 3}), ("LogSoftmax", {}))),
    ("gaussian_nll", {"dataset": "sine"}, (("Linear", {"out_features": 2}),)),
    ("smooth_l1", {"dataset": "sine"}, (("Linear", {"out_features": 1}),)),
    ("poisson_nll", {"dataset": "bits", "length": 4}, (("Flatten", {}), ("Linear", {"out_features": 1}))),
    ("cosine_embedding", {"dataset": "moons", "reconstruct": True}, (("Linear", {"out_features": 2}),)),
])
def test_each_loss_trains_on_a_built_in_data_set(loss, data, head):
    inputs = {"sine": [1], "bits": [4, 1]}.get(data["dataset"], [2])
    g = chain(*MLP, *head, loss=loss)
    g["nodes"][0]["params"]["shape"] = inputs
    _, result, events = run(project({**data, "samples": 240}, {"epochs": 3, "learning_rate": 0.02,
                                                                "batch_size": 32}, graph=g))
    assert isinstance(result, Finished), getattr(result, "message", result)
    epochs = [e for e in events if e.kind == "epoch_ended"]
    assert epochs[-1].train_loss < epochs[0].train_loss or epochs[-1].val_loss < epochs[0].val_loss
    assert set(events[0].metrics) <= {"accuracy", "mae", "r2", "cosine"} and events[0].metrics


@pytest.mark.parametrize("loss, text", [
    ("triplet", ("Output 'y' uses the triplet loss, but triplet needs a data set that gives (anchor, positive, "
                "negative) inputs; none of the built-in data sets")),
    ("margin_ranking", ("Output 'y' uses the margin_ranking loss, but margin_ranking needs a data set that gives "
                       "pairs of inputs (x1, x2) and a target of 1 or -1")),
])
def test_pair_losses_are_refused_naming_what_the_data_must_give(loss, text):
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "spiral"}, graph=chain(("Linear", {"out_features": 3}), loss=loss)))
    assert text in str(info.value)


def test_targets_are_checked_against_each_loss():
    with pytest.raises(DataError, match=r"Output 'y' uses the bce loss, which takes probabilities from 0 to 1, "
                                        r"but gets the output of 'n0' \(Linear\); put a Sigmoid"):
        prepare(project({"dataset": "moons"}, graph=chain(("Linear", {"out_features": 1}), loss="bce")))
    with pytest.raises(DataError, match="Output 'y' uses poisson_nll, which needs counts"):
        prepare(project({"dataset": "sine"}, graph=chain(("Linear", {"out_features": 1}), inputs=1,
                                                         loss="poisson_nll")))
    with pytest.raises(DataError, match="Output 'y' gets \\(N, 3\\) from 'n0' with the gaussian_nll loss, which "
                                        "needs an even last dimension.*set n0.out_features to 2"):
        prepare(project({"dataset": "sine"}, graph=chain(("Linear", {"out_features": 3}), inputs=1,
                                                         loss="gaussian_nll")))
    with pytest.raises(DataError, match="set n0.out_features to 2"):
        prepare(project({"dataset": "sine"}, graph=chain(("Linear", {"out_features": 4}), inputs=1,
                                                         loss="gaussian_nll")))
    data = prepare(project({"dataset": "spiral", "samples": 60},
                           graph=chain(("Linear", {"out_features": 3}), ("LogSoftmax", {}), loss="kl_div")))
    y = data.train.targets[0]
    assert y.shape[1:] == (3,) and torch.equal(y.sum(1), torch.ones(len(y)))


def test_the_boundary_reads_bce_outputs_as_probabilities():
    g = chain(("Linear", {"out_features": 1}), ("Sigmoid", {}), loss="bce")
    trainer, _, _ = run(project({"dataset": "moons", "samples": 64}, {"epochs": 1}, graph=g))

    class Constant(torch.nn.Module):
        def forward(self, x):
            return torch.full((len(x), 1), 0.3)

    trainer.model = Constant()
    probe = BoundaryProbe.for_trainer(trainer)
    frame = probe.frame(1)
    blue = frame.image[0, 0, :3].astype(int)   # 0.3 is class 0 (a logit 0.3 would be class 1)
    assert blue[2] > blue[0]
