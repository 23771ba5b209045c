"""The Qt-free parts of live training: the run's data as the plots read it, runs on disk, where a
failure points, the canvas badges (the plots' numerics: tests/test_plot_numerics.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.training import runs
from app.training.controller import badges, failure_place
from app.training.store import MAX_SNAPSHOTS, RunData
from engine.training.events import (
    Activations,
    ActivationSample,
    EpochEnded,
    Failed,
    GradientNorms,
    Histogram,
    LayerSummary,
    RunStarted,
    Step,
    WeightStats,
)


def started(epochs: int = 4, steps_per_epoch: int = 10) -> RunStarted:
    layers = tuple(LayerSummary(n, t, None, 0, True) for n, t in
                   (("x", "Input"), ("fc1", "Linear"), ("act1", "ReLU"), ("fc2", "Linear"), ("y", "Output")))
    return RunStarted("p", "cpu", "CPU", layers, 10, 10, 100, 20, 10, steps_per_epoch, epochs, 0, "spiral", {}, "off",
                      {}, ("accuracy",))


def sample(dead: float = 0.0, std: float = 1.0) -> ActivationSample:
    return ActivationSample((4,), 0.5, std, -1.0, 2.0, 0.1, dead, np.ones(8), np.zeros(4, np.float32))


def test_run_data_files_each_step_and_bumps_only_what_changed():
    data = RunData()
    data.add(started())
    before = dict(data.revision)
    data.add(Step(1, 3, 3, 10, 3, 2.0, 0.1, 100.0, 5.0, 0.1, losses=(3.0, 2.0, 1.0), lrs=(0.1,) * 3))
    assert [k for k in data.revision if data.revision[k] != before[k]] == ["loss", "progress"]
    assert data.steps.column(1).tolist() == [1, 2, 3] and data.steps.column(2).tolist() == [3.0, 2.0, 1.0]
    assert data.steps.column(0).tolist() == pytest.approx([0.1, 0.2, 0.3])      # x in epochs
    assert data.steps.column(3)[0] == 3.0 and 1.0 < data.steps.column(3)[-1] < 3.0  # debiased EMA
    data.add(Step(1, 4, 4, 10, 1, 0.5, 0.1, 100.0, 5.0, 0.2))                     # no per-step losses
    assert data.steps.column(2)[-1] == 0.5
    data.add(EpochEnded(1, 4, 1.0, 0.9, {"accuracy": 0.5}, {"accuracy": 0.6}, 0.1, 1.0, 100.0, True))
    table = data.epoch_table()
    assert table["val_accuracy"].tolist() == [0.6] and data.main_metric() == "accuracy"
    assert data.has_data("metric") and not data.has_data("weights")
    assert data.progress.fraction == pytest.approx(4 / 40)


def test_histories_are_thinned_not_unbounded():
    data = RunData()
    data.add(started(epochs=1000))
    hist = Histogram(np.ones(4, np.int64), -1.0, 1.0, 0.0, 0.5, 1.0)
    for step in range(1, 3 * MAX_SNAPSHOTS):
        data.add(WeightStats(1, step, {"fc1": hist}))
        data.add(GradientNorms(1, step, {"fc1": 0.1}, 0.1))
        data.add(Activations(1, step, {"act1": sample()}))
    history = data.weights["fc1"]
    assert len(history) <= MAX_SNAPSHOTS + 1 and history[-1][1] == 3 * MAX_SNAPSHOTS - 1
    assert history[0][1] == 1   # the first is kept: the plot still starts at the start
    assert data.activation_latest["act1"] is not None and len(data.gradients["fc1"]) == 3 * MAX_SNAPSHOTS - 1


def test_runs_are_listed_per_design_and_read_back(tmp_path):
    design = tmp_path / "spiral.loom"
    root = runs.runs_root(design, tmp_path / "user")
    assert root == tmp_path / "runs"
    first = runs.new_run_dir(root, runs.run_stem(design, "Spiral"))
    second = runs.new_run_dir(root, runs.run_stem(design, "Spiral"))
    assert first != second and first.name.startswith("spiral-")
    for folder, started_at, status in ((first, "2026-01-01T10:00:00", "finished"),
                                       (second, "2026-01-02T10:00:00", "failed")):
        (folder / "run.json").write_text(json.dumps({
            "format": "layerloom-run", "project": "Spiral", "project_file": str(design.resolve()),
            "status": status, "reason": "completed" if status == "finished" else "nan", "started": started_at,
            "epochs_done": 2, "final": {"val_accuracy": 0.975}, "error": "the loss became nan"}))
    other = runs.new_run_dir(root, "other")
    (other / "run.json").write_text(json.dumps({"format": "layerloom-run", "project_file": "/elsewhere.loom"}))
    listed = runs.list_runs(root, design, "Spiral")
    assert [r.path for r in listed] == [second, first]           # newest first, only this design's
    assert "val accuracy 97.5%" in listed[1].summary() and "failed" in listed[0].summary()
    (first / "steps.csv").write_text("epoch,step,batch,steps,loss,lr,samples_per_s,elapsed_s\n"
                                     "1,1,1,1,2.0,0.1,1,0\n1,2,2,1,1.0,0.1,1,0\n2,3,1,1,0.5,0.1,1,0\n"
                                     "2,4,2,1,0.25,0.1,1,0\n")
    (first / "metrics.csv").write_text("epoch,train_loss,val_loss,train_accuracy,val_accuracy,lr,seconds,"
                                       "samples_per_s\n1,1.5,1.2,0.5,0.6,0.1,1,1\n2,0.4,0.3,0.9,0.95,0.1,1,1\n")
    overlay = runs.read_overlay(listed[1])
    assert overlay.steps_x.tolist() == [0.5, 1.0, 1.5, 2.0] and overlay.val_loss.tolist() == [1.2, 0.3]
    assert overlay.metrics["val_accuracy"].tolist() == [0.6, 0.95]
    # an untitled design's runs: the per-user folder, by name
    assert runs.runs_root(None, tmp_path / "user") == tmp_path / "user"
    assert runs.list_runs(tmp_path / "user", None, "Spiral") == []


def test_a_failure_points_at_the_key_and_the_node():
    nodes = {"fc3", "y", "x"}
    assert failure_place(Failed("the loss became nan at step 3; lower training.learning_rate", "nan"), nodes) == (
        "training.learning_rate", None)
    assert failure_place(Failed("the data set 'spiral' has 3 classes, but Output 'y' gets 2 class scores; set "
                                "fc3.out_features to 3", "data"), nodes) == ("data", "y")
    assert failure_place(Failed("training.batch_size is 0; expected a whole number >= 1", "settings"), nodes) == (
        "training.batch_size", None)
    assert failure_place(Failed("device 'cuda:3' was asked for, but ...", "device"), nodes)[0] == "training.device"
    assert failure_place(Failed("out of memory on cuda:0", "out_of_memory"), nodes)[0] == "training.batch_size"


def test_badges_mark_vanishing_exploding_and_dead():
    data = RunData()
    data.add(started())
    data.add(GradientNorms(1, 1, {"fc1": 1e-9, "fc2": 0.5}, 0.5))
    data.add(Activations(1, 1, {"act1": sample(dead=0.8), "x": sample()}))
    shown = badges(data, ["x", "fc1", "act1", "fc2", "y"])
    assert shown["fc1"].state == "vanishing" and shown["fc1"].text.startswith("∇")
    assert shown["fc2"].state == "ok"
    assert shown["act1"].state == "dead" and shown["act1"].text == "dead 80%"
    assert "x" not in shown and "y" not in shown
    data.add(GradientNorms(1, 2, {"fc1": 0.3, "fc2": 5e3}, 5e3))
    data.add(Activations(1, 2, {"act1": sample(dead=0.1)}))
    shown = badges(data, ["fc1", "act1", "fc2"])
    assert shown["fc2"].state == "exploding" and shown["fc1"].state == "ok" and shown["act1"].state == "ok"


def test_run_data_asks_the_registry_what_a_node_is():
    """Which layers can have dead units and which nodes are the model's ends is declared on the
    layer types (rectifier, role), not listed in the app."""
    data = RunData()
    data.node_types = {"x": "Input", "fc": "Linear", "act": "GELU", "leaky": "LeakyReLU", "s": "Sigmoid",
                       "odd": "NoSuchType", "y": "Output"}
    assert [n for n in data.node_types if data.is_relu_like(n)] == ["act", "leaky"]
    assert [n for n in data.node_types if data.is_model_end(n)] == ["x", "y"]
    assert not data.is_relu_like("missing") and not data.is_model_end("missing")
