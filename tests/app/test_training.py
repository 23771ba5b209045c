"""Live training in the window (issue 7): the spiral example trained through actionTrain, the
plots, the canvas badges, the lock, Stop/Pause, failures in the problems panel, runs kept and
exported, closing mid-run, and the settings as undoable edits of the project's sections."""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.training import controller as controller_module
from app.training import pacing
from app.training.loader import engine_loader
from tests.conftest import EXAMPLES

RUN_TIMEOUT_MS = 90_000


def spiral_copy(tmp_path: Path, **training) -> Path:
    """The spiral example, saved in tmp_path (so its runs folder is tmp_path/runs), made quick."""
    doc = json.loads((EXAMPLES / "spiral_mlp.loom").read_text())
    doc["data"] = {"dataset": "spiral", "classes": 3, **(doc.get("data") or {}), "samples": 1200}
    doc["training"] = {"batch_size": 64, "optimizer": "adam", "learning_rate": 0.01, "schedule": "cosine", "seed": 0,
                       **(doc.get("training") or {}), "epochs": 4, **training}
    path = tmp_path / "spiral.loom"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def trainer_window(make_window, tmp_path, qtbot):
    """Make a shown window on a design file, with the training side loaded."""
    engine_loader().wait()

    def make(path: Path):
        window = make_window(path, runs_dir=tmp_path / "user-runs")
        window.resize(1500, 950)
        window.show()
        qtbot.waitUntil(lambda: window._shown)
        assert window.training.panel.ensure_built()
        return window

    yield make


def start(window, qtbot) -> None:
    window.training.action_train.trigger()
    assert window.training.session is not None, window.statusBar().currentMessage()


def wait_end(window, qtbot, timeout: int = RUN_TIMEOUT_MS, settle: bool = True):
    if window.training.session is None:
        result = window.training.store.result
    else:
        with qtbot.waitSignal(window.training.run_ended, timeout=timeout) as blocker:
            pass
        result = blocker.args[0]
    if settle:
        qtbot.waitUntil(lambda: window.training.settled, timeout=5000)  # the plots show the end
    return result


