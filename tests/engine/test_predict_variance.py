"""gaussian_nll predicts a mean and a variance: `predict` shows the variance and its square root beside
the value (engine.inference, `predict --json` keys "variance" and "value_std", the text report)."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

import main
from engine.inference import Predictor
from graph.project import from_dict
from tests.conftest import EXAMPLES

torch.set_num_threads(1)


def gaussian_doc() -> dict:
    """The sine example with a mean-and-variance head: fc3 gives 2 numbers, the Output gaussian_nll."""
    doc = json.loads((EXAMPLES / "sine_regression.loom").read_text())
    for node in doc["graph"]["nodes"]:
        if node["id"] == "fc3":
            node["params"]["out_features"] = 2
        if node["id"] == "y":
            node["params"]["loss"] = "gaussian_nll"
    doc["data"]["samples"] = 200
    doc["training"]["epochs"] = 1
    return doc


def test_the_predictor_gives_the_variance_beside_the_mean():
    predictor = Predictor(from_dict(gaussian_doc()))
    x = torch.tensor([[0.5], [-1.0]])
    raw = predictor.model(x)
    result = predictor.predict([x])["y"]
    torch.testing.assert_close(result.value, raw[:, :1])
    torch.testing.assert_close(result.variance, F.softplus(raw[:, 1:]))
    assert result.variance.shape == result.value.shape and (result.variance > 0).all()


def test_other_regression_losses_have_no_variance():
    doc = json.loads((EXAMPLES / "sine_regression.loom").read_text())
    assert Predictor(from_dict(doc)).predict([torch.zeros(1, 1)])["y"].variance is None


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gaussian")
    design = folder / "gaussian.loom"
    design.write_text(json.dumps(gaussian_doc()))
    assert main.main(["train", str(design), "--out", str(folder / "run"), "--quiet"]) == 0
    return design, folder / "run"


def test_predict_json_adds_the_variance_and_its_std(capsys, trained):
    design, run = trained
    assert main.main(["predict", str(design), "--run", str(run), "--sample", "0", "--json"]) == 0
    y = json.loads(capsys.readouterr().out)["outputs"]["y"]
    assert {"task", "loss", "value", "variance", "value_std"} <= set(y)     # "value" kept (DESIGN §4)
    assert len(y["value"]) == len(y["variance"]) == len(y["value_std"]) == 1
    assert y["variance"][0] > 0 and y["value_std"][0] == pytest.approx(math.sqrt(y["variance"][0]), rel=1e-4)


def test_predict_text_shows_the_predicted_std(capsys, trained):
    design, run = trained
    assert main.main(["predict", str(design), "--run", str(run), "--sample", "0"]) == 0
    out = capsys.readouterr().out
    assert "y: value [" in out and "predicted std [" in out and "(variance [" in out
