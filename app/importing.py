"""File ▸ Import PyTorch model… (`actionImport`, DESIGN §6): the `import` command in the window.

The dialog asks what the command line asks (docs/import.md): the Python file and the class or
function in it that builds the model, the input shapes, an optional weights file, and where the
.loom goes. Reading the file (its module classes, and its `example_inputs()` for the shapes) and
the import itself run the user's code and PyTorch, so both run on a background thread
(engine.importer.source.outline, engine.importer.write.import_to); the GUI thread never imports
torch. A refused import is shown as a list of every part that cannot come in, with its line; a
done one opens as the window's design, saved where the user chose, its weights named in the
Training panel.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.background import Job, Refusal

if TYPE_CHECKING:
    from app.main_window import MainWindow

PYTHON_FILTER = "Python files (*.py);;All files (*)"
WEIGHTS_FILTER = "Weights (*.safetensors *.pt *.pth);;All files (*)"


def _refused(work: Callable[[], Any]) -> Callable[[], Any]:
    """`work`, with a refused import (engine.importer.ImportFailure) returned as a Refusal."""
    def run() -> Any:
        from engine.importer import ImportFailure

        try:
            return work()
        except ImportFailure as exc:
            return Refusal(str(exc.args[0]) if exc.args else "the import was refused",
                           [str(p) for p in exc.problems])
    return run


def split_shapes(text: str) -> list[str]:
    """`3, 32, 32; 16:int64` -> ["3,32,32", "16:int64"]: one shape per forward argument."""
    return [re.sub(r"\s+", "", part) for part in text.split(";") if part.strip()]


class ImportDialog(QtWidgets.QDialog):
    """The command's options as fields (`importDialog`). Choosing a file reads it in the background:
    the name box lists its module classes and functions, the shapes come from its example_inputs()."""

    def __init__(self, parent: QtWidgets.QWidget, start_dir: str = ""):
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import PyTorch model")
        self._start_dir = start_dir
        self._read_token = 0
        self._read_text = ""
        self._closing = False
        self._shapes_prefilled = ""
        self._out_auto = True
        self.source = QtWidgets.QLineEdit(objectName="importSource")
        self.source.setPlaceholderText("model.py")
        self.source.editingFinished.connect(self._source_edited)  # a method: no call once the dialog is gone
        self.name = QtWidgets.QComboBox(objectName="importName")
        self.name.setEditable(True)
        self.name.setToolTip("the nn.Module class (built with no arguments) or the function that returns the model")
        self.name.currentTextChanged.connect(self._suggest_output)
        self.shapes = QtWidgets.QLineEdit(objectName="importShapes")
        self.shapes.setPlaceholderText("e.g. 3,224,224 — one per forward argument, separated by ;")
        self.shapes.setToolTip("input shapes without the batch; 16:int64 for token ids. Empty: the file's "
                               "example_inputs()")
        self.weights = QtWidgets.QLineEdit(objectName="importWeights")
        self.weights.setPlaceholderText("optional: a state dict (.safetensors, .pt) loaded into the module first")
        self.output = QtWidgets.QLineEdit(objectName="importOutput")
        self.output.textEdited.connect(lambda _t: setattr(self, "_out_auto", False))
        self.status = QtWidgets.QLabel(objectName="importStatus")
        self.status.setWordWrap(True)

        form = QtWidgets.QFormLayout()
        form.addRow("Python file", self._with_browse(self.source, self._browse_source))
        form.addRow("model", self.name)
        form.addRow("input shapes", self.shapes)
        form.addRow("weights", self._with_browse(self.weights, self._browse_weights))
        form.addRow("save design as", self._with_browse(self.output, self._browse_output))
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Import")
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    @staticmethod
    def _with_browse(edit: QtWidgets.QLineEdit, browse: Callable[[], None]) -> QtWidgets.QWidget:
        box = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QtWidgets.QToolButton(text="…", toolTip="choose the file")
        button.clicked.connect(browse)
        row.addWidget(button)
        return box

    # -- choosing files ------------------------------------------------------------------
    def _browse_source(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Python file with the model", self._start_dir,
                                                        PYTHON_FILTER)
        if path:
            self.source.setText(path)
            self.read_file(path)

    def _browse_weights(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Weights to load", self._folder(), WEIGHTS_FILTER)
        if path:
            self.weights.setText(path)

    def _browse_output(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the imported design as",
                                                        self.output.text() or self._folder(), "Designs (*.loom)")
        if path:
            self.output.setText(path if path.endswith(".loom") else f"{path}.loom")
            self._out_auto = False

    def _folder(self) -> str:
        text = self.source.text().strip()
        return str(Path(text).parent) if text else self._start_dir

    def _suggest_output(self, name: str) -> None:
        """Until the user names it, the design goes beside the source, named after the model."""
        if self._out_auto and self.source.text().strip() and name.isidentifier():
            self.output.setText(str(Path(self.source.text().strip()).with_name(f"{name}.loom")))

    # -- reading the file (background) ---------------------------------------------------
    def _source_edited(self) -> None:
        """Leaving the file field reads a file not read yet, while the dialog is open (closing it
        with the field focused also ends the editing)."""
        if self.isVisible() and not self._closing and self.source.text().strip() != self._read_text:
            self.read_file(self.source.text())

    def done(self, result: int) -> None:
        self._closing = True  # the focus leaving the file field on the way out is no edit
        super().done(result)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        self._closing = False
        super().showEvent(event)

    def read_file(self, text: str) -> None:
        """List the file's classes and functions and prefill the shapes from its example_inputs()."""
        path = Path(text.strip())
        if not text.strip():
            return
        self._read_text = text.strip()
        self._read_token += 1
        token = self._read_token
        self.status.setText(f"Reading {path.name}…")

        def work():
            from engine.importer.source import outline

            return outline(path)
        Job(_refused(work), lambda result: self._on_outline(token, result), self)

    def _on_outline(self, token: int, result: Any) -> None:
        if token != self._read_token:
            return  # another file was chosen since
        if isinstance(result, Refusal):
            self.status.setText(result.message)
            return
        keep = self.name.currentText()
        with QtCore.QSignalBlocker(self.name):
            self.name.clear()
            self.name.addItems(result.names)
        pick = keep if keep in result.names else (result.names[result.classes - 1] if result.classes
                                                  else (result.names[0] if result.names else ""))
        self.name.setCurrentText(pick)
        self._suggest_output(pick)
        if result.shapes and self.shapes.text() in ("", self._shapes_prefilled):
            self._shapes_prefilled = "; ".join(result.shapes)
            self.shapes.setText(self._shapes_prefilled)
        found = f"{result.classes} module class(es), {len(result.names) - result.classes} function(s)"
        self.status.setText(found + ("; input shapes from example_inputs()" if result.shapes else
                                     "; no example_inputs(): give the input shapes"))

    # -- the options ---------------------------------------------------------------------
    def options(self) -> tuple[str, str, str | None, list[str] | None]:
        """(SOURCE as FILE.py:NAME, OUT.loom, weights or None, shapes or None), as the command takes them."""
        out = self.output.text().strip()
        if out and not out.endswith(".loom"):
            out += ".loom"
        return (f"{self.source.text().strip()}:{self.name.currentText().strip()}", out,
                self.weights.text().strip() or None, split_shapes(self.shapes.text()) or None)

    def _check_and_accept(self) -> None:
        source = Path(self.source.text().strip())
        name = self.name.currentText().strip()
        problem = None
        if not self.source.text().strip() or not source.is_file():
            problem = "Choose the Python file that defines the model."
        elif not name.isidentifier():
            problem = "Name the nn.Module class or the function that builds the model."
        elif not self.output.text().strip():
            problem = "Choose where to save the design (.loom)."
        if problem:
            self.status.setText(problem)
            return
        self.accept()


