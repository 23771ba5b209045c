"""Resuming a kept run in the window (as `train --resume` does): a stopped spiral run and a stopped
GAN run go on from their checkpoints into the same folder, the plots holding the whole run; a
completed run offers no resume. Also: the metric plot names no validation curve for a GAN run."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PySide6 import QtWidgets

from app.training.plots.metric import MetricPlot
from app.training.runs import list_runs
from app.training.store import RunData
from engine.training.events import EpochEnded, RunStarted
from tests.app.test_training import (  # noqa: F401
    RUN_TIMEOUT_MS,
    example_copy,
    spiral_copy,
    start,
    trainer_window,
    wait_end,
    wait_epochs,
)


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


def epochs_in(folder: Path) -> list[int]:
    with (folder / "metrics.csv").open(newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def steps_in(folder: Path) -> list[int]:
    with (folder / "steps.csv").open(newline="") as handle:
        return [int(row["step"]) for row in csv.DictReader(handle)]


def stop_after(window, qtbot, epochs: int) -> Path:
    """Train, stop once `epochs` epochs are in, wait for the end; the run's folder."""
    start(window, qtbot)
    folder = window.training.last_run
    wait_epochs(window, qtbot, epochs)
    window.training.action_stop.trigger()
    result = wait_end(window, qtbot)
    assert result.kind == "finished" and result.reason == "stopped", result
    return folder


def resume(window, qtbot):
    controller = window.training
    assert controller.action_resume.isEnabled(), controller.action_resume.toolTip()
    controller.action_resume.trigger()
    assert controller.session is not None, window.statusBar().currentMessage()
    return wait_end(window, qtbot)


def test_a_stopped_spiral_run_resumes_in_the_window_into_the_same_folder(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(spiral_copy(tmp_path, epochs=12))
    controller = window.training
    assert not controller.action_resume.isEnabled()   # no run yet
    folder = stop_after(window, qtbot, 2)
    done = json.loads((folder / "run.json").read_text())["epochs_done"]
    assert 2 <= done < 12
    # the run list offers it, in the Train menu and in the run's context menu
    runs = controller.panel.runs()
    assert [r.path for r in runs] == [folder] and runs[0].resume_problem() is None
    menu = controller.panel.run_menu(controller.panel.runs_list.topLevelItem(0))
    assert controller.action_resume in menu.actions() and controller.action_resume.isEnabled()
    assert controller.action_resume in window.findChild(QtWidgets.QMenu, "menuTrain").actions()
    # the design in the window changes meanwhile: the run goes on with its own copy, and says so
    window.editor.set_param("fc1", "out_features", 8)
    controller.action_resume.trigger()
    assert "own copy of the design" in window.statusBar().currentMessage()
    assert window.doc.locked and not controller.action_resume.isEnabled()
    qtbot.waitUntil(lambda: controller.store.started is not None, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "own copy" in controller.panel.status.text(), timeout=RUN_TIMEOUT_MS)
    result = wait_end(window, qtbot)
    assert result.kind == "finished" and result.reason == "completed", result
    # one run, in the same folder, every epoch and every step once
    assert [r.path for r in list_runs(tmp_path / "runs", tmp_path / "spiral.loom", "spiral")] == [folder]
    assert epochs_in(folder) == list(range(1, 13))
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "finished" and record["epochs_done"] == 12
    # (each logged step once; the engine logs no row for the steps after the last Step event before a stop)
    steps = steps_in(folder)
    assert steps == sorted(set(steps)) and steps[0] == 1 and steps[-1] == 12 * controller.store.progress.steps_per_epoch
    # the plots show the whole run: the earlier epochs and steps, then the live ones
    store, plots = controller.store, controller.plots
    assert [e.epoch for e in store.epochs] == list(range(1, 13))
    assert store.steps.column(1).tolist() == [float(s) for s in steps]
    assert np.all(np.isfinite(store.steps.column(3)))
    assert len(plots.loss_plot.val.getData()[0]) == 12 and len(plots.metric_plot.val.getData()[0]) == 12
    assert plots.loss_plot.smooth.getData()[0][0] < 1.0          # from the run's first epoch
    # the design in the window keeps the user's edit; the run trained its own copy
    assert window.doc.graph.node("fc1").params["out_features"] == 8
    # a completed run offers no resume
    assert controller.panel.runs()[0].resume_problem() == "it completed all its 12 epochs"
    assert not controller.action_resume.isEnabled()
    assert controller.resume_run() is False and "completed all its 12 epochs" in window.statusBar().currentMessage()


def test_a_stopped_gan_run_resumes_with_its_samples_and_both_players(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(example_copy(tmp_path, "gan_ring", epochs=8))
    controller = window.training
    folder = stop_after(window, qtbot, 2)
    assert json.loads((folder / "run.json").read_text())["epochs_done"] < 8
    # Pause and Stop work on a resumed run as on a new one, and a run stopped again resumes again
    controller.action_resume.trigger()
    controller.action_pause.trigger()
    qtbot.waitUntil(lambda: controller.store.status == "paused", timeout=RUN_TIMEOUT_MS)
    assert controller.action_pause.text() == "&Resume" and not controller.action_resume.isEnabled()
    controller.action_stop.trigger()
    assert wait_end(window, qtbot).reason == "stopped"
    assert json.loads((folder / "run.json").read_text())["epochs_done"] < 8
    result = resume(window, qtbot)
    assert result.kind == "finished" and result.reason == "completed", result
    assert "own copy" not in controller.panel.status.text()   # the design is unchanged
    assert epochs_in(folder) == list(range(1, 9))
    assert (folder / "generator.safetensors").is_file() and (folder / "samples" / "epoch_008.png").is_file()
    assert len(controller.panel.runs()) == 1 and not controller.action_resume.isEnabled()
    store, loss = controller.store, controller.plots.loss_plot
    assert [e.epoch for e in store.epochs] == list(range(1, 9)) and store.samples.epoch == 8
    for column in ("train_g_loss", "train_d_real", "train_d_fake"):
        assert len(loss.players[column].getData()[0]) == 8, column
    assert "validation" not in legend_names(controller.plots.metric_plot)


def test_a_resume_that_cannot_start_keeps_the_run_and_says_why(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(spiral_copy(tmp_path, epochs=12))
    folder = stop_after(window, qtbot, 1)
    kept = sorted(p.name for p in folder.iterdir())
    (folder / "checkpoint.pt").write_bytes(b"not a checkpoint")
    result = resume(window, qtbot)
    assert result.kind == "failed", result
    assert sorted(p.name for p in folder.iterdir()) == kept       # nothing of the run is removed
    assert epochs_in(folder) and json.loads((folder / "run.json").read_text())["reason"] == "stopped"
    assert window.training.panel.status.text().startswith("Training failed:")
    assert not window.doc.locked and window.training.action_train.isEnabled()
