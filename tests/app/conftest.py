"""Qt fixtures for the designer tests: a window with its own settings and recovery folder, and
dialogs replaced by recorders so that no test ever blocks on a modal box."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from tests.conftest import EXAMPLES


class Dialogs:
    """Stands in for QMessageBox and QFileDialog: records each call, answers from queues."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.questions: list = []   # answers for QMessageBox.question, in order
        self.save_paths: list[str] = []
        self.open_paths: list[str] = []

    def question(self, parent, title, text, buttons=None, default=None):
        self.calls.append(("question", text))
        if self.questions:
            return self.questions.pop(0)
        return QtWidgets.QMessageBox.StandardButton.Discard

    def critical(self, parent, title, text, *args):
        self.calls.append(("critical", text))
        return QtWidgets.QMessageBox.StandardButton.Ok

    def information(self, parent, title, text, *args):
        self.calls.append(("information", text))
        return QtWidgets.QMessageBox.StandardButton.Ok

    def get_save(self, *args, **kwargs):
        return (self.save_paths.pop(0) if self.save_paths else "", "")

    def get_open(self, *args, **kwargs):
        return (self.open_paths.pop(0) if self.open_paths else "", "")

    def texts(self, kind: str) -> list[str]:
        return [text for k, text in self.calls if k == kind]


@pytest.fixture(autouse=True)
def dialogs(monkeypatch) -> Dialogs:
    d = Dialogs()
    box, files = QtWidgets.QMessageBox, QtWidgets.QFileDialog
    monkeypatch.setattr(box, "question", staticmethod(d.question))
    monkeypatch.setattr(box, "critical", staticmethod(d.critical))
    monkeypatch.setattr(box, "information", staticmethod(d.information))
    monkeypatch.setattr(box, "warning", staticmethod(d.critical))
    monkeypatch.setattr(files, "getSaveFileName", staticmethod(d.get_save))
    monkeypatch.setattr(files, "getOpenFileName", staticmethod(d.get_open))
    return d


@pytest.fixture(autouse=True)
def collection_restored(qtbot):
    """Each test ends with its worker threads' hold on app.gc_guard released, so no later test
    runs with automatic garbage collection switched off."""
    yield
    from app.gc_guard import guard

    qtbot.waitUntil(lambda: guard().holders == 0, timeout=10_000)


@pytest.fixture
def make_window(qtbot, tmp_path):
    """MainWindow factory: each window of a test shares the test's settings and recovery folder."""
    from app.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)

    def make(path: str | Path | None = None, **kwargs) -> MainWindow:
        kwargs.setdefault("settings", settings)
        kwargs.setdefault("recovery_dir", tmp_path / "recovery")
        window = MainWindow(None if path is None else str(path), **kwargs)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        return window

    return make


@pytest.fixture
def window(make_window):
    """A window with an empty design, shown."""
    from graph.project import Project

    w = make_window()
    w.doc.replace(Project(), None)
    w.show()
    return w


@pytest.fixture
def examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.loom"))
