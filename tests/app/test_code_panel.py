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
