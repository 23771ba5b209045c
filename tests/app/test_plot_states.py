"""The live plots' states around a run (issue 11): before a run they say what will come over sane
axes; a stopped run fills the time axis; the decision boundary keeps pace with short epochs;
titles lose whole words, never half of one."""
from __future__ import annotations

import types

import numpy as np
import pytest

from app.training.store import RunData
from engine.training.events import EpochEnded, Finished, Step
from tests.app.test_training_parts import started


@pytest.fixture
def panel(qtbot):
    from app.training.plots.grid import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.resize(1200, 500)
    plots.show()
    qtbot.waitExposed(plots)
    return plots


def epoch(n: int, epochs: int) -> EpochEnded:
    return EpochEnded(n, epochs, 1.0 / n, 1.2 / n, {"accuracy": 0.5}, {"accuracy": 0.6}, 0.01, 0.1, 1000.0, True)


def test_a_stopped_run_fills_the_time_axis_with_what_it_trained(panel):
    store = RunData()
    panel.set_store(store)
    store.add(started(epochs=400, steps_per_epoch=10))
    for n in range(1, 4):
        store.add(Step(n, n * 10, 10, 10, 10, 1.0, 0.01, 100.0, 5.0, 0.1, losses=(1.0,) * 10))
        store.add(epoch(n, 400))
    panel.refresh(force=True)
    x0, x1 = panel.loss_plot.view.getPlotItem().getViewBox().viewRange()[0]
    assert x1 == pytest.approx(400)                        # while it runs: the run as planned
    store.add(Finished("stopped", 3, 30, 1.0, {}))
    panel.refresh(force=True)
    for frame in (panel.loss_plot, panel.metric_plot):
        x0, x1 = frame.view.getPlotItem().getViewBox().viewRange()[0]
        assert (x0, x1) == pytest.approx((0.0, 3.0)), frame.objectName()   # stopped: the 3 epochs it trained


def test_before_a_run_each_plot_says_what_will_come_over_sane_axes(panel, qtbot):
    panel.set_store(RunData())
    for frame in panel.frames():
        assert frame.empty.isVisible() and frame.empty.text().startswith("Train to see"), frame.objectName()
    x_range, y_range = panel.boundary_plot.view.getPlotItem().getViewBox().viewRange()
    assert x_range[1] - x_range[0] >= 1.0 and y_range[1] - y_range[0] >= 1.0   # not -0.001 ... 0.002
    store = RunData()
    panel.set_store(store)
    store.add(started())
    panel.refresh(force=True)
    assert not any(frame.empty.isVisible() for frame in panel.frames())
    from app.training.session import BoundaryUnavailable

    store.add(BoundaryUnavailable("it is drawn for models with one Input of shape [2]"))
    panel.refresh(force=True)
    assert panel.boundary_plot.empty.isVisible()
    assert panel.boundary_plot.empty.text() == "No decision boundary: it is drawn for models with one Input of shape [2]"


def test_plot_titles_lose_whole_words(qtbot):
    from app.training.plots.parts import TitleLine

    line = TitleLine("Weights")
    qtbot.addWidget(line)
    line.resize(260, line.height())
    line.show()
    detail = "fc1: mean -0.0471 · std 0.3125 · norm 12.75 · val accuracy 95.1%"
    line.set_text("Weights", detail)
    shown = line.shown_text()
    assert shown.endswith("…") and len(shown) < len(line.text())
    words = set(line.text().split())
    assert all(word in words for word in shown.rstrip("…").split()), shown   # no word cut in two
    line.resize(2000, line.height())
    assert line.shown_text() == line.text()


class _Clock:
    """The session's `time`: a wall clock and the thread's CPU clock, moved by the test."""

    def __init__(self):
        self.now = self.cpu = 0.0

    def perf_counter(self) -> float:
        return self.now

    def thread_time(self) -> float:
        return self.cpu


class _Probe:
    """A boundary probe on a loaded machine: 2 ms of work that take 60 ms of wall time."""

    def __init__(self, clock: _Clock):
        self.clock = clock

    def frame(self, epoch: int):
        self.clock.cpu += 0.002
        self.clock.now += 0.060
        return types.SimpleNamespace(kind="boundary", epoch=epoch, image=np.zeros((1, 1, 4), np.uint8),
                                     extent=(0.0, 1.0, 0.0, 1.0))


