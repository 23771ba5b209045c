"""Resuming a kept run in the window (as `train --resume` does): a stopped spiral run and a stopped
GAN run go on from their checkpoints into the same folder, the plots holding the whole run; a
completed run offers no resume. Also: the metric plot names no validation curve for a GAN run."""
from __future__ import annotations

import csv
from pathlib import Path

from app.training.plots.metric import MetricPlot
from app.training.store import RunData
from engine.training.events import EpochEnded, RunStarted


def gan_started() -> RunStarted:
    names = ("d_loss", "g_loss", "d_real", "d_fake", "modes", "quality")
    return RunStarted("ring", "cpu", "CPU", (), 10, 10, 100, 0, 10, 10, 4, 0, "gaussian_ring", {}, "off",
                      {"mode": "gan"}, names)


def legend_names(plot) -> list[str]:
    return [label.text for _sample, label in plot.legend.items]


def test_the_metric_plot_names_no_validation_curve_for_a_gan_run(qtbot):
    plot = MetricPlot("metricPlot")
    qtbot.addWidget(plot)
    store = RunData()
    store.add(gan_started())
    metrics = {"d_loss": 1.1, "g_loss": 0.8, "d_real": 0.6, "d_fake": 0.4, "modes": 3.0, "quality": 0.2}
    store.add(EpochEnded(1, 4, 1.1, None, metrics, {}, 1e-3, 0.1, 1000.0, False))
    plot.set_store(store)
    plot.refresh(force=True)
    assert "validation" not in legend_names(plot) and "train" in legend_names(plot)
    # a supervised run afterwards has its validation curve named again
    supervised = RunData()
    supervised.add(RunStarted("p", "cpu", "CPU", (), 10, 10, 100, 20, 10, 10, 4, 0, "spiral", {}, "off", {},
                              ("accuracy",)))
    supervised.add(EpochEnded(1, 4, 1.0, 0.9, {"accuracy": 0.5}, {"accuracy": 0.6}, 0.1, 1.0, 100.0, True))
    plot.set_store(supervised)
    plot.refresh(force=True)
    assert legend_names(plot) == ["train", "validation"]
