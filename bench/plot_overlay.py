"""Benchmark: the loss plot's redraw with an earlier run overlaid (issue 15 item 4).

An overlaid run's curves are built (read, smoothed, made into plot items) once, when the run is
chosen; each redraw of the live run then touches only the live curves. This prints the loss
plot's redraw time, median over repeats, with no overlay and with one 50,000-step overlay,
side by side in one run (DESIGN §7: ratios, never timed tests).

    QT_QPA_PLATFORM=offscreen python bench/plot_overlay.py [--steps 50000] [--repeats 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
from PySide6 import QtWidgets

from app.training.plots.loss import LossPlot
from app.training.store import Overlay, RunData
from engine.training.events import EpochEnded, LayerSummary, RunStarted, Step


def live_run(epochs: int = 40, steps_per_epoch: int = 40) -> RunData:
    """A run in flight: 40 epochs of 40 steps, as the spiral example sends them."""
    store = RunData()
    layers = (LayerSummary("x", "Input", None, 0, True), LayerSummary("y", "Output", None, 0, True))
    store.add(RunStarted("p", "cpu", "CPU", layers, 10, 10, 2400, 600, 64, steps_per_epoch, epochs, 0, "spiral", {},
                         "off", {}, ("accuracy",)))
    rng = np.random.default_rng(0)
    for e in range(1, epochs + 1):
        losses = tuple(float(v) for v in 1.0 / e + 0.05 * rng.random(steps_per_epoch))
        store.add(Step(e, e * steps_per_epoch, steps_per_epoch, steps_per_epoch, steps_per_epoch, losses[-1], 0.01,
                       1e4, 1.0, 1.0, losses=losses))
        store.add(EpochEnded(e, epochs, 1.0 / e, 1.1 / e, {"accuracy": 0.5}, {"accuracy": 0.5}, 0.01, 0.1, 1e4, True))
    return store


def overlay(steps: int) -> Overlay:
    rng = np.random.default_rng(1)
    x = np.arange(1, steps + 1) / (steps / 40)
    epochs = np.arange(1.0, 41.0)
    return Overlay("earlier", x, 1.0 / (1.0 + x) + 0.05 * rng.random(steps), epochs, 1.0 / epochs, 1.1 / epochs, {})


def redraw_ms(plot: LossPlot, store: RunData, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        plot.draw(store)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    plot = LossPlot("lossPlot")
    plot.resize(500, 300)
    store = live_run()
    plot.set_store(store)
    bare = redraw_ms(plot, store, args.repeats)
    start = time.perf_counter()
    plot.set_overlays([overlay(args.steps)])     # choosing the overlay: built once here
    chosen = (time.perf_counter() - start) * 1000
    with_overlay = redraw_ms(plot, store, args.repeats)
    print(f"loss plot redraw, median of {args.repeats}: {bare:.2f} ms without an overlay, "
          f"{with_overlay:.2f} ms with a {args.steps:,}-step overlay (x{with_overlay / bare:.2f}); "
          f"choosing the overlay took {chosen:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
