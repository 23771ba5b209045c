"""The window fits and reads (issue 11): it opens within the screen, a dropped design opens, the
status bar and the Problems panel count the same rows, an empty panel says so, and the
Training panel's lines lose whole parts or wrap, never half a word."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from tests.app.test_panels import BROKEN
from tests.conftest import EXAMPLES


def fresh_window(qtbot, tmp_path, settings: QtCore.QSettings | None = None, path: Path | None = None):
    from app.main_window import MainWindow

    settings = settings or QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(None if path is None else str(path), settings=settings, recovery_dir=tmp_path / "recovery",
                        runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    return window



@pytest.fixture
def trainer_window_panel(make_window, qtbot):
    from app.training.loader import engine_loader

    engine_loader().wait()
    window = make_window(EXAMPLES / "spiral_mlp.loom")
    window.show()
    panel = window.training.panel
    assert panel.ensure_built()
    window.docks["trainingPanel"].raise_()
    qtbot.waitUntil(lambda: panel.isVisible())
    return panel


def test_the_window_opens_within_the_screen_and_comes_back_within_it(qtbot, tmp_path, monkeypatch):
    laptop = QtCore.QRect(0, 0, 1280, 1024)                 # the screen the issue saw the docks cut off on
    monkeypatch.setattr(QtGui.QScreen, "availableGeometry", lambda _screen: laptop)
    window = fresh_window(qtbot, tmp_path)
    assert window.width() <= laptop.width() and window.height() <= laptop.height()
    monkeypatch.undo()
    # a geometry saved on a larger screen comes back inside this one
    available = QtGui.QGuiApplication.primaryScreen().availableGeometry()
    big = QtWidgets.QMainWindow()
    qtbot.addWidget(big)
    big.setGeometry(200, 150, available.width() + 400, available.height() + 300)
    settings = QtCore.QSettings(str(tmp_path / "big.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue("window/geometry", big.saveGeometry())
    again = fresh_window(qtbot, tmp_path, settings)
    again.show()
    qtbot.waitUntil(lambda: again._shown)
    assert again.width() <= available.width() and again.height() <= available.height()
    assert available.intersects(again.geometry())


def _drag(target: QtWidgets.QWidget, path: Path) -> bool:
    """Drag a file from a file manager over `target` and drop it; True when the drop was taken."""
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    point = QtCore.QPointF(target.rect().center())
    buttons, mods = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    enter = QtGui.QDragEnterEvent(point.toPoint(), QtCore.Qt.DropAction.CopyAction, mime, buttons, mods)
    QtWidgets.QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QtGui.QDropEvent(point, QtCore.Qt.DropAction.CopyAction, mime, buttons, mods)
    QtWidgets.QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def test_a_loom_file_dropped_on_the_window_or_the_canvas_opens(window, qtbot, tmp_path, dialogs):
    design = tmp_path / "dropped.loom"
    design.write_text((EXAMPLES / "spiral_mlp.loom").read_text())
    assert not _drag(window.canvas.viewer.viewport(), tmp_path / "notes.txt")   # other files: not taken
    window.editor.add_node("Linear")                    # unsaved changes: the usual question first
    dialogs.questions.append(QtWidgets.QMessageBox.StandardButton.Cancel)
    assert _drag(window.canvas.viewer.viewport(), design)
    qtbot.waitUntil(lambda: bool(dialogs.texts("question")))
    assert "Save the changes" in dialogs.texts("question")[0] and window.doc.path is None   # cancelled: kept
    dialogs.questions.append(QtWidgets.QMessageBox.StandardButton.Discard)
    assert _drag(window, design)                        # on the window outside the canvas (a dock, the toolbar)
    qtbot.waitUntil(lambda: window.doc.path == design)
    assert "fc1" in window.doc.graph.ids()


def test_the_status_bar_counts_the_rows_of_the_problems_panel(make_window, tmp_path, qtbot):
    path = tmp_path / "broken.loom"
    path.write_text(json.dumps(BROKEN))
    window = make_window(path)
    window.show()
    rows = window.problems.rows()
    counted = sum(int(n) for n in re.findall(r"(\d+) (?:problem|warning)", window.status_totals.text()))
    assert counted == len(rows) == 3
    window.problems.show_run_problem("training", "the loss is NaN")   # a failed run's row counts too
    counted = sum(int(n) for n in re.findall(r"(\d+) (?:problem|warning)", window.status_totals.text()))
    assert counted == len(window.problems.rows()) == 4


def test_an_empty_problems_panel_says_there_are_none(make_window, qtbot):
    from app import problems as problems_module

    window = make_window(EXAMPLES / "spiral_mlp.loom")
    window.show()
    window.docks["problemsPanel"].raise_()
    qtbot.waitUntil(lambda: window.problems.isVisible())
    assert window.problems.rows() == []
    image = window.problems.viewport().grab().toImage()
    middle, background = image.height() // 2, image.pixelColor(2, 2)
    inked = sum(image.pixelColor(x, y) != background for x in range(image.width()) for y in range(middle - 8, middle + 8))
    assert inked > 50   # a line of text in the middle, not a blank list
    assert "No problems" in problems_module.EMPTY_TEXT


def test_the_progress_line_loses_whole_parts_and_keeps_the_eta(trainer_window_panel):
    from app.training.store import Progress

    panel = trainer_window_panel
    bar = panel.progress
    progress = Progress(epoch=14, epochs=400, step=532, total_steps=15_200, samples_per_s=87_000, eta_s=97.0)
    for width in (600, 330, 260, 200):
        bar.setFixedWidth(width)
        panel.show_progress(progress, "running")
        text = bar.text()
        assert bar.fontMetrics().horizontalAdvance(text) <= bar.contentsRect().width(), (width, text)
        assert "ETA 1:37" in text and text.startswith("epoch 14/400"), (width, text)
        assert bar.toolTip() == "epoch 14/400 · step 532/15,200 · 87k samples/s · ETA 1:37"


def test_run_rows_wrap_at_words_and_the_settings_fit_the_panel(trainer_window_panel, qtbot):
    from app.training.runs import RunInfo

    panel = trainer_window_panel
    panel.resize(330, 700)
    panel.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: panel.settings_scroll.isVisible())
    scroll = panel.settings_scroll
    assert scroll.widget().width() <= scroll.viewport().width()   # no sideways scrolling: nothing cut off
    run = RunInfo(Path("/tmp/spiral-20261126-121303"), "finished", "stopped", "2026-11-26T12:13:03", 21, 3.0,
                  "CPU", {"val_accuracy": 0.998})
    panel.show_runs([run], Path("/tmp"))
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.runs_list.isVisible())
    item = panel.runs_list.topLevelItem(0)
    line = panel.runs_list.fontMetrics().height()
    assert panel.runs_list.fontMetrics().horizontalAdvance(run.summary()) > panel.runs_list.viewport().width()
    assert panel.runs_list.visualItemRect(item).height() >= 2 * line   # wrapped onto a second line, not "val accu…"



def test_a_design_opens_fitted_in_view_at_1280x800(qtbot, tmp_path):
    window = fresh_window(qtbot, tmp_path, path=EXAMPLES / "spiral_mlp.loom")
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    viewer = window.canvas.viewer

    def whole_design_seen() -> bool:
        seen = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
        return all(seen.contains(window.canvas.item(n.id).view.sceneBoundingRect()) for n in window.doc.graph.nodes)

    qtbot.waitUntil(whole_design_seen, timeout=3000)
    window.open_example(EXAMPLES / "spiral_mlp.loom")   # and when another file opens
    qtbot.waitUntil(whole_design_seen, timeout=3000)


def test_a_small_design_leaves_no_opening_count_in_the_status_bar(qtbot, tmp_path):
    """"Opening spiral_mlp.loom: 4 of 7 nodes shown…" stayed up for good once all seven were built."""
    window = fresh_window(qtbot, tmp_path, path=EXAMPLES / "spiral_mlp.loom")
    window.show()
    qtbot.waitUntil(lambda: all(window.canvas.item(n.id) for n in window.doc.graph.nodes))
    qtbot.waitUntil(lambda: not window.statusBar().currentMessage().startswith("Opening "), timeout=2000)


def test_the_design_stays_readable_when_training_makes_room_for_the_plots(qtbot, tmp_path):
    """The plots dock grows when a run starts; the canvas kept its scene rectangle, so the
    spiral shrank from 45 % to 30 % zoom, where no node reads. Fitted again, it stays."""
    from app.training.loader import engine_loader
    from app.window_geometry import OPEN_SCALE

    engine_loader().wait()
    window = fresh_window(qtbot, tmp_path)   # the spiral example, as a first start opens it
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    viewer = window.canvas.viewer
    qtbot.wait(300)                          # the docks settle
    assert viewer.transform().m11() == pytest.approx(OPEN_SCALE, abs=0.01)
    window.doc.project.training["epochs"] = 2
    plots = window.docks["plotsPanel"]
    assert window.training.train()
    qtbot.waitUntil(lambda: plots.height() >= window.height() * 0.3)   # the plots took room from the canvas
    qtbot.waitUntil(lambda: viewer.transform().m11() >= OPEN_SCALE - 0.01, timeout=3000)
    qtbot.waitUntil(lambda: window.training.settled, timeout=60_000)


def test_a_design_wholly_in_view_is_framed_again_when_the_canvas_shrinks(qtbot, tmp_path):
    """NodeGraphQt rescales the view by the ratio of the sizes on every resize: in a real window the
    plots dock, laid out after our one refit, left the spiral under 70 px a node (zoom < 0.4375),
    where its texts hide. Any resize now frames a wholly visible design again."""
    from app.window_geometry import OPEN_SCALE

    window = fresh_window(qtbot, tmp_path, path=EXAMPLES / "spiral_mlp.loom")
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    viewer = window.canvas.viewer
    qtbot.waitUntil(lambda: viewer.transform().m11() == pytest.approx(OPEN_SCALE, abs=0.01))
    plots = window.docks["plotsPanel"]
    plots.show()
    plots.raise_()
    window.resizeDocks([plots], [int(window.height() * 0.42)], QtCore.Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: plots.height() >= window.height() * 0.3)
    qtbot.wait(100)
    assert viewer.transform().m11() >= OPEN_SCALE - 0.01


def test_building_the_plots_leaves_the_problems_panel_its_size(qtbot, tmp_path):
    """Once the engine had loaded, the plots (200 px minimum) and the Search panel (300 px) were
    built behind their tabs, and Qt gave the bottom docks a third of a 1280x800 window while
    they showed an empty Problems panel."""
    window = fresh_window(qtbot, tmp_path, path=EXAMPLES / "spiral_mlp.loom")
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    qtbot.wait(100)
    problems = window.docks["problemsPanel"]
    assert problems.height() <= 160
    window.training.ensure_plots()
    qtbot.wait(100)
    assert problems.height() <= 160


def test_a_view_that_does_not_hold_the_whole_design_keeps_its_zoom_when_the_canvas_shrinks(qtbot, tmp_path):
    """NodeGraphQt scaled the view by the ratio of the sizes: the spiral, shown from its left end
    at 45 % on a narrow canvas, fell to 37 % (texts hidden) when the window took its final size."""
    from app.window_geometry import OPEN_SCALE

    window = fresh_window(qtbot, tmp_path, path=EXAMPLES / "spiral_mlp.loom")
    window.resize(900, 700)
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    viewer = window.canvas.viewer
    qtbot.waitUntil(lambda: viewer.transform().m11() == pytest.approx(OPEN_SCALE, abs=0.01))
    seen = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    assert not seen.contains(viewer.design_rect())     # the design is wider than the view
    window.resize(900, 560)
    qtbot.wait(100)
    assert viewer.transform().m11() == pytest.approx(OPEN_SCALE, abs=0.01)


def test_every_simple_training_key_has_a_row_in_the_training_panel(trainer_window_panel):
    """`training.tf32` came without a row: the panel lists its keys by hand. The keys edited by
    their own widgets (the device box, the loss weights, the schedule and early-stopping groups,
    the telemetry rates, the starting weights, the GAN players) are named here."""
    from engine.training.settings import TRAINING_KEYS

    own_widgets = {"device", "processes", "betas", "loss_weights", "schedule", "early_stopping", "telemetry",
                   "initial_weights", "generator", "discriminator"}
    rows = trainer_window_panel.rows
    missing = [p.name for p in TRAINING_KEYS if p.name not in own_widgets and f"training.{p.name}" not in rows]
    assert missing == []
