"""A GAN trains live in the window (issue 16): gan_ring opened and trained, the samples plot fills
with generated points over the real data in the decision boundary's place, the loss plot shows the
two players, and a supervised run afterwards brings the boundary back."""
from __future__ import annotations

from PySide6 import QtWidgets

from tests.app.test_training import RUN_TIMEOUT_MS, example_copy, start, trainer_window, wait_end  # noqa: F401


def test_gan_ring_trains_with_its_samples_on_screen(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(example_copy(tmp_path, "gan_ring", epochs=12))
    start(window, qtbot)
    plots = window.training.plots
    samples = window.findChild(QtWidgets.QWidget, "samplesPlot")
    assert samples is plots.samples_plot
    qtbot.waitUntil(lambda: samples.isVisible() and len(samples.fake.getData()[0]) == 1000, timeout=RUN_TIMEOUT_MS)
    assert not plots.boundary_plot.isVisible() and samples in plots.frames()
    assert len(samples.real.getData()[0]) > 0                     # the real ring behind the samples
    result = wait_end(window, qtbot)
    assert result.kind == "finished", result
    store = window.training.store
    assert store.samples.epoch == 12 and samples.title_line.text().startswith("Samples")
    assert "of 8 modes" in samples.title_line.text()
    loss = plots.loss_plot
    for column in ("train_g_loss", "train_d_real", "train_d_fake"):
        assert len(loss.players[column].getData()[0]) == 12, column
    # a supervised run after it: the decision boundary is back in its place
    assert window.open_path(example_copy(tmp_path, "spiral_mlp", epochs=2))
    start(window, qtbot)
    assert wait_end(window, qtbot).kind == "finished"
    assert plots.boundary_plot.isVisible() and not samples.isVisible()
    assert loss.players["train_g_loss"].getData()[0] is None           # cleared, not the GAN's curve
