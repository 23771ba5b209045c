"""Export from the window (app.exporting): a design that has been trained is exported trained
when the user says so, never untrained without asking; the proposed file names import."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6 import QtWidgets

from app.exporting import export_file_name, module_name
from graph.project import load, save
from tests.conftest import EXAMPLES

buttons = QtWidgets.QMessageBox.StandardButton


def fake_run(design: Path, name: str = "spiral-20250101-120000") -> tuple[Path, dict]:
    """A finished run of `design` in its runs folder, as the trainer leaves one, with weights
    that are not what a fresh model starts from (every tensor 0.25)."""
    import torch
    from safetensors.torch import save_file

    from engine.codegen import build_model

    project = load(design)
    folder = design.parent / "runs" / name
    folder.mkdir(parents=True)
    weights = {key: torch.full_like(value, 0.25) for key, value in build_model(project).state_dict().items()}
    save_file(weights, str(folder / "weights.safetensors"))
    save(project, folder / "design.loom")
    (folder / "run.json").write_text(json.dumps({
        "format": "layerloom-run", "version": 1, "project": project.name, "project_file": str(design.resolve()),
        "status": "finished", "reason": "completed", "started": "2025-01-01T12:00:00", "epochs_done": 3,
        "final": {"val_accuracy": 0.9}}), encoding="utf-8")
    return folder, weights


@pytest.fixture
def proposed(monkeypatch, dialogs) -> list[str]:
    """The file names the save dialogs propose; each answers from dialogs.save_paths."""
    names: list[str] = []

    def get_save(parent, caption="", directory="", *args, **kwargs):
        names.append(directory)
        return dialogs.get_save()

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", staticmethod(get_save))
    return names


@pytest.fixture
def trained_window(make_window, tmp_path):
    design = tmp_path / "spiral.loom"
    shutil.copy(EXAMPLES / "spiral_mlp.loom", design)
    run, weights = fake_run(design)
    window = make_window(design)
    window.show()
    window.training.refresh_runs()
    return window, run, weights


def test_export_of_a_trained_design_offers_the_trained_model(trained_window, dialogs, proposed, tmp_path):
    from safetensors.torch import load_file

    window, run, weights = trained_window
    out = tmp_path / "out" / "spiral_trained.py"
    dialogs.questions, dialogs.save_paths = [buttons.Yes], [str(out)]
    window.export_dialog()
    asked = dialogs.texts("question")
    assert len(asked) == 1 and run.name in asked[0] and "trained" in asked[0], dialogs.calls
    assert out.is_file() and out.with_suffix(".safetensors").is_file(), dialogs.calls
    written = load_file(str(out.with_suffix(".safetensors")))
    assert written.keys() == weights.keys() and all((written[k] == 0.25).all() for k in written)
    assert Path(proposed[0]).name == "spiral_trained.py"


def test_no_exports_the_untrained_design_and_cancel_exports_nothing(trained_window, dialogs, proposed, tmp_path):
    window, _run, _weights = trained_window
    out = tmp_path / "out" / "spiral.py"
    dialogs.questions, dialogs.save_paths = [buttons.No], [str(out)]
    window.export_dialog()
    assert out.is_file() and not out.with_suffix(".safetensors").exists()
    assert Path(proposed[0]).name == "spiral.py"
    dialogs.questions = [buttons.Cancel]
    window.export_dialog()
    assert len(dialogs.texts("question")) == 2 and len(proposed) == 1  # no file dialog after Cancel


def test_a_design_never_trained_is_exported_without_a_question(make_window, dialogs, proposed, tmp_path):
    design = tmp_path / "spiral.loom"
    shutil.copy(EXAMPLES / "spiral_mlp.loom", design)
    window = make_window(design)
    out = tmp_path / "spiral.py"
    dialogs.save_paths = [str(out)]
    window.export_dialog()
    assert dialogs.texts("question") == [] and out.is_file()


def test_an_untitled_design_proposes_an_importable_module_name(make_window, dialogs, proposed):
    window = make_window()
    window.doc.replace(load(EXAMPLES / "spiral_mlp.loom"), None)
    assert window.doc.project.name == "Spiral classifier"
    window.export_dialog()
    assert Path(proposed[0]).name == "spiral_classifier.py"


@pytest.mark.parametrize("text, name", [
    ("Spiral classifier", "spiral_classifier"), ("LeNet-5", "lenet_5"), ("my design (v2)", "my_design_v2"),
    ("3 layers", "model_3_layers"), ("class", "class_"), ("", "model"), ("Ünïcode net", "unicode_net"),
])
def test_module_names(text, name):
    assert module_name(text) == name and name.isidentifier()


def test_file_names_follow_the_design_file_else_the_project_name():
    assert export_file_name(Path("/x/My Net.loom"), "ignored") == "my_net.py"
    assert export_file_name(None, "Spiral classifier", trained=True) == "spiral_classifier_trained.py"
