"""The window stays fast while the user works during a run (issue 11, item 5): a click on a node
marks the layer plots for the redraw timer instead of redrawing them, Properties reuses its
editors for a type it has shown, and Properties, zoom and pan keep to the GUI thread's CPU
budget while a run trains (app.training.pacing.Paced). No timings here: bench/gui_training.py
measures the cost."""
from __future__ import annotations

import json

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.training import pacing
from app.training.loader import engine_loader
from tests.app.gestures import drop_layer
from tests.conftest import EXAMPLES


class Budget:
    """A CPU budget the test opens and closes by hand."""

    def __init__(self, allows: bool = True):
        self.open = allows
        self.asked = 0

    def allows(self) -> bool:
        self.asked += 1
        return self.open


@pytest.fixture
def closed_budget(monkeypatch) -> Budget:
    """The GUI thread is over its budget until the test says otherwise."""
    budget = Budget(False)
    monkeypatch.setattr(pacing, "gui_budget", lambda: budget)
    return budget


def test_paced_work_runs_at_once_when_idle_and_folds_calls_while_over_budget(qtbot):
    done = []
    busy = [False]
    budget = Budget(False)
    paced = pacing.Paced(lambda: done.append(1), lambda: busy[0], budget)
    paced()
    assert done == [1] and budget.asked == 0   # no run: the budget is not even asked
    busy[0] = True
    for _ in range(5):
        paced()
    assert done == [1] and paced.waiting       # over budget: waits, the five calls fold into one
    budget.open = True
    qtbot.waitUntil(lambda: not paced.waiting, timeout=2000)
    assert done == [1, 1]


def test_paced_work_waits_no_longer_than_the_user_can_bear(qtbot):
    clock = [0.0]
    done = []
    paced = pacing.Paced(lambda: done.append(1), lambda: True, Budget(False), wall=lambda: clock[0])
    paced()
    assert not done
    clock[0] = pacing.LONGEST_WAIT_S
    qtbot.waitUntil(lambda: done == [1], timeout=2000)


def test_properties_reuses_the_editors_of_a_type_it_has_shown(window):
    a = drop_layer(window, "Conv2d", (0.0, 0.0))
    b = drop_layer(window, "Conv2d", (300.0, 0.0))
    relu = drop_layer(window, "ReLU", (600.0, 0.0))
    window.editor.set_param(b, "out_channels", 7)
    window.canvas.select([a])
    editor = window.properties.rows["out_channels"].editor
    window.canvas.select([relu])
    window.canvas.select([b])
    assert window.properties.rows["out_channels"].editor is editor   # the same widget, the other node
    assert editor.value() == 7 and window.properties.id_edit.text() == b
    window.canvas.select([a])
    assert editor.value() == 16 and window.properties.node_id == a


def test_properties_follows_a_click_within_the_budget_while_a_run_trains(window, closed_budget, qtbot):
    fc = drop_layer(window, "Linear", (0.0, 0.0))
    relu = drop_layer(window, "ReLU", (300.0, 0.0))
    window.canvas.select([fc])
    window.doc.lock("a run trains")
    window.canvas.select([relu])
    assert window.properties.node_id == fc          # over budget: not yet
    closed_budget.open = True
    qtbot.waitUntil(lambda: window.properties.node_id == relu, timeout=2000)
    window.doc.unlock()


def wheel_steps(viewer, steps: int) -> None:
    centre = QtCore.QPointF(viewer.viewport().rect().center())
    for _ in range(steps):
        event = QtGui.QWheelEvent(centre, QtCore.QPointF(viewer.viewport().mapToGlobal(centre.toPoint())),
                                  QtCore.QPoint(), QtCore.QPoint(0, 120), QtCore.Qt.MouseButton.NoButton,
                                  QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(viewer.viewport(), event)


def test_zoom_while_a_run_trains_moves_the_view_when_the_budget_allows(window, closed_budget, qtbot):
    drop_layer(window, "Linear", (0.0, 0.0))
    viewer = window.canvas.viewer
    wheel_steps(viewer, 1)   # no run: at once
    zoomed = viewer.sceneRect()
    assert zoomed == viewer._scene_range
    window.doc.lock("a run trains")
    wheel_steps(viewer, 3)
    assert viewer.sceneRect() == zoomed                  # over budget: the view waits...
    assert viewer._scene_range.width() < zoomed.width()  # ...but every step counts
    closed_budget.open = True
    qtbot.waitUntil(lambda: viewer.sceneRect() == viewer._scene_range, timeout=2000)
    window.doc.unlock()


@pytest.fixture
def spiral_window(make_window, tmp_path, qtbot):
    engine_loader().wait()
    doc = json.loads((EXAMPLES / "spiral_mlp.loom").read_text())
    doc["data"] = {"dataset": "spiral", "classes": 3, "samples": 1200}
    doc["training"] = {**(doc.get("training") or {}), "epochs": 200, "batch_size": 16}
    path = tmp_path / "spiral.loom"
    path.write_text(json.dumps(doc))
    window = make_window(path, runs_dir=tmp_path / "runs")
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    assert window.training.panel.ensure_built()
    return window


def test_a_click_during_a_run_marks_the_layer_plots_for_the_redraw_timer(spiral_window, qtbot):
    window = spiral_window
    training = window.training
    assert training.train()
    training.toggle_pause()   # the run goes on existing, between two steps
    plots = training.plots
    frames = (plots.weights_plot, plots.gradients_plot, plots.activations_plot)
    layers = [n.id for n in window.doc.graph.nodes if n.type == "Linear"]
    try:
        for node in layers:
            before = [f.redraws for f in frames]
            window.canvas.select([node])
            assert [f.redraws for f in frames] == before    # nothing drawn in the click itself
            assert all(f.selected == node for f in frames)  # but they follow it...
        qtbot.waitUntil(lambda: all(f._key() == f._drawn for f in frames), timeout=10_000)  # ...on the timer
    finally:
        with qtbot.waitSignal(training.run_ended, timeout=60_000):
            training.stop()
    # with no run, a click draws them at once
    before = [f.redraws for f in frames]
    window.canvas.select([layers[0]])
    assert all(f.redraws > b for f, b in zip(frames, before))
