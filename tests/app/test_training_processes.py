"""A run started in the window honours training.processes (issue 18 item 2; the device box's 'all N GPUs'):
the window's training thread is rank 0 and starts the other ranks as processes, so the plots, Stop and the
run folder are rank 0's. Tested with gloo on the CPU (device cpu, 2 processes)."""
from __future__ import annotations

import json

import pytest

from tests.app.test_training import spiral_copy, start, trainer_window, wait_end  # noqa: F401 -- the fixture

pytestmark = pytest.mark.slow   # two processes each import torch: 20-40 s on a loaded machine


def test_a_window_run_on_two_processes_fills_the_plots_and_keeps_one_run(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(spiral_copy(tmp_path, device="cpu", processes=2, epochs=3))
    controller = window.training
    start(window, qtbot)
    assert controller.session.processes == 2
    result = wait_end(window, qtbot, timeout=180_000)
    assert result.kind == "finished" and result.reason == "completed", result
    store, plots = controller.store, controller.plots
    assert len(store.epochs) == 3 and store.epochs[-1].val_metrics["accuracy"] > 0.4
    assert len(plots.loss_plot.val.getData()[0]) == 3 and len(plots.loss_plot.smooth.getData()[0]) > 0
    assert plots.weights_plot.image.image is not None            # rank 0's telemetry
    runs = controller.panel.runs()
    assert len(runs) == 1 and runs[0].status == "finished"      # one run folder, rank 0's
    record = json.loads((runs[0].path / "run.json").read_text())
    assert record["distributed"] == {"processes": 2, "backend": "gloo"}
    assert len((runs[0].path / "metrics.csv").read_text().splitlines()) == 4


def test_pause_holds_and_stop_ends_every_process(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(spiral_copy(tmp_path, device="cpu", processes=2, epochs=500))
    controller = window.training
    start(window, qtbot)
    qtbot.waitUntil(lambda: controller.store.progress.step > 3, timeout=120_000)
    assert ", 2 processes:" in controller.panel.status.text()
    controller.action_pause.trigger()                          # rank 0 holds; the other waits for it
    qtbot.waitUntil(lambda: controller.store.status == "paused", timeout=10_000)
    step = controller.store.progress.step
    controller.action_pause.trigger()
    qtbot.waitUntil(lambda: controller.store.progress.step > step, timeout=10_000)
    controller.action_stop.trigger()
    result = wait_end(window, qtbot, timeout=60_000)
    assert result.kind == "finished" and result.reason == "stopped", result
    assert result.epochs_done < 500
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.name.startswith("layerloom-rank-")]


def test_a_device_that_cannot_take_the_processes_is_refused_before_the_run(trainer_window, tmp_path, qtbot):  # noqa: F811
    import torch

    if torch.cuda.device_count() >= 8:
        pytest.skip("a machine with 8 GPUs takes them")
    window = trainer_window(spiral_copy(tmp_path, device="cuda", processes=8))
    controller = window.training
    assert not controller.train() and controller.session is None
    message = window.statusBar().currentMessage()
    assert "training.processes 8 " in message and "--nproc" not in message
    assert not list((tmp_path / "runs").glob("*/run.json")) and not list((tmp_path / "runs").glob("*/design.loom"))


def test_a_process_that_dies_ends_the_run_with_a_message_naming_it(trainer_window, tmp_path, qtbot):  # noqa: F811
    import multiprocessing

    window = trainer_window(spiral_copy(tmp_path, device="cpu", processes=2, epochs=500))
    controller = window.training
    start(window, qtbot)
    qtbot.waitUntil(lambda: controller.store.progress.step > 3, timeout=120_000)
    (other,) = [p for p in multiprocessing.active_children() if p.name == "layerloom-rank-1"]
    other.kill()
    result = wait_end(window, qtbot, timeout=60_000)
    assert result.kind == "failed" and result.message.startswith("process 1 of 2 failed (ended by signal 9)")
    assert "process 1 of 2 failed" in controller.panel.status.text() and not controller.doc.locked
