"""Which losses make a data set give class labels: the loss declarations (graph.losses) decide, so a
class loss added to the table counts without a list of its own in engine.data."""
from pathlib import Path

import pytest

from engine.data.registry import Context, OutputSpec
from graph import losses
from tests.engine.test_data_fit import graph_doc, prepare, project


def context(loss: str) -> Context:
    return Context(Path("."), [], [OutputSpec("y", (3,), loss, "fc")])


@pytest.mark.parametrize("loss", losses.LOSSES)
def test_every_classification_loss_wants_classes_and_no_other(loss):
    assert context(loss).wants_classes() == losses.is_classification(loss)


def test_the_losses_added_this_wave_want_classes():
    assert all(context(name).wants_classes() for name in ("kl_div", "bce"))
    assert not context("gaussian_nll").wants_classes() and not context("none").wants_classes()


def test_a_csv_with_text_labels_feeds_a_kl_div_output(tmp_path):
    rows = ["a,b,kind"] + [f"{i},{i % 3},{['cat', 'dog', 'emu'][i % 3]}" for i in range(30)]
    (tmp_path / "pets.csv").write_text("\n".join(rows) + "\n")
    graph = graph_doc([("x", "Input", {"shape": [2]}), ("fc", "Linear", {"out_features": 3}),
                       ("ls", "LogSoftmax", {}), ("y", "Output", {"loss": "kl_div"})],
                      [("x", "fc"), ("fc", "ls"), ("ls", "y")])
    data = prepare(project({"dataset": "csv", "path": "pets.csv", "target": "kind", "validation_split": 0.0},
                           graph=graph), tmp_path)
    assert data.classes == ["cat", "dog", "emu"] and data.info["task"] == "classification"
