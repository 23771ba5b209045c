"""The Search panel shows the whole study from its storage (issue 17): trials of earlier sessions
and of other processes, merged by number; the best of them can be applied; and the trial plot
draws the metric against a searched parameter, each trial a point coloured by its metric."""
from __future__ import annotations

import json
import shutil

import pytest

from app.tuning.trial_plot import BRIGHT, DARK, TRIAL_AXIS, points
from engine.tuning.report import TrialRow, best_row
from tests.conftest import EXAMPLES

optuna = pytest.importorskip("optuna")


@pytest.fixture
def design(tmp_path):
    path = tmp_path / "spiral_search.loom"
    shutil.copy(EXAMPLES / "spiral_search.loom", path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["search"]["space"] = {"nodes.body.width": {"int": [2, 32]}, "training.learning_rate": {"log_uniform": [0.001, 0.03]}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def add_done_trial(path, width: int, rate: float, value: float) -> None:
    """A finished trial written into the design's study as another `tune` process would."""
    from engine.tuning.space import parse_search
    from engine.tuning.study import default_storage, default_study_name, open_study
    from graph.project import load

    project = load(path)
    study = open_study(parse_search(project), default_study_name(project.name), default_storage(path), project.name)
    study.add_trial(optuna.trial.create_trial(
        params={"nodes.body.width": width, "training.learning_rate": rate},
        distributions={"nodes.body.width": optuna.distributions.IntDistribution(2, 32),
                       "training.learning_rate": optuna.distributions.FloatDistribution(0.001, 0.03, log=True)},
        value=value, user_attrs={"epochs": 2, "seconds": 1.5}))


def test_the_panel_shows_the_stored_study_and_other_processes_trials(make_window, qtbot, design):
    add_done_trial(design, 8, 0.002, 0.71)            # an earlier session
    add_done_trial(design, 24, 0.01, 0.93)
    window = make_window(design)
    window.show()
    tuning = window.tuning
    assert tuning.open()
    panel = tuning.panel
    qtbot.waitUntil(lambda: panel.trials.rowCount() == 2, timeout=20_000)
    assert [panel.trials.item(i, 0).text() for i in range(2)] == ["0", "1"]
    assert panel.trials.horizontalHeaderItem(2).text() == "val_accuracy"
    assert panel.trials.item(1, 2).text() == "93.00%"
    assert tuning.best[0] == 1 and panel.apply_button.isEnabled()   # the study's best, from an earlier session

    add_done_trial(design, 6, 0.02, 0.95)             # another process joins the study meanwhile
    qtbot.waitUntil(lambda: panel.trials.rowCount() == 3, timeout=20_000)   # read again while the dock shows
    assert tuning.best[0] == 2
    panel.apply_button.click()
    assert window.doc.project.graph["body"].params.get("width") == 6
    assert window.doc.project.training["learning_rate"] == 0.02

    plot = panel.plot
    plot.axis.setCurrentText("nodes.body.width")
    assert plot.shown.xs == [8.0, 24.0, 6.0] and plot.shown.ys == [0.71, 0.93, 0.95]
    assert plot.shown.colors[2] == BRIGHT and plot.shown.colors[0] == DARK
    assert plot.plot.getAxis("bottom").labelText == "nodes.body.width"


def test_a_design_without_a_study_shows_no_trials(make_window, qtbot, design):
    window = make_window(design)
    window.show()
    assert window.tuning.open()
    qtbot.waitUntil(lambda: window.tuning._reading is None, timeout=20_000)
    assert window.tuning.panel.trials.rowCount() == 0 and window.tuning.best is None
    assert not (design.parent / "spiral_search.optuna.db").exists()     # reading made no database


def row(number, value, state="done", **params) -> TrialRow:
    return TrialRow(number, state, value, 2, 1.0, params)


def test_points_of_the_trial_plot():
    rows = [row(0, 0.5, lr=0.001, act="ReLU"), row(1, 0.2, lr=0.1, act="Tanh"), row(2, None, "failed"),
            row(3, 0.9, "pruned", lr=0.01, act="ReLU"), row(4, 0.3, lr=0.01, act="GELU")]
    history = points(rows, TRIAL_AXIS, "minimize")
    assert history.xs == [0.0, 1.0, 4.0] and history.best == [0.5, 0.2, 0.2]
    assert history.colors[1] == BRIGHT and history.colors[0] == DARK         # lower loss is better
    by_rate = points(rows, "lr", "minimize")
    assert by_rate.xs == [0.001, 0.1, 0.01] and by_rate.log_x and by_rate.best == []
    by_act = points(rows, "act", "maximize")
    assert by_act.ticks == [(0.0, "GELU"), (1.0, "ReLU"), (2.0, "Tanh")] and by_act.xs == [1.0, 2.0, 0.0]
    assert by_act.colors[0] == BRIGHT                                      # 0.5, the highest, maximised
    assert best_row(rows, "minimize").number == 1 and best_row(rows, "maximize").number == 0
    assert best_row([row(0, None, "failed")], "minimize") is None
