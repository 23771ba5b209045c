"""One export from the window: engine.export behind a wait cursor, its outcome as one line.

Both Export model… (the design) and Export trained model… (a run, with its weights) come
through here, so they report success and failure alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

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
