"""Issue 11, "the design it opens trains": the design the window opens with no file trains on F5
and fills every plot; a design-only example says so over the canvas and in the Training panel,
and how to give it data; the panel never invites a Train that has no data set to train on."""
from __future__ import annotations

import json
import time

from PySide6 import QtWidgets

from app.notice import DESIGN_ONLY, NO_DATA, READY
from app.training.loader import engine_loader
from tests.app.test_training import RUN_TIMEOUT_MS
from tests.conftest import EXAMPLES


def shown(make_window, qtbot, tmp_path, path=None):
    engine_loader().wait()
    window = make_window(path, runs_dir=tmp_path / "user-runs")
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    assert window.training.panel.ensure_built()
    return window


def test_the_default_design_trains_on_f5_and_fills_every_plot(make_window, qtbot, tmp_path):
    window = shown(make_window, qtbot, tmp_path)
    controller, panel = window.training, window.training.panel
    assert window.doc.path is None and window.doc.project.data.get("dataset")
    assert panel.status.text() == READY and not window.design_notice.isVisible()
    assert controller.action_train.shortcut().toString() == "F5"
    started = time.perf_counter()
    with qtbot.waitSignal(controller.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        controller.action_train.trigger()   # the design as it opens, untouched: what a new user gets
    seconds = time.perf_counter() - started
    result = ended.args[0]
    assert result.kind == "finished" and result.reason == "completed", result
    qtbot.waitUntil(lambda: controller.settled, timeout=5000)
    plots = controller.plots
    for frame in plots.frames():
        assert frame.received_data() and frame.redraws >= 1, frame.objectName()
    for name in ("lossPlot", "metricPlot", "weightsPlot", "gradientsPlot", "activationsPlot"):
        assert window.findChild(QtWidgets.QWidget, name) in plots.frames(), name
    assert plots.boundary_plot.image.image is not None      # the data are 2-D: the decision boundary too
    epochs = window.doc.project.training["epochs"]
    store = controller.store
    assert len(store.epochs) == epochs and store.boundary.epoch == epochs
    assert store.epochs[-1].val_metrics["accuracy"] >= 0.95
    print(f"default design: {epochs} epochs in {seconds:.1f} s in the window, "
          f"val accuracy {store.epochs[-1].val_metrics['accuracy']:.4f}")


def test_a_design_only_example_says_so_on_the_canvas_and_in_the_training_panel(make_window, qtbot, tmp_path):
    window = shown(make_window, qtbot, tmp_path)
    panel, notice = window.training.panel, window.design_notice
    design_only = [p for p in sorted(EXAMPLES.glob("*.loom")) if not json.loads(p.read_text())["data"]]
    assert [p.name for p in design_only] == ["resnet18.loom"]
    for path in sorted(EXAMPLES.glob("*.loom")):
        assert window.open_example(path)
        if path in design_only:
            assert notice.isVisible() and "Design-only example: it has no data set" in notice.text(), path.name
            assert notice.geometry().top() == 0 and notice.width() == window.canvas.viewer.width()
            assert panel.status.text() == DESIGN_ONLY
        else:
            assert not notice.isVisible(), path.name
            assert panel.status.text() == READY, path.name
    # the notice's "Training ▸ Data" leads to the data-set box
    assert window.open_example(design_only[0])
    window.docks["trainingPanel"].close()     # even when the user has closed the Training dock
    panel.tabs.setCurrentIndex(1)
    assert not panel.isVisible()
    notice.linkActivated.emit("data")
    assert panel.isVisible() and panel.tabs.currentIndex() == 0
    assert panel.dataset_box.isVisible() and window.focusWidget() is panel.dataset_box
    # choosing a data set (an undoable edit) ends the notice; undoing it brings it back
    index = panel.dataset_box.findData("image_folder")
    panel.dataset_box.setCurrentIndex(index)
    panel.dataset_box.activated.emit(index)
    assert window.doc.project.data["dataset"] == "image_folder"
    assert not notice.isVisible() and panel.status.text() == READY
    window.action_undo.trigger()
    assert notice.isVisible() and panel.status.text() == DESIGN_ONLY


def test_the_hint_never_says_train_when_there_is_no_data_set(make_window, qtbot, tmp_path):
    window = shown(make_window, qtbot, tmp_path)
    panel = window.training.panel
    assert window.new_project()
    assert panel.status.text() == NO_DATA and "Press Train" not in panel.status.text()
    assert not window.design_notice.isVisible()       # a new design is not an example: no banner
    index = panel.dataset_box.findData("spiral")
    panel.dataset_box.setCurrentIndex(index)
    panel.dataset_box.activated.emit(index)
    assert panel.status.text() == READY
    window.action_undo.trigger()
    assert panel.status.text() == NO_DATA
    # a run's own line stays until the next run; the hint comes back with the next design
    panel.status.setText("Training failed: something")
    window.doc.settings_changed.emit("data")
    assert panel.status.text() == "Training failed: something"
    assert window.open_example(EXAMPLES / "resnet18.loom")
    assert panel.status.text() == DESIGN_ONLY
