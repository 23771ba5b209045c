"""The plots' numerics (app.training.plots.numerics) and an overlay's smoothing, without Qt: the
module loads no Qt, so these run where no display (or no Qt) is."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from app.training.plots.numerics import bounds, finite, mosaic, nice_range, strips
from app.training.store import Overlay, ema
from engine.training.events import Histogram
from tests.conftest import ROOT


def test_the_numerics_load_without_qt():
    code = ("import sys; import app.training.plots.numerics, app.training.store; "
            "assert 'PySide6' not in sys.modules and 'pyqtgraph' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph')))")
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_nice_range_keeps_a_range_that_still_fits_and_rounds_a_new_one():
    assert nice_range(0.2, 0.9, (0.0, 1.0)) is None                   # inside, and fills it: kept
    low, high = nice_range(0.02, 0.05, (0.0, 1.0))                    # far inside: shrinks, rounded
    assert low <= 0.02 and 0.05 <= high < 0.1
    low, high = nice_range(0.5, 3.2, (0.0, 1.0))                      # outside: grows
    assert low <= 0.5 and high >= 3.2
    assert nice_range(1e-4, 0.3, (-5.0, 0.0), log=True) is None       # decades on a log axis
    assert nice_range(1e-4, 30.0, (-5.0, 0.0), log=True) == (-4.0, 2.0)
    assert nice_range(math.nan, 1.0, (0.0, 1.0)) is None
    assert nice_range(0.0, 1.0, (0.0, 1.0), log=True) is None          # nothing positive to show


def test_weight_strips_share_one_value_axis():
    a = Histogram(np.array([0, 10, 0, 0]), -1.0, 1.0, 0.0, 0.1)      # all in [-0.5, 0)
    b = Histogram(np.array([0, 0, 0, 10]), -2.0, 2.0, 0.0, 0.1)      # all in [1, 2]
    image, low, high = strips([(0.0, 1, a), (1.0, 2, b)])
    assert (low, high) == (-2.0, 2.0) and image.shape == (2, 64)
    centers = np.linspace(-2, 2, 65)[:-1] + 1 / 32
    assert np.all(centers[image[0] > 0] >= -0.51) and np.all(centers[image[0] > 0] <= 0.01)
    assert np.all(centers[image[1] > 0] >= 0.99)
    assert image.max() == pytest.approx(1.0)


def test_finite_points_and_bounds_leave_out_what_cannot_be_drawn():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([1.0, math.nan, -2.0, 4.0])
    assert [a.tolist() for a in finite(x, y)] == [[0.0, 2.0, 3.0], [1.0, -2.0, 4.0]]
    assert [a.tolist() for a in finite(x, y, positive=True)] == [[0.0, 3.0], [1.0, 4.0]]   # a log axis
    assert bounds(y, np.array([math.inf, 7.0]), np.empty(0)) == (-2.0, 7.0)
    assert bounds(np.array([math.nan])) == (None, None)


def test_a_mosaic_puts_feature_maps_side_by_side_each_scaled():
    maps = np.stack([np.full((2, 3), 5.0), np.arange(6.0).reshape(2, 3), np.zeros((2, 3))])
    image = mosaic(maps)
    assert image.shape == (2 * 2 + 1, 2 * 3 + 1)                     # 3 maps in a 2 x 2 grid, 1-pixel gaps
    assert image[0:2, 4:7] == pytest.approx(np.arange(6.0).reshape(2, 3) / 5)      # scaled to 0..1
    assert image[0:2, 0:3].max() == 0.0 and np.isfinite(image).all()  # a flat map is 0, gaps are 0
    assert mosaic(np.ones((4, 8))).shape == (4, 8)                    # a sequence (L, E) is one map


def test_an_overlay_is_smoothed_once_as_the_live_curve_is():
    losses = np.array([3.0, 2.0, math.nan, 1.0])
    run = Overlay("earlier", np.arange(4.0), losses, np.array([1.0]), np.array([2.0]), np.array([2.5]))
    first = run.smoothed
    assert first is run.smoothed                                      # computed once, then kept
    assert first[0] == 3.0 and math.isnan(first[2]) and 1.0 < first[3] < 2.0   # debiased, NaN kept in place
    assert first.tolist()[:2] == pytest.approx(ema(losses)[:2].tolist())
