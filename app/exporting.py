"""One export from the window: engine.export behind a wait cursor, its outcome as one line.

Both Export model… (the design) and Export trained model… (a run, with its weights) come
through here, so they report success and failure alike, propose file names alike (an
importable module name: `spiral_classifier.py`), and Export model… on a design that has been
trained asks which of the two is meant instead of quietly writing untrained weights.
"""
from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from app.training.runs import RunInfo
from graph.project import Project


@dataclass(frozen=True)
class ExportOutcome:
    problem: str | None   # "a.onnx: what went wrong", or None when it worked
    written: str = ""     # "a.py, a.safetensors (the exporter's notes)"


def export_with_cursor(project: Project, path: Path, weights: Path | None = None) -> ExportOutcome:
    """Write `project` to `path` (.py, .onnx or .pt by suffix); never raises into Qt."""
    from engine.export import ExportError, export  # imports torch: only when exporting

    QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
    try:
        result = export(project, path, weights=weights)
    except ExportError as exc:
        return ExportOutcome(f"{path}: {exc}")
    except Exception as exc:  # noqa: BLE001 -- an exporter bug is shown, not raised into Qt
        return ExportOutcome(f"{path}: {type(exc).__name__}: {exc}")
    finally:
        QtWidgets.QApplication.restoreOverrideCursor()
    written = ", ".join(str(p) for p in result.paths) or str(path)
    notes = f" ({'; '.join(result.notes)})" if result.notes else ""
    return ExportOutcome(None, written + notes)


def module_name(text: str) -> str:
    """`text` as an importable module name: `Spiral classifier` -> `spiral_classifier`,
    `LeNet-5` -> `lenet_5`, `3 layers` -> `model_3_layers`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^0-9a-z]+", "_", plain).strip("_") or "model"
    if name[0].isdigit():
        name = f"model_{name}"
    return f"{name}_" if keyword.iskeyword(name) else name


def export_file_name(design_path: Path | None, project_name: str, trained: bool = False) -> str:
    """The file an export proposes: named after the design's file (else the project's name) so
    that `import <name>` works on it; `_trained` for a run's trained model."""
    stem = module_name(Path(design_path).stem if design_path is not None else project_name)
    return f"{stem}_trained.py" if trained else f"{stem}.py"


def trained_run(selected: RunInfo | None, runs: list[RunInfo]) -> RunInfo | None:
    """The run whose trained model Export model… offers: the one selected in the Training panel
    if it has weights, else the newest that has."""
    if selected is not None and selected.weights.exists():
        return selected
    return next((run for run in runs if run.weights.exists()), None)


def ask_trained(parent: QtWidgets.QWidget, run: RunInfo) -> bool | None:
    """Export model… when the design has been trained: True for the run's trained model, False
    for the untrained design, None when the user cancels."""
    buttons = QtWidgets.QMessageBox.StandardButton
    answer = QtWidgets.QMessageBox.question(
        parent, "Export model",
        f"This design has been trained: run {run.name} ({run.summary()}).\n\n"
        "Export that trained model (its code and its trained weights, as it was trained)?\n\n"
        "No exports the untrained design: its code, whose weights start random.",
        buttons.Yes | buttons.No | buttons.Cancel, buttons.Yes)
    return {buttons.Yes: True, buttons.No: False}.get(answer)
