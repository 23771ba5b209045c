"""The Qt binding holds up under live plotting (SOAK below is the upstream crash repro).

PySide6 6.12.0 kills the interpreter with "Fatal Python error: none_dealloc" within a few
hundred pyqtgraph curve updates, so this runs in a subprocess: a crash there is a failed
test here, not a dead test run. It guards the `PySide6<6.12` pin in pyproject.toml.
"""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

UPDATES = 400

SOAK = """
import sys
import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
plot = pg.PlotWidget()
curve = plot.plot([], [])
plot.show()
ys = []
n = int(sys.argv[1])
for _ in range(n):
    ys.append(np.random.rand())
    curve.setData(np.arange(len(ys)), np.asarray(ys))
    app.processEvents()
print("ok", n)
"""


def test_pyqtgraph_survives_hundreds_of_live_repaints():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", SOAK, str(UPDATES)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-2000:]}"
    assert "Fatal Python error" not in result.stderr
    assert result.stdout.strip().endswith(f"ok {UPDATES}")
