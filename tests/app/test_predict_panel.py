"""The Predict panel (issue 15 item 3) as a new user tries it: train the spiral with a Dropout layer,
open Predict, pick points on and far from the spiral and see the prediction, its spread and the
uncertainty map; a digit flowing through the CNN's feature maps; the Transformer's attention;
Sigmoid's curve and derivative."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from app.training.loader import engine_loader
from graph.project import load, save
from tests.conftest import EXAMPLES

WAIT_MS = 60_000
SHOTS = os.environ.get("LAYERLOOM_SHOTS")   # a folder: the tests save what they show there (1280x800)


@pytest.fixture
def open_window(make_window, tmp_path, qtbot):
    engine_loader().wait()

    def make(path: Path):
        window = make_window(path, runs_dir=tmp_path / "user-runs")
        window.resize(1280, 800)
        window.show()
        qtbot.waitUntil(lambda: window._shown)
        return window

    return make


def settle(window, qtbot) -> None:
    predicting = window.predicting
    qtbot.waitUntil(lambda: predicting.idle and predicting.work is not None, timeout=WAIT_MS)


def shoot(window, name: str) -> None:
    if SHOTS:
        window.grab().save(str(Path(SHOTS) / f"{name}.png"))


def open_predict(window, qtbot):
    window.findChild(type(window.predicting.action), "actionPredict").trigger()
    settle(window, qtbot)
    return window.predicting


def spiral_with_dropout(tmp_path: Path) -> Path:
    """The spiral example with a Dropout(0.3) between act2 and fc3, added through the graph API."""
    project = load(EXAMPLES / "spiral_mlp.loom")
    graph = project.graph
    edge = graph.edges_into("fc3")[0]
    graph.remove_edge(edge)
    graph.add_node("Dropout", "drop", {"p": 0.3}, pos=(990.0, 160.0))
    graph.connect("act2", "drop")
    graph.connect("drop", "fc3")
    project.data = {**project.data, "samples": 1200}
    project.training = {**project.training, "epochs": 12}
    path = tmp_path / "spiral.loom"
    save(project, path)
    return path


def test_spiral_with_dropout_predicts_points_with_spread_and_an_uncertainty_map(open_window, tmp_path, qtbot):
    window = open_window(spiral_with_dropout(tmp_path))
    assert window.training.panel.ensure_built()
    with qtbot.waitSignal(window.training.run_ended, timeout=WAIT_MS):
        window.training.action_train.trigger()
    predicting = open_predict(window, qtbot)
    panel = predicting.panel
    assert window.docks["predictPanel"].isVisible()
    assert panel.run.currentIndex() == 0 and "Random" not in panel.run.currentText()   # the newest run
    assert predicting.setup.kind == "points" and predicting.setup.stochastic == ["drop"]

    panel.mc.stepUp()                       # off -> the usual 30 passes
    assert panel.mc.value() == 30
    settle(window, qtbot)
    uncertainty = window.findChild(type(panel.uncertainty), "uncertaintyPlot")
    assert uncertainty is panel.uncertainty and uncertainty.entropy is not None
    entropy = uncertainty.entropy
    assert entropy.shape == (64, 64) and np.isfinite(entropy).all() and entropy.max() > 0.05
    assert entropy.max() <= np.log(3) + 1e-5

    on_arm = predicting.setup.points[0]
    predicting.pick_point(float(on_arm[0]), float(on_arm[1]))
    settle(window, qtbot)
    near = predicting.last_prediction.outputs[0]
    assert predicting.last_prediction.source.startswith("the point")
    assert near.passes == 30 and near.std.shape == (3,) and float(near.std.max()) > 0   # dropout draws
    assert abs(float(near.mean.sum()) - 1) < 1e-4
    assert panel.bars.shown["entropy"] == pytest.approx(float(near.entropy))
    assert "mutual information" in panel.bars.caption.text()
    shoot(window, "predict-spiral")

    x0, x1, y0, y1 = predicting.setup.extent
    predicting.pick_point(x1 - 0.01 * (x1 - x0), y1 - 0.01 * (y1 - y0))    # far from the spiral
    settle(window, qtbot)
    far = predicting.last_prediction.outputs[0]
    assert not np.allclose(far.mean, near.mean)
    # the trace: every node of the canvas shows its value for the picked point
    assert predicting.overlays.glance("fc1").kind == "bars"
    assert "mean" in predicting.overlays.glance("fc1").text

    # clicking a Linear node shows one neuron: inputs, weights, sum plus bias, activation
    window.canvas.select(["fc1"])
    qtbot.waitUntil(lambda: predicting.last_inside is not None and predicting.last_inside[0] == "fc1", timeout=WAIT_MS)
    neuron = predicting.last_inside[1]
    assert neuron.total == pytest.approx(float(neuron.weights @ neuron.inputs) + neuron.bias, abs=1e-5)
    assert neuron.activated == pytest.approx(max(neuron.total, 0.0), abs=1e-6)    # act1 is a ReLU
    assert "act1 (ReLU)" in panel.neuron.text.text()
    panel.neuron.index.setValue(5)
    qtbot.waitUntil(lambda: predicting.last_inside[1].index == 5, timeout=WAIT_MS)


def test_a_digit_flows_through_the_cnn_as_feature_map_thumbnails(open_window, qtbot):
    window = open_window(EXAMPLES / "digits_cnn.loom")
    predicting = open_predict(window, qtbot)
    panel = predicting.panel
    assert panel.run.currentText() == "Random weights (untrained)"
    assert "random weights" in panel.notes.text()
    gallery = panel.gallery
    assert gallery.isVisible() and gallery.count() == 48
    gallery.setCurrentRow(7)
    qtbot.waitUntil(lambda: predicting.last_prediction is not None and
                    predicting.last_prediction.source.startswith("validation sample 7"), timeout=WAIT_MS)
    for node in ("conv1", "act1", "pool1", "conv2"):
        assert predicting.overlays.glance(node).kind == "maps", node
    assert predicting.overlays.glance("fc1").kind == "bars"
    assert predicting.overlays.items["conv1"].parentItem() is window.canvas.item("conv1").view
    assert len(panel.bars.shown["p"]) == 10
    shoot(window, "predict-digits")


def test_the_transformer_shows_its_attention_per_head(open_window, qtbot):
    window = open_window(EXAMPLES / "transformer_tokens.loom")
    predicting = open_predict(window, qtbot)
    attention = window.findChild(type(predicting.panel.attention), "attentionPlot")
    qtbot.waitUntil(lambda: attention.shown is not None, timeout=WAIT_MS)
    assert attention.isVisible()
    assert attention.layer.count() == 2 and attention.head.count() == 4
    window.canvas.select(["encoder"])
    qtbot.waitUntil(lambda: attention.layer.currentText().startswith("encoder."), timeout=WAIT_MS)
    attention.head.setCurrentIndex(2)
    weights = predicting.last_prediction.attention[attention.layer.currentText()]
    np.testing.assert_allclose(attention.shown, weights[2])
    np.testing.assert_allclose(attention.shown.sum(-1), 1.0, atol=1e-5)
    assert predicting.overlays.glance("embed").kind == "heat"
    assert "tokens" in predicting.panel.sample_text.text() or "[" in predicting.panel.sample_text.text()
    shoot(window, "predict-transformer")


def test_sigmoid_shows_its_curve_and_a_derivative_never_above_a_quarter(open_window, tmp_path, qtbot):
    doc = json.loads((EXAMPLES / "spiral_mlp.loom").read_text())
    for node in doc["graph"]["nodes"]:
        if node["id"] == "act1":
            node["type"] = "Sigmoid"
    path = tmp_path / "sigmoid.loom"
    path.write_text(json.dumps(doc))
    window = open_window(path)
    predicting = open_predict(window, qtbot)
    window.canvas.select(["act1"])
    qtbot.waitUntil(lambda: predicting.last_inside is not None and predicting.last_inside[0] == "act1",
                    timeout=WAIT_MS)
    plot = predicting.panel.activation
    assert plot.isVisible()
    curve = predicting.last_inside[2]
    np.testing.assert_allclose(curve.f, 1 / (1 + np.exp(-curve.x)), atol=1e-6)
    assert plot.peak == pytest.approx(0.25, abs=1e-4)
    assert "0.25" in plot.caption.text() and "vanishes" in plot.caption.text()
    assert curve.traced is not None and curve.traced.size == 64   # fc1's 64 outputs enter act1
    qtbot.wait(50)   # the panel scrolls to the plot after its layout settles
    shoot(window, "predict-sigmoid")


def test_predict_refuses_a_design_with_problems_by_name(open_window, tmp_path, qtbot):
    doc = json.loads((EXAMPLES / "spiral_mlp.loom").read_text())
    doc["graph"]["edges"] = [e for e in doc["graph"]["edges"] if e["to"] != "fc2"]
    path = tmp_path / "broken.loom"
    path.write_text(json.dumps(doc))
    window = open_window(path)
    window.predicting.action.trigger()
    qtbot.waitUntil(lambda: window.predicting.error is not None, timeout=WAIT_MS)
    assert "problem" in window.predicting.panel.notes.text()


def test_a_sequence_sample_shows_its_values_whole_and_once(open_window, qtbot):
    """On transformer_tokens at 1280x800 the values' second line was cut off (the input area's
    height was taken before they were set), and the sample and its target were said twice."""
    window = open_window(EXAMPLES / "transformer_tokens.loom")
    predicting = open_predict(window, qtbot)
    panel = predicting.panel
    qtbot.waitUntil(lambda: "[" in panel.sample_text.text(), timeout=WAIT_MS)
    panel.resize(300, panel.height())     # a narrow dock: the values wrap
    qtbot.wait(50)
    label = panel.sample_text
    assert label.height() >= label.heightForWidth(label.width())
    assert label.mapTo(panel.inputs, label.rect().bottomLeft()).y() <= panel.inputs.height()
    assert "validation sample" not in label.text() and "target" not in label.text()
    assert "target" in panel.input_title.text()
