"""File ▸ Import PyTorch model… (app/importing.py): the dialog lists the file's models and
prefills the shapes in the background, an import opens as the window's design with its weights
named, and a refused one lists every part with its line."""
from __future__ import annotations

import shutil

from PySide6 import QtWidgets

from tests.conftest import ROOT

MODELS = ROOT / "tests" / "engine" / "import_models"


def _press_import(dialog) -> None:
    dialog.findChild(QtWidgets.QDialogButtonBox).button(QtWidgets.QDialogButtonBox.StandardButton.Ok).click()


def test_the_action_is_in_the_file_menu(window):
    action = window.findChild(type(window.action_open), "actionImport")
    assert action is not None and action.text() == "&Import PyTorch model…"
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()


def test_import_from_the_window_opens_the_design_with_its_weights(window, qtbot, tmp_path):
    source = tmp_path / "residual_cnn.py"
    shutil.copy(MODELS / "residual_cnn.py", source)
    dialog = window.importer.open_dialog()
    dialog.source.setText(str(source))
    dialog.read_file(str(source))
    qtbot.waitUntil(lambda: dialog.name.count() > 0, timeout=60_000)
    assert [dialog.name.itemText(i) for i in range(dialog.name.count())] == ["CatBlock", "ResidualCNN"]
    assert dialog.name.currentText() == "ResidualCNN"           # the last class: usually the model
    assert dialog.shapes.text() == "1,14,14"                     # from example_inputs()
    assert dialog.output.text() == str(tmp_path / "ResidualCNN.loom")
    with qtbot.waitSignal(window.importer.finished, timeout=120_000) as done:
        _press_import(dialog)
    assert done.args[0] == tmp_path / "ResidualCNN.loom"
    assert window.doc.path == tmp_path / "ResidualCNN.loom" and not window.doc.dirty
    assert window.doc.project.training["initial_weights"] == "ResidualCNN.safetensors"
    assert (tmp_path / "ResidualCNN.safetensors").is_file()
    assert any(n.type == "Conv2d" for n in window.doc.graph.nodes)
    assert window.importer.action.isEnabled()
    assert window.training.panel.ensure_built()                   # the weights named in the Training panel
    assert window.training.panel.weights_group.path.text() == "ResidualCNN.safetensors"
    assert not window.training.panel.weights_group.problem.isVisible()


def test_a_refused_import_lists_each_part_with_its_line(window, qtbot):
    before = window.doc.project
    dialog = window.importer.open_dialog()
    dialog.source.setText(str(MODELS / "refused.py"))
    dialog.read_file(str(MODELS / "refused.py"))
    qtbot.waitUntil(lambda: dialog.name.count() > 0, timeout=60_000)
    dialog.name.setCurrentText("Unsupported")
    dialog.shapes.setText("1, 4, 8, 8")
    with qtbot.waitSignal(window.importer.finished, timeout=120_000):
        _press_import(dialog)
    refusal = window.importer.refusal
    assert refusal is not None and refusal.isVisible() and refusal.objectName() == "importRefusal"
    lines = [refusal.problems.item(i).text() for i in range(refusal.problems.count())]
    assert any(line.startswith("shuffle (refused.py:25): ChannelShuffle") and "nearest: PixelShuffle" in line
               for line in lines), lines
    assert any(line.startswith("act (refused.py:25)") for line in lines)
    assert "cannot import Unsupported" in refusal.message.text()
    assert window.doc.project is before                           # the open design stays
    assert not (MODELS / "Unsupported.loom").exists()


def test_a_file_that_fails_to_run_is_a_message_not_a_traceback(window, qtbot, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\n\nraise ValueError('no model here')\n")
    dialog = window.importer.open_dialog()
    dialog.read_file(str(broken))
    qtbot.waitUntil(lambda: "broken.py:3" in dialog.status.text(), timeout=60_000)
    assert "ValueError: no model here" in dialog.status.text()
    dialog.source.setText(str(tmp_path / "missing.py"))
    _press_import(dialog)
    assert dialog.isVisible() and "Choose the Python file" in dialog.status.text()


def test_closing_the_dialog_with_the_file_field_focused_reads_nothing(window, qtbot):
    """Leaving the file field reads the file only while the dialog is open: closing it (or the window
    going away, which deleted the dialog under a pending read) starts no reading."""
    dialog = window.importer.open_dialog()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    dialog.source.setFocus()
    qtbot.waitUntil(dialog.source.hasFocus)
    dialog.source.setText(str(MODELS / "residual_cnn.py"))
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.status.text() == ""


def test_a_read_whose_dialog_is_deleted_meanwhile_still_ends(window, qtbot):
    """The job outlives its dialog: it releases the GUI-thread collection (app.gc_guard) and calls
    back nothing (before, it was deleted with the dialog and the hold was never released)."""
    from app.gc_guard import guard

    dialog = window.importer.open_dialog()
    dialog.read_file(str(MODELS / "residual_cnn.py"))
    assert guard().holders >= 1
    dialog.deleteLater()
    qtbot.waitUntil(lambda: guard().holders == 0, timeout=60_000)
