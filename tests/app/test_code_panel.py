"""The Code panel (issue 11): it follows New and Open at once, and filling it never imports
torch on the GUI thread."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import EXAMPLES, ROOT


def test_new_and_open_never_show_the_previous_designs_code(make_window, qtbot):
    window = make_window(EXAMPLES / "lenet5.loom")
    window.show()
    qtbot.waitUntil(lambda: "class LeNet5(nn.Module):" in window.code.toPlainText(), timeout=10_000)

    window.new_project()
    assert "LeNet5" not in window.code.toPlainText()  # at once, not after the regeneration delay

    window.open_example(EXAMPLES / "spiral_mlp.loom")
    assert "LeNet5" not in window.code.toPlainText()
    qtbot.waitUntil(lambda: "class SpiralClassifier(nn.Module):" in window.code.toPlainText(), timeout=2_000)

    window.open_example(EXAMPLES / "lenet5.loom")
    assert "SpiralClassifier" not in window.code.toPlainText()
    qtbot.waitUntil(lambda: "class LeNet5(nn.Module):" in window.code.toPlainText(), timeout=2_000)


def test_a_hidden_code_panel_drops_the_old_code_too(make_window, qtbot):
    window = make_window(EXAMPLES / "lenet5.loom")
    window.show()
    qtbot.waitUntil(lambda: "class LeNet5" in window.code.toPlainText(), timeout=10_000)
    window.docks["codeDock"].hide()
    window.open_example(EXAMPLES / "spiral_mlp.loom")
    assert "LeNet5" not in window.code.toPlainText()


STARTUP = textwrap.dedent("""
    import sys, threading
    from importlib.abc import MetaPathFinder

    importers = []

    class Watch(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                importers.append(threading.current_thread().name)
            return None

    sys.meta_path.insert(0, Watch())
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication([])
    from app.main_window import MainWindow

    settings = QtCore.QSettings(sys.argv[1], QtCore.QSettings.Format.IniFormat)
    window = MainWindow(None, settings=settings, recovery_dir=sys.argv[2])
    window.show()
    filled = []

    def poll():
        if "(nn.Module):" in window.code.toPlainText():  # whichever design opens first
            filled.append(True)
            app.quit()

    timer = QtCore.QTimer(interval=20, timeout=poll)
    timer.start()
    QtCore.QTimer.singleShot(20_000, app.quit)
    app.exec()
    print("FILLED", bool(filled), "GUI-THREAD TORCH", "MainThread" in importers)
""")


def test_opening_the_window_and_filling_the_code_panel_imports_no_torch_on_the_gui_thread(tmp_path):
    """A fresh process, as `python main.py` starts (the engine warm-up, which imports torch on a
    thread of its own, is not started here; an import on the GUI thread is what is counted)."""
    result = subprocess.run([sys.executable, "-c", STARTUP, str(tmp_path / "settings.ini"), str(tmp_path / "rec")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert "FILLED True GUI-THREAD TORCH False" in result.stdout, result.stdout + result.stderr


def test_a_big_designs_code_is_made_on_a_worker_and_coloured_as_it_scrolls_into_view(window, qtbot, monkeypatch):
    """5,000 nodes took 2.2 s to generate and 1.2 s to colour, holding the window each time."""
    import app.code_view
    from app.gc_guard import guard
    from graph.model import Graph
    from graph.project import Project

    monkeypatch.setattr(app.code_view, "LAZY_LINES", 100)
    monkeypatch.setattr(app.code_view, "BIG_OPEN_MS", 0)
    g = Graph()
    g.add_node("Input", "x", {"shape": [8]}, (0.0, 0.0))
    prev = "x"
    for i in range(app.code_view.BACKGROUND_NODES + 50):
        g.add_node("Linear", f"fc{i}", {"out_features": 8}, (230.0 * (i + 1), 0.0))
        g.connect(prev, f"fc{i}")
        prev = f"fc{i}"
    g.add_node("Output", "y", {"loss": "mse"}, (0.0, 300.0))
    g.connect(prev, "y")
    window.doc.replace(Project("big", g), None)
    code = window.code
    qtbot.waitUntil(lambda: "self.fc299 = " in code.toPlainText(), timeout=30_000)
    assert code._worker is not None and not code._worker.is_alive()  # it was made off the GUI thread
    qtbot.waitUntil(lambda: guard().holders == 0)  # garbage was collected on the GUI thread only meanwhile
    assert code.highlighter.lazy
    top = code.firstVisibleBlock()
    last = code.document().lastBlock()
    while "return" not in last.text():  # the last line with a keyword to colour
        last = last.previous()
    assert top.layout().formats() and not last.layout().formats()  # only what shows is coloured
    code.verticalScrollBar().setValue(code.verticalScrollBar().maximum())
    assert last.layout().formats()
