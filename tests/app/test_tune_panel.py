"""The `tunePanel` and `actionTune` (app/tuning/): the search section as undoable rows, a search in
the background (2 trials x 2 epochs of spiral_search), trials in a table and on a plot, Apply best
as one undoable edit, and the install line when Optuna is missing."""
from __future__ import annotations

import json
import shutil

import pytest
from PySide6 import QtWidgets

from tests.conftest import EXAMPLES


@pytest.fixture
def tiny_search(tmp_path):
    path = tmp_path / "spiral_search.loom"
    shutil.copy(EXAMPLES / "spiral_search.loom", path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["training"]["epochs"] = 2
    doc["data"]["samples"] = 200
    doc["search"]["space"] = {"nodes.body.width": {"int": [2, 32]}, "training.learning_rate": {"log_uniform": [0.001, 0.03]}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_search_section_rows_are_undoable_edits(make_window, tiny_search):
    window = make_window(tiny_search)
    panel = window.tuning.panel
    assert window.findChild(QtWidgets.QDockWidget, "tunePanel") is not None
    assert panel.space.rowCount() == 2
    assert [panel.space.item(i, 1).text() for i in range(2)] == ["int", "log_uniform"]
    panel.add_key("nodes.body.p")
    assert window.doc.project.extra["search"]["space"]["nodes.body.p"] == {"uniform": [0.0, 0.5]}
    assert panel.space.rowCount() == 3
    panel.space.item(2, 2).setText("[0.1, 0.3]")           # editing a range is one edit too
    assert window.doc.project.extra["search"]["space"]["nodes.body.p"] == {"uniform": [0.1, 0.3]}
    panel.space.item(2, 2).setText("[0.3, 0.1]")
    assert "empty range" in panel.problem.text() and "nodes.body.p" in panel.problem.text()
    window.doc.undo()
    window.doc.undo()
    window.doc.undo()
    assert "nodes.body.p" not in window.doc.project.extra["search"]["space"]
    assert panel.space.rowCount() == 2


def test_a_search_in_the_window_and_apply_best(make_window, qtbot, tiny_search):
    window = make_window(tiny_search)
    window.show()
    tuning = window.tuning
    action = window.findChild(type(tuning.action), "actionTune")
    action.trigger()
    assert tuning.dock.isVisible()
    tuning.panel.trials_box.setValue(2)
    tuning.panel.start_button.click()
    assert tuning.searching
    qtbot.waitUntil(lambda: not tuning.searching, timeout=180_000)
    panel = tuning.panel
    assert panel.trials.rowCount() == 2, panel.status.text()
    assert {panel.trials.item(i, 1).text() for i in range(2)} == {"done"}
    shown = panel.plot.shown
    assert shown.xs == [0, 1] and len(shown.ys) == 2 and shown.best[-1] == max(shown.ys)   # val_accuracy, maximised
    assert shown.colors[shown.ys.index(max(shown.ys))] == (250, 220, 60)                 # the best is brightest
    kinds = [window.tuning.table.table.item(i, 1).text() for i in range(window.tuning.table.table.rowCount())]
    assert sorted(kinds) == ["spiral-search #0", "spiral-search #1"]

    number, params, _value = tuning.best
    before = window.doc.project.graph["body"].params.get("width")
    assert panel.apply_button.isEnabled()
    panel.apply_button.click()
    assert window.doc.project.graph["body"].params.get("width") == params["nodes.body.width"]
    assert window.doc.project.training["learning_rate"] == params["training.learning_rate"]
    assert window.doc.undo_stack.undoText() == f"Apply best trial {number}"
    window.doc.undo()                                       # one step takes all of it back
    assert window.doc.project.graph["body"].params.get("width") == before
    assert window.doc.project.training["learning_rate"] == 0.0005


def test_without_optuna_the_action_says_how_to_install_it(make_window, tiny_search, monkeypatch):
    from app.tuning import controller

    monkeypatch.setattr(controller, "optuna_available", lambda: False)
    window = make_window(tiny_search)
    assert window.tuning.open() is False
    assert 'pip install "layerloom[tune]"' in window.tuning.panel.status.text()
    assert window.tuning.start(2) is False


def test_the_keys_to_add_are_listed_once_per_change_and_only_while_the_panel_shows(window, qtbot, monkeypatch):
    """Listing every node parameter took 0.1 s of a 5,000-node design's first paint, twice (on
    `replaced` and on `analysed`), for a panel hidden behind Properties."""
    from app.tuning import panel as panel_module

    calls = []
    real = panel_module.candidates
    monkeypatch.setattr(panel_module, "candidates", lambda project: calls.append(project) or real(project))
    tuning = window.tuning
    assert not tuning.panel.shown  # tabbed behind Properties
    window.open_path(EXAMPLES / "spiral_search.loom", ask=False)
    qtbot.wait(50)
    assert calls == [], "hidden: nothing listed"
    tuning.dock.show()
    tuning.dock.raise_()
    qtbot.waitUntil(lambda: len(calls) == 1)
    assert tuning.panel.add_box.count() > 0
    window.open_path(EXAMPLES / "spiral_mlp.loom", ask=False)
    qtbot.waitUntil(lambda: len(calls) == 2)
    qtbot.wait(50)
    assert len(calls) == 2, "one open, one listing"
    assert calls[-1] is window.doc.project
