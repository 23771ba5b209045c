"""The Training panel's "Generative (GAN)" group: the mode gan keys declared in
engine.training.settings as fields, shown while the mode is gan, each edit one undo step."""
from __future__ import annotations

from tests.app.test_training import example_copy, trainer_window  # noqa: F401


def test_gan_fields_show_the_file_and_undo_one_step(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(example_copy(tmp_path, "gan_ring", d_steps=2, betas=[0.5, 0.99]))
    panel = window.training.panel
    rows = panel.rows
    qtbot.waitUntil(lambda: rows["training.generator"].editor.text() == "fake")
    assert rows["training.mode"].editor.currentData() == "gan"
    assert rows["training.discriminator"].editor.text() == "score"
    assert rows["training.gan_loss"].editor.currentData() == "bce"
    assert rows["training.d_steps"].editor.value() == 2
    assert rows["training.betas"].editor.text() == "0.5, 0.99"
    assert not rows["training.generator_learning_rate"].switch.isChecked()   # unset: learning_rate
    assert panel.gan_options.isVisibleTo(panel)

    stack = window.doc.undo_stack
    steps = stack.count()
    rows["training.d_steps"].editor.setValue(5)
    qtbot.waitUntil(lambda: window.doc.project.training.get("d_steps") == 5)
    assert stack.count() == steps + 1
    stack.undo()
    qtbot.waitUntil(lambda: rows["training.d_steps"].editor.value() == 2)
    assert window.doc.project.training["d_steps"] == 2

    # betas typed as text are stored as two numbers; the GAN keys hide in supervised mode
    rows["training.betas"].editor.textEdited.emit("0.4, 0.9")
    assert window.doc.project.training["betas"] == [0.4, 0.9]
    mode = rows["training.mode"].editor
    mode.activated.emit(mode.findData("supervised"))
    qtbot.waitUntil(lambda: not panel.gan_options.isVisibleTo(panel))
    assert rows["training.mode"].widget.isVisibleTo(panel)
    stack.undo()
    qtbot.waitUntil(lambda: panel.gan_options.isVisibleTo(panel))