def test_the_decision_boundary_keeps_pace_with_the_epochs_on_a_loaded_machine(qtbot, tmp_path, monkeypatch):
    """Six epochs of 0.2 s: at epoch 4 the boundary shown is not the initial weights' ("after
    epoch 0" at epoch 4/6) because one frame waited long for a core; frames stay within
    BOUNDARY_SHARE of the training thread's CPU time and BOUNDARY_HZ."""
    from app.training import session as session_module
    from app.training.loader import engine_loader
    from graph.project import load
    from tests.conftest import EXAMPLES

    engine_loader().wait()
    clock = _Clock()
    monkeypatch.setattr(session_module, "time", clock)
    session = session_module.TrainingSession(load(EXAMPLES / "spiral_mlp.loom"), base_dir=tmp_path, out_dir=None)
    session._probe = _Probe(clock)
    session._frame(0)                      # at RunStarted: the initial weights
    frames = []
    for n in range(1, 7):
        clock.now += 0.2
        clock.cpu += 0.2
        frames += [e.epoch for e in session._boundary(epoch(n, 6))]
        if n == 4:   # at most one BOUNDARY_HZ interval (two of these epochs) behind
            assert frames and frames[-1] >= 2, frames
    assert frames[-1] == 6
    assert len(frames) + 1 <= clock.now * session_module.BOUNDARY_HZ + 1
    assert 0.002 * (len(frames) + 1) <= session_module.BOUNDARY_SHARE * clock.cpu

def test_every_plot_shows_the_run_when_it_ends_however_starved_the_redraws(make_window, tmp_path, qtbot,
                                                                          monkeypatch):
    """The race seen on a loaded machine: the budget let only the loss and accuracy redraw
    during a short run, and when the run ended (the status bar said so) the weights, gradients,
    activations and boundary were still empty with blank layer choosers, drawn a few ticks
    later or, if the window went away, never. Pinned with a budget that never allows a redraw."""
    from app.training import pacing
    from app.training.loader import engine_loader
    from tests.app.test_training import spiral_copy

    engine_loader().wait()
    monkeypatch.setattr(pacing.CpuBudget, "allows", lambda self: False)   # the most loaded machine
    window = make_window(spiral_copy(tmp_path, epochs=6), runs_dir=tmp_path / "user-runs")
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    controller = window.training
    seen = {}

    def at_end(result) -> None:
        plots = controller.plots
        seen["result"] = result.kind
        seen["stale"] = [f.objectName() for f in plots.frames() if f._key() != f._drawn or not f.received_data()]
        seen["choosers"] = (plots.weights_plot.chooser.currentText(), plots.activations_plot.chooser.currentText())
        seen["boundary"] = plots.boundary_plot.image.image is not None

    controller.run_ended.connect(at_end)
    assert controller.train()
    qtbot.waitUntil(lambda: "result" in seen, timeout=90_000)
    assert seen["result"] == "finished"
    assert seen["stale"] == []                       # every plot shows the end of the run when it ends
    assert seen["choosers"] == ("fc1", "act1") and seen["boundary"]
    assert controller.settled


def test_an_overlay_is_built_once_not_on_every_redraw(panel):
    """Overlaid runs' curves are made when the run is chosen (or the log axis changes); a redraw of
    the live run reuses them (issue 15: a 50k-step overlay cost 58 ms a redraw when rebuilt)."""
    from app.training.store import Overlay

    store = RunData()
    panel.set_store(store)
    store.add(started(epochs=4, steps_per_epoch=10))
    epochs = np.array([1.0, 2.0])
    run = Overlay("earlier", np.linspace(0.1, 2.0, 20), np.linspace(2.0, 0.5, 20), epochs, np.array([1.5, 0.8]),
                  np.array([1.6, 0.9]), {"train_accuracy": np.array([0.5, 0.7]), "val_accuracy": np.array([0.4, 0.6])})
    panel.set_overlays([run])
    loss_items, metric_items = list(panel.loss_plot.overlay_items), list(panel.metric_plot.overlay_items)
    assert len(loss_items) == 2 and len(metric_items) == 2
    for n in range(1, 3):
        store.add(Step(n, n * 10, 10, 10, 10, 1.0, 0.01, 100.0, 5.0, 0.1, losses=(1.0,) * 10))
        store.add(epoch(n, 4))
        panel.refresh(force=True)
    assert all(a is b for a, b in zip(panel.loss_plot.overlay_items, loss_items))
    assert all(a is b for a, b in zip(panel.metric_plot.overlay_items, metric_items))
    y = panel.loss_plot.overlay_items[0].getData()[1]
    assert y[0] == 2.0 and 0.5 < y[-1] < 2.0                          # the smoothed curve, as before
    panel.loss_plot.set_log(True)                                     # the log axis: built again, positive only
    assert panel.loss_plot.overlay_items[0] is not loss_items[0] and len(panel.loss_plot.overlay_items) == 2
    panel.set_overlays([])
    assert panel.loss_plot.overlay_items == [] and panel.metric_plot.overlay_items == []
