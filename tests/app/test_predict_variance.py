"""The Predict panel shows gaussian_nll's predicted standard deviation beside the value."""
from __future__ import annotations

import json

import numpy as np

from tests.app.test_predict_panel import open_predict, open_window  # noqa: F401 -- the fixture
from tests.engine.test_predict_variance import gaussian_doc


def test_a_gaussian_output_shows_its_predicted_std(open_window, tmp_path, qtbot):  # noqa: F811
    path = tmp_path / "gaussian.loom"
    path.write_text(json.dumps(gaussian_doc()))
    window = open_window(path)
    predicting = open_predict(window, qtbot)
    view = predicting.work.last.outputs[0]
    assert view.value.shape == view.value_std.shape == (1,) and (view.value_std > 0).all()
    bars = predicting.panel.bars
    np.testing.assert_allclose(bars.shown["std"], view.value_std)
    assert "±" in bars.title.text() and "predicted standard deviation" in bars.caption.text()
    assert len(bars.value_errors.opts["x"]) == 1


def test_a_plain_regression_has_no_std_bar(open_window, tmp_path, qtbot):  # noqa: F811
    doc = gaussian_doc()
    for node in doc["graph"]["nodes"]:
        if node["id"] == "fc3":
            node["params"]["out_features"] = 1
        if node["id"] == "y":
            node["params"]["loss"] = "mse"
    path = tmp_path / "sine.loom"
    path.write_text(json.dumps(doc))
    window = open_window(path)
    predicting = open_predict(window, qtbot)
    assert predicting.work.last.outputs[0].value_std is None
    assert "std" not in predicting.panel.bars.shown and "±" not in predicting.panel.bars.title.text()
    assert len(predicting.panel.bars.value_errors.opts["x"]) == 0