class RefusalDialog(QtWidgets.QDialog):
    """What stopped an import (`importRefusal`): the message, then each part that cannot come in."""

    def __init__(self, parent: QtWidgets.QWidget, refusal: Refusal):
        super().__init__(parent)
        self.setObjectName("importRefusal")
        self.setWindowTitle("Cannot import the model")
        self.message = QtWidgets.QLabel(refusal.message, objectName="importMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QtWidgets.QListWidget(objectName="importProblems")
        self.problems.addItems(refusal.problems)
        self.problems.setVisible(bool(refusal.problems))
        self.problems.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.problems)
        layout.addWidget(buttons)
        self.resize(640, 320 if refusal.problems else self.sizeHint().height())


class Importer(QtCore.QObject):
    """The window's import: `action` (actionImport) opens the dialog; the import runs in the
    background and its design opens when it is done."""

    finished = QtCore.Signal(object)  # the written .loom's Path, or a Refusal

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.dialog: ImportDialog | None = None
        self.refusal: RefusalDialog | None = None
        self.action = QtGui.QAction("&Import PyTorch model…", window)
        self.action.setObjectName("actionImport")
        self.action.setStatusTip("Import a model from a Python file, with its weights, as an editable design")
        self.action.triggered.connect(self.open_dialog)

    def open_dialog(self) -> ImportDialog:
        """Show the dialog (window-modal, not blocking: tests fill it in and press Import)."""
        start = str(self.window.settings.value("files/lastDir", ""))
        self.dialog = ImportDialog(self.window, start)
        self.dialog.accepted.connect(lambda: self.start(*self.dialog.options()))
        self.dialog.open()
        return self.dialog

    def start(self, source: str, out: str, weights: str | None, shapes: list[str] | None) -> bool:
        """Import in the background, after the open design's unsaved changes are dealt with."""
        if not self.window.maybe_save() or not self.window.training.confirm_stop():
            return False
        self.action.setEnabled(False)
        self.window.show_message(f"Importing {source}…", 0)

        def work():
            from engine.importer.write import import_to

            return Path(out), import_to(source, out, weights, shapes).notes
        Job(_refused(work), self._done, self)
        return True

    def _done(self, result: Any) -> None:
        self.action.setEnabled(True)
        if isinstance(result, Refusal):
            self.window.show_message("Import refused")
            self.refusal = RefusalDialog(self.window, result)
            self.refusal.open()
            self.finished.emit(result)
            return
        path, notes = result
        if self.window.open_path(path, ask=False):
            self.window.show_message(f"Imported {path.name}: {'; '.join(notes)}; its weights are the Training "
                                     "panel's initial weights")
        self.finished.emit(path)