def wheel(view: QtWidgets.QGraphicsView, notches: int) -> None:
    """Turn the mouse wheel over the middle of a plot, as a user zooming in."""
    viewport = view.viewport()
    pos = QtCore.QPointF(viewport.rect().center())
    event = QtGui.QWheelEvent(pos, QtCore.QPointF(viewport.mapToGlobal(pos.toPoint())), QtCore.QPoint(0, 0),
                              QtCore.QPoint(0, 120 * notches), QtCore.Qt.MouseButton.NoButton,
                              QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(viewport, event)


def wait_epochs(window, qtbot, count: int) -> None:
    qtbot.waitUntil(lambda: len(window.training.store.epochs) >= count, timeout=RUN_TIMEOUT_MS)


def test_a_spiral_run_fills_every_plot_badges_the_canvas_and_is_kept(trainer_window, tmp_path, qtbot, monkeypatch):
    # Badges refresh at most every STATUS_S; a six-epoch run can end inside that, so let
    # every tick refresh them here (the bound itself is a GUI-load choice, not behaviour).
    monkeypatch.setattr(controller_module, "STATUS_S", 0.0)
    window = trainer_window(spiral_copy(tmp_path, epochs=30))
    controller = window.training
    t0 = time.perf_counter()
    start(window, qtbot)
    assert window.doc.locked and window.lock_banner.isVisible()
    session = controller.session
    # the canvas comes alive during the run
    qtbot.waitUntil(lambda: window.canvas.live_badge("act1") is not None, timeout=RUN_TIMEOUT_MS)
    assert window.canvas.live_badge("act1").text.startswith("dead")
    assert window.canvas.live_badge("fc1").text.startswith("∇")
    assert window.canvas.live_badge("x") is None and window.canvas.live_badge("y") is None
    result = wait_end(window, qtbot)
    seconds = time.perf_counter() - t0
    assert result.kind == "finished" and result.reason == "completed", result
    store = controller.store
    # every plot received data and drew it
    plots = controller.plots
    for frame in plots.frames():
        assert frame.received_data(), frame.objectName()
        assert frame.redraws >= 1, frame.objectName()
        assert window.findChild(QtWidgets.QWidget, frame.objectName()) is frame
    assert len(plots.loss_plot.smooth.getData()[0]) > 0 and len(plots.loss_plot.val.getData()[0]) == 30
    assert len(plots.metric_plot.val.getData()[0]) == 30 and plots.metric_plot.metric_name == "accuracy"
    assert plots.weights_plot.image.image is not None and plots.weights_plot.chooser.count() == 3  # fc1..fc3
    assert set(plots.gradients_plot.curves) == {"fc1", "fc2", "fc3"}
    assert len(plots.activations_plot.mean.getData()[0]) > 0
    assert plots.boundary_plot.image.image is not None and store.boundary.epoch == 30
    assert store.epochs[-1].val_metrics["accuracy"] > 0.5
    # the redraws are bounded by the timer, not by the events
    assert max(f.redraws for f in plots.frames()) <= seconds * 1000 / 100 + 5
    assert session.wakeups <= session.delivered
    # the canvas is quiet after the run
    assert window.canvas.live_badge("fc1") is None
    # unlocked, progress says how it ended
    assert not window.doc.locked and not window.lock_banner.isVisible()
    assert controller.action_train.isEnabled() and not controller.action_stop.isEnabled()
    assert "finished" in controller.panel.progress.format()
    # the run is kept beside the design and listed
    runs = controller.panel.runs()
    assert len(runs) == 1 and runs[0].status == "finished"
    folder = runs[0].path
    assert folder.parent == tmp_path / "runs"
    for name in ("run.json", "metrics.csv", "steps.csv", "weights.safetensors", "model.py", "design.loom"):
        assert (folder / name).is_file(), name
    assert "val accuracy" in runs[0].summary()
    # clicking a node shows it in the plots
    window.canvas.select(["fc2"])
    assert plots.weights_plot.selected == "fc2" and plots.weights_plot.chooser.currentText() == "fc2"
    window.canvas.select(["act2"])
    assert plots.activations_plot.chooser.currentText() == "act2"
    # each plot saves as PNG and CSV
    for frame in plots.frames():
        png, csv = tmp_path / f"{frame.objectName()}.png", tmp_path / f"{frame.objectName()}.csv"
        assert frame.save_png(png) and png.stat().st_size > 1000
        assert frame.save_csv(csv) and len(csv.read_text().splitlines()) > 1, frame.objectName()
    # an earlier run overlays its curves
    controller.set_overlaid([folder])
    assert len(plots.loss_plot.overlay_items) == 2 and len(plots.metric_plot.overlay_items) == 2
    # export the trained model: code plus weights, loadable by torch
    out = tmp_path / "export" / "spiral.py"
    assert controller.export_run_to(runs[0], out)
    assert out.is_file() and out.with_suffix(".safetensors").is_file()
    import importlib.util

    import torch
    from safetensors.torch import load_file

    spec = importlib.util.spec_from_file_location("exported_spiral", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    model.load_state_dict(load_file(str(out.with_suffix(".safetensors"))))
    assert model(torch.zeros(5, 2)).shape == (5, 3)


def test_stop_and_pause_answer_at_once(trainer_window, tmp_path, qtbot):
    window = trainer_window(spiral_copy(tmp_path, epochs=400))
    controller = window.training
    before = sys.getswitchinterval()
    start(window, qtbot)
    wait_epochs(window, qtbot, 2)
    assert sys.getswitchinterval() == pacing.TRAINING_SWITCH_S   # redraws hand the GIL over quickly
    # a plot the user zooms (mouse wheel) keeps their view while data comes in
    loss = controller.plots.loss_plot
    loss_box = loss.view.getPlotItem().getViewBox()
    following = loss_box.viewRange()
    wheel(loss.view, 3)
    zoomed = loss_box.viewRange()
    assert loss.user_range and zoomed != following
    # pause: the steps stop; resume: they go on
    controller.action_pause.trigger()
    qtbot.waitUntil(lambda: controller.store.status == "paused", timeout=5000)
    assert controller.action_pause.isChecked() and controller.action_pause.text() == "&Resume"
    step = controller.store.progress.step
    qtbot.wait(400)
    assert controller.store.progress.step == step
    redraws = loss.redraws
    controller.action_pause.trigger()
    qtbot.waitUntil(lambda: controller.store.progress.step > step, timeout=5000)
    wait_epochs(window, qtbot, len(controller.store.epochs) + 1)
    qtbot.waitUntil(lambda: loss.redraws > redraws, timeout=5000)
    assert loss_box.viewRange() == zoomed
    loss.follow_again()  # the "A" button: it follows the data again
    assert loss_box.viewRange()[0] == [0.0, 400.0] and not loss.user_range
    # stop: the run ends within a second
    t0 = time.perf_counter()
    controller.action_stop.trigger()
    result = wait_end(window, qtbot, timeout=1000, settle=False)
    assert time.perf_counter() - t0 < 1.0
    wait_end(window, qtbot)
    assert result.kind == "finished" and result.reason == "stopped"
    assert not window.doc.locked and controller.session is None
    assert sys.getswitchinterval() == before
    run = controller.panel.runs()[0]
    assert run.reason == "stopped" and run.weights.is_file()


def test_the_design_is_locked_while_it_trains(trainer_window, tmp_path, qtbot):
    window = trainer_window(spiral_copy(tmp_path, epochs=400))
    doc, editor = window.doc, window.editor
    editor.set_param("fc1", "out_features", 32)  # an edit before the run: on the stack
    before = doc.undo_stack.count()
    start(window, qtbot)
    wait_epochs(window, qtbot, 1)
    assert window.lock_banner.isVisible() and window.status_lock.isVisible()
    assert not window.properties.isEnabled() and not window.training.panel.form_body.isEnabled()
    # edits that change the model are refused, with the reason in the status bar
    editor.set_param("fc1", "out_features", 8)
    assert doc.graph["fc1"].params["out_features"] == 32
    assert "locked while it trains" in window.statusBar().currentMessage()
    assert editor.add_node("ReLU", (0.0, 300.0)) is None
    window.canvas.select(["act1"])
    editor.delete_selection()
    assert doc.graph.node("act1") is not None
    assert not editor.connect("x", "fc2", 0, 0)
    assert not editor.rename("fc1", "first")
    from app.commands import RemoveItems
    from app.training.commands import SetSection

    assert not doc.push(RemoveItems(doc, ["fc3"]))
    assert not doc.push(SetSection(doc, "training", {**doc.project.training, "epochs": 3}, "Set training.epochs"))
    assert doc.undo_stack.count() == before
    # undoing a change to the model waits too
    assert not window.action_undo.isEnabled()
    window.action_undo.trigger()
    assert doc.graph["fc1"].params["out_features"] == 32
    # moving nodes is allowed, and so is undoing a move
    editor.move_nodes({"fc3": ((1100.0, 0.0), (1100.0, 200.0))})
    assert doc.graph["fc3"].pos == (1100.0, 200.0)
    assert window.action_undo.isEnabled()
    window.action_undo.trigger()
    assert doc.graph["fc3"].pos == (1100.0, 0.0)
    assert not window.action_undo.isEnabled()
    # the run trains what it started with
    assert window.training.store.started.layers[1].node == "fc1"
    window.training.action_stop.trigger()
    wait_end(window, qtbot)
    assert not window.lock_banner.isVisible() and window.properties.isEnabled()
    editor.set_param("fc1", "out_features", 8)
    assert doc.graph["fc1"].params["out_features"] == 8
    window.action_undo.trigger()
    window.action_undo.trigger()
    assert doc.graph["fc1"].params.get("out_features", 64) == 64


def test_a_nan_run_reports_its_failure_and_loses_nothing(trainer_window, tmp_path, qtbot):
    window = trainer_window(spiral_copy(tmp_path))
    panel = window.training.panel
    # set the optimiser and a huge learning rate through the panel: undoable edits of `training`
    optimizer = panel.rows["training.optimizer"].editor
    optimizer.setCurrentIndex(optimizer.findData("sgd"))
    optimizer.activated.emit(optimizer.currentIndex())
    panel.rows["training.learning_rate"].editor.setValue(1e6)
    assert window.doc.project.training["optimizer"] == "sgd"
    assert window.doc.project.training["learning_rate"] == 1e6
    assert window.doc.undo_stack.undoText() == "Set training.learning_rate"
    start(window, qtbot)
    result = wait_end(window, qtbot)
    assert result.kind == "failed" and result.reason == "nan"
    rows = window.problems.rows()
    assert rows[0][0] == "training.learning_rate" and "the loss became nan" in rows[0][1]
    assert window.docks["problemsPanel"].isVisible()
    assert "Training failed" in window.statusBar().currentMessage()
    assert "failed" in panel.progress.format()
    # a click on the row shows the setting it names
    qtbot.mouseClick(window.problems.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=window.problems.visualItemRect(window.problems.topLevelItem(0)).center())
    assert window.docks["trainingPanel"].isVisible()
    assert panel.rows["training.learning_rate"].editor.hasFocus()
    # the window is usable and nothing was lost: the edits are there, and undo takes them back
    assert not window.doc.locked and window.training.action_train.isEnabled()
    assert window.doc.dirty
    window.action_undo.trigger()
    assert window.doc.project.training["learning_rate"] == 0.01
    assert panel.rows["training.learning_rate"].editor.value() == 0.01
    # the failed run is listed as failed (it got as far as training)
    assert panel.runs()[0].status == "failed"
    # the next run clears the old failure
    window.action_undo.trigger()
    start(window, qtbot)
    assert window.problems.run_problems() == []
    assert wait_end(window, qtbot).kind == "finished"


def test_data_that_does_not_fit_and_an_absent_device_are_reported(trainer_window, tmp_path, qtbot):
    window = trainer_window(spiral_copy(tmp_path))
    window.editor.set_param("fc3", "out_features", 2)  # 3 classes, 2 scores
    start(window, qtbot)
    result = wait_end(window, qtbot)
    assert result.kind == "failed" and result.reason == "data"
    where, message = window.problems.rows()[0]
    assert where == "data" and "3 classes" in message and "fc3.out_features" in message
    assert window.problems.run_problems()[0][2] in ("y", "fc3")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # nothing ran: no folder
    window.action_undo.trigger()
    # a device this machine does not have
    panel = window.training.panel
    window.doc.push(__import__("app.training.commands", fromlist=["SetSection"]).SetSection(
        window.doc, "training", {**window.doc.project.training, "device": "cuda:7"}, "Set training.device"))
    assert panel.device_box.currentText() == "cuda:7 (not on this machine)"
    assert panel.device_problem.isHidden()  # a well-formed spec: only the run can tell
    start(window, qtbot)
    result = wait_end(window, qtbot)
    assert result.kind == "failed" and result.reason == "device"
    assert window.problems.rows()[0][0] == "training.device"
    assert not window.doc.locked


def test_closing_the_window_mid_run_stops_it_cleanly(trainer_window, tmp_path, qtbot):
    window = trainer_window(spiral_copy(tmp_path, epochs=400))
    start(window, qtbot)
    wait_epochs(window, qtbot, 1)
    session = window.training.session
    t0 = time.perf_counter()
    assert window.close()
    assert time.perf_counter() - t0 < 5.0
    assert not session.running
    run = json.loads(next((tmp_path / "runs").iterdir()).joinpath("run.json").read_text())
    assert run["status"] == "finished" and run["reason"] == "stopped"


def test_settings_are_the_projects_sections_and_undoable(trainer_window, tmp_path, qtbot):
    window = trainer_window(spiral_copy(tmp_path))
    doc, panel = window.doc, window.training.panel
    # the device box lists what this machine has
    from engine.training.device import available_devices

    specs = panel.device_specs()
    assert specs[0] == "auto"
    assert specs[1:] == [str(d.device) for d in available_devices()]
    assert "cpu" in specs and panel.device_box.itemText(specs.index("cpu")).startswith("cpu — CPU")
    # a new data set drops the old one's options in one step
    box = panel.dataset_box
    box.setCurrentIndex(box.findData("moons"))
    box.activated.emit(box.currentIndex())
    assert doc.project.data == {"dataset": "moons"}
    assert "data.noise" in panel.rows and "data.turns" not in panel.rows
    panel.rows["data.noise"].editor.setValue(0.2)
    assert doc.project.data == {"dataset": "moons", "noise": 0.2}
    window.action_undo.trigger()
    window.action_undo.trigger()
    assert doc.project.data == {"dataset": "spiral", "samples": 1200, "classes": 3}
    assert "data.turns" in panel.rows and box.currentData() == "spiral"
    # schedule, early stopping, augmentation, the loss of the Output
    schedule = panel.schedule_box
    schedule.setCurrentIndex(schedule.findData("step"))
    schedule.activated.emit(schedule.currentIndex())
    assert doc.project.training["schedule"] == "step"
    panel.rows["training.schedule.step_size"].editor.setValue(3)
    assert doc.project.training["schedule"] == {"type": "step", "step_size": 3}
    panel.early_switch.setChecked(True)
    assert doc.project.training["early_stopping"] == {"patience": 10}
    panel.rows["training.early_stopping.patience"].editor.setValue(4)
    assert doc.project.training["early_stopping"] == {"patience": 4}
    panel.rows["data.augment.noise"].editor.setValue(0.05)
    assert doc.project.data["augment"] == {"noise": 0.05}
    loss = panel.findChild(QtWidgets.QComboBox, "loss_y")
    loss.setCurrentIndex(loss.findData("nll"))
    loss.activated.emit(loss.currentIndex())
    assert doc.graph["y"].params["loss"] == "nll"
    # a value the engine refuses is shown under its field
    panel.rows["training.momentum"].editor.setValue(0.5)
    panel.rows["training.nesterov"].editor.setChecked(True)
    assert "needs optimizer 'sgd'" in panel.rows["training.nesterov"].problem.text()
    for _ in range(8):
        window.action_undo.trigger()
    assert doc.project.training == json.loads(spiral_copy(tmp_path).read_text())["training"]
    assert doc.graph["y"].params.get("loss", "cross_entropy") == "cross_entropy"
    assert not panel.rows["training.nesterov"].problem.isVisible()
    # saved with the design
    window.save_to(tmp_path / "saved.loom")
    assert json.loads((tmp_path / "saved.loom").read_text())["data"]["dataset"] == "spiral"


def test_the_adapter_coalesces_a_flood_of_events(qtbot, tmp_path):
    """However fast the trainer sends, the GUI thread is woken once per turn, not per event."""
    engine_loader().wait()
    from app.training.session import TrainingSession
    from engine.training.events import Note
    from graph.project import load

    session = TrainingSession(load(EXAMPLES / "spiral_mlp.loom"), base_dir=tmp_path, out_dir=None)
    got: list = []
    session.events.connect(lambda batch: got.append(len(batch)))

    def flood() -> None:
        for i in range(5000):
            session._on_event(Note(str(i)))

    thread = threading.Thread(target=flood)
    thread.start()
    thread.join()   # the GUI thread did not turn meanwhile: one wake-up is pending, not 5,000
    QtCore.QCoreApplication.processEvents()
    assert sum(got) == 5000 and len(got) == 1
    assert session.wakeups == 1 and session.delivered == 5000


def example_copy(tmp_path: Path, name: str, **training) -> Path:
    doc = json.loads((EXAMPLES / f"{name}.loom").read_text())
    doc["training"].update(training)
    path = tmp_path / f"{name}.loom"
    path.write_text(json.dumps(doc))
    return path


def test_feature_maps_regression_and_no_boundary_on_other_examples(trainer_window, tmp_path, qtbot):
    # a CNN: feature maps for convolution outputs, dead units of its ReLUs, no decision boundary
    window = trainer_window(example_copy(tmp_path, "digits_cnn", epochs=2))
    start(window, qtbot)
    assert wait_end(window, qtbot).kind == "finished"
    plots = window.training.plots
    window.canvas.select(["act1"])
    activations = plots.activations_plot
    assert activations.chooser.currentText() == "act1"
    assert activations.maps_box.isVisible() and activations.maps.image.shape[0] > 8  # a grid of 8x8 maps
    assert activations.dead_box.isVisible()
    window.canvas.select(["fc1"])
    assert not activations.maps_box.isVisible() and not activations.dead_box.isVisible()
    assert plots.boundary_plot.empty.text().startswith("No decision boundary")
    assert plots.metric_plot.metric_name == "accuracy"
    # regression: the metric plot shows the error
    assert window.open_path(example_copy(tmp_path, "sine_regression", epochs=3))
    start(window, qtbot)
    assert wait_end(window, qtbot).kind == "finished"
    assert plots.metric_plot.metric_name == "mae"
    assert plots.metric_plot.title_line.text().startswith("Error (mean absolute)")
    assert len(plots.metric_plot.val.getData()[0]) == 3


def test_the_engine_loads_in_the_background(qtbot):
    """torch and the trainer load off the GUI thread; waiting for them meanwhile works."""
    from app.training.loader import EngineLoader

    loader = EngineLoader()
    with qtbot.waitSignal(loader.ready, timeout=60_000):
        loader.start()
    assert loader.is_ready and str(loader.devices[-1].device) == "cpu"
    warm = EngineLoader()
    warm.warm_up()          # loads on its own thread...
    assert warm.wait()      # ...and a wait meanwhile returns when it is done, not before
    assert warm.devices


def test_an_example_from_the_menu_trains_and_keeps_its_runs_in_the_user_folder(trainer_window, tmp_path, qtbot):
    window = trainer_window(spiral_copy(tmp_path))
    action = next(a for a in window.examples_menu.actions() if a.data() and a.data().endswith("spiral_mlp.loom"))
    action.trigger()
    assert window.doc.path is None and window.doc.project.data.get("dataset") == "spiral"
    panel = window.training.panel
    panel.rows["training.epochs"].editor.setValue(2)   # a short run: an undoable edit of the example's copy
    assert window.doc.project.training["epochs"] == 2
    start(window, qtbot)
    assert wait_end(window, qtbot).kind == "finished"
    (run,) = panel.runs()
    assert run.path.parent == tmp_path / "user-runs" and run.path.name.startswith("Spiral-classifier-")
    assert json.loads((run.path / "design.loom").read_text())["training"]["epochs"] == 2
    assert not (EXAMPLES / "runs").exists()


@pytest.mark.gpu
def test_the_spiral_trains_on_the_gpu_chosen_in_the_device_box(trainer_window, tmp_path, qtbot):
    """Issue 7's "the same on a GPU when one is chosen": the device box lists the GPU by name,
    choosing it is an undoable edit, and the run trains there with every plot, the boundary and
    the export working as on the CPU."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    window = trainer_window(spiral_copy(tmp_path, epochs=12))
    panel, controller = window.training.panel, window.training
    index = panel.device_box.findData("cuda:0")
    assert index >= 0 and torch.cuda.get_device_name(0) in panel.device_box.itemText(index)
    panel.device_box.setCurrentIndex(index)
    panel.device_box.activated.emit(index)           # as a user's pick
    assert window.doc.project.training["device"] == "cuda:0"
    start(window, qtbot)
    result = wait_end(window, qtbot)
    assert result.kind == "finished", result
    store = controller.store
    assert store.started.device.startswith("cuda") and torch.cuda.get_device_name(0) in store.started.device_name
    for frame in controller.plots.frames():
        assert frame.received_data() and frame.redraws >= 1, frame.objectName()
    assert store.boundary.epoch == 12 and store.epochs[-1].val_metrics["accuracy"] > 0.5
    out = tmp_path / "export" / "spiral_gpu.py"
    assert controller.export_run_to(controller.panel.runs()[0], out)
    assert out.with_suffix(".safetensors").is_file()
    window.action_undo.trigger()
    assert window.doc.project.training.get("device", "auto") != "cuda:0"
