"""Issue 16, done when: "build a small GAN from the palette by hand and train it; stop and resume".
The gan_ring design is built node by node through the window's own commands (palette drops, wires,
ids and parameters typed in Properties, the data set and the GAN settings chosen in the Training
panel), trained with its samples and both players on screen, paused and resumed, stopped, and the
stopped run goes on from its checkpoint."""
from __future__ import annotations

import json

from PySide6 import QtWidgets

from engine.training import Finished, Trainer
from graph.project import load
from tests.app.hand import chain, choose_dataset, rename, set_params, set_training, shoot
from tests.app.test_training import (  # noqa: F401 -- the fixture
    RUN_TIMEOUT_MS,
    example_copy,
    start,
    trainer_window,
    wait_end,
)
from tests.conftest import EXAMPLES

GENERATOR = ["Input", "Linear", "ReLU", "Linear", "ReLU", "Linear", "Output"]
DISCRIMINATOR = ["Input", "Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear", "Output"]


def walk(graph, start: str) -> list[tuple[str, dict]]:
    """(type, params) along the chain that starts at an Input."""
    out, node = [], start
    while True:
        out.append((graph[node].type, dict(graph[node].params)))
        after = [e.dst for e in graph.edges if e.src == node]
        if not after:
            return out
        (node,) = after


def build_gan_ring(window, qtbot) -> None:
    g = chain(window, GENERATOR, 0.0)
    d = chain(window, DISCRIMINATOR, 200.0)
    rename(window, qtbot, g[0], "z")
    rename(window, qtbot, g[-1], "fake")
    rename(window, qtbot, d[0], "x")
    rename(window, qtbot, d[-1], "score")
    set_params(window, qtbot, "z", shape=[16])
    set_params(window, qtbot, "x", shape=[2])
    for layers, slope in ((g, None), (d, 0.2)):
        set_params(window, qtbot, layers[1], out_features=128)
        set_params(window, qtbot, layers[3], out_features=128)
        set_params(window, qtbot, layers[5], out_features=1 if slope else 2)
        if slope:
            set_params(window, qtbot, layers[2], negative_slope=slope)
            set_params(window, qtbot, layers[4], negative_slope=slope)
    for output in ("fake", "score"):
        set_params(window, qtbot, output, loss="none")


def test_gan_ring_built_by_hand_trains_pauses_resumes_and_stops(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(None)
    window.resize(1280, 800)
    assert window.new_project()
    build_gan_ring(window, qtbot)
    doc = window.doc
    assert doc.analysis.valid, doc.analysis.diagnostics
    ring = load(EXAMPLES / "gan_ring.loom")
    for start_id in ("z", "x"):            # the same networks as the example, layer for layer
        assert walk(doc.graph, start_id) == walk(ring.graph, start_id), start_id
    assert window.canvas.annotation("fake").shape == "→ (N, 2)"
    choose_dataset(window, "gaussian_ring")
    set_training(window, qtbot, mode="gan", generator="fake", discriminator="score", epochs=400,
                 batch_size=128)   # learning_rate: the default 0.001, as gan_ring
    assert window.training.panel.gan_options.isVisibleTo(window.training.panel)
    shoot(window, "gan-built")

    controller = window.training
    start(window, qtbot)
    plots = controller.plots
    samples = window.findChild(QtWidgets.QWidget, "samplesPlot")
    qtbot.waitUntil(lambda: len(controller.store.epochs) >= 2 and samples.isVisible()
                    and len(samples.fake.getData()[0]) == 1000, timeout=RUN_TIMEOUT_MS)
    assert len(samples.real.getData()[0]) > 0 and "of 8 modes" in samples.title_line.text()
    shoot(window, "gan-training")
    # pause: no step; resume: steps and epochs go on
    controller.action_pause.trigger()
    qtbot.waitUntil(lambda: controller.store.status == "paused", timeout=5000)
    step = controller.store.progress.step
    qtbot.wait(300)
    assert controller.store.progress.step == step
    controller.action_pause.trigger()
    epochs = len(controller.store.epochs)
    qtbot.waitUntil(lambda: len(controller.store.epochs) > epochs + 1, timeout=RUN_TIMEOUT_MS)
    controller.action_stop.trigger()
    result = wait_end(window, qtbot)
    assert result.kind == "finished" and result.reason == "stopped", result
    done = len(controller.store.epochs)
    loss = plots.loss_plot
    for column in ("train_g_loss", "train_d_real", "train_d_fake"):
        assert len(loss.players[column].getData()[0]) == done, column
    # every curve a GAN draws is named in the legend, in rows short enough for the plot; no
    # "validation" entry (a GAN run has none), and the step loss says it is D's
    assert legend_labels(loss) == ["D loss (smoothed)", "generator loss", "D(real)", "D(generated)"]
    assert loss.legend.columnCount == 2
    assert controller.store.samples.epoch == done
    shoot(window, "gan-stopped")
    run = controller.panel.runs()[0]
    assert run.reason == "stopped"
    assert max(p.name for p in (run.path / "samples").iterdir()) == f"epoch_{done:03d}.png"
    assert (run.path / "generator.py").is_file() and (run.path / "checkpoint.pt").is_file()
    # the stopped run goes on from its checkpoint (what `train --resume --out RUN` does)
    design = load(run.path / "design.loom")
    assert json.loads((run.path / "run.json").read_text())["status"] == "finished"
    design.training = {**design.training, "epochs": done + 2}
    events = []
    resumed = Trainer(design, out_dir=run.path, resume_from=run.path / "checkpoint.pt", on_event=events.append)
    assert isinstance(resumed.run(), Finished)
    assert [e.epoch for e in events if e.kind == "epoch_ended"] == [done + 1, done + 2]
    # a supervised run after it: its own two legend entries, none of the GAN's
    assert window.open_path(example_copy(tmp_path, "spiral_mlp", epochs=1))
    start(window, qtbot)
    assert wait_end(window, qtbot).kind == "finished"
    assert legend_labels(loss) == ["train (smoothed)", "validation"] and loss.legend.columnCount == 2   # one row


def legend_labels(plot) -> list[str]:
    return [label.text for _sample, label in plot.legend.items]
