"""The Prediction bars (app.predict.bars) as seen in a real window (issue 15, item 5): a class's
MC mean ± std is a probability, so its error bar stays within 0..1 (0.95 ± 0.1 drew up to 1.05,
its cap cut off at the top of the plot)."""
from __future__ import annotations

import numpy as np

from app.predict.bars import ProbabilityBars
from app.predict.work import OutputView


def drawn_band(errors) -> tuple[np.ndarray, np.ndarray]:
    """(bottom, top) of each error bar as pyqtgraph draws it (a height overrides top and bottom)."""
    opts = errors.opts
    y = np.asarray(opts["y"], dtype=float)
    if opts["height"] is not None:
        return y - opts["height"] / 2, y + opts["height"] / 2
    return y - np.asarray(opts["bottom"], dtype=float), y + np.asarray(opts["top"], dtype=float)


def test_mc_error_bars_stay_within_zero_and_one(qtbot):
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    out = OutputView("y", "classification", ("a", "b", "c"), probabilities=np.array([0.97, 0.02, 0.01]),
                     predicted=np.array(0), mean=np.array([0.95, 0.04, 0.01]), std=np.array([0.1, 0.08, 0.02]),
                     entropy=np.array(0.2), mutual_information=np.array(0.05), passes=30)
    bars._clear_mc()   # as between two predictions
    bars.show_output(out)
    low, high = drawn_band(bars.errors)
    assert high.max() <= 1.0 + 1e-9 and low.min() >= -1e-9
    assert np.allclose(high, [1.0, 0.12, 0.03]) and np.allclose(low, [0.85, 0.0, 0.0])
