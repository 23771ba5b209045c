""""Search this" (issue 17): a toggle on the Properties panel's parameter rows and on the Training
panel's setting rows adds the key to the design's search section at a default range, or takes it
out, as one undoable edit; the row shows it is searched, whoever changed the section."""
from __future__ import annotations

import json
import shutil

from PySide6 import QtWidgets

from app.tuning.candidates import candidate, default_range, with_key, without_keys
from graph.project import load
from tests.app.test_training import trainer_window  # noqa: F401
from tests.conftest import EXAMPLES


def toggle_of(row) -> QtWidgets.QToolButton:
    return row.widget.findChild(QtWidgets.QToolButton, "searchToggle")


def space(window) -> dict:
    return (window.doc.project.extra.get("search") or {}).get("space", {})


def test_node_parameter_toggle_adds_one_undoable_key(make_window, qtbot, tmp_path):
    window = make_window(EXAMPLES / "spiral_search.loom")
    props = window.properties
    window.canvas.select(["head"])
    qtbot.waitUntil(lambda: props.node_id == "head")
    button = toggle_of(props.rows["bias"])
    assert button is not None and button.isVisibleTo(props) and not button.isChecked()
    window.canvas.select(["body"])
    qtbot.waitUntil(lambda: props.node_id == "body")
    width, repeat = toggle_of(props.rows["width"]), toggle_of(props.rows["repeat"])
    assert width.isChecked() and repeat.isChecked()          # the example searches both
    assert "searched" in width.toolTip() and "nodes.body.width" in width.toolTip()

    steps = window.doc.undo_stack.count()
    window.canvas.select(["stem"])
    qtbot.waitUntil(lambda: props.node_id == "stem")
    out = toggle_of(props.rows["out_features"])
    assert not out.isChecked()
    out.click()
    assert space(window)["nodes.stem.out_features"] == {"int": [4, 64], "log": True}   # 16 / 4 .. 16 * 4
    assert out.isChecked() and window.doc.undo_stack.count() == steps + 1
    assert window.doc.undo_stack.undoText() == "Search nodes.stem.out_features"
    assert window.tuning.panel.space.item(window.tuning.panel.space.rowCount() - 1, 0).text() == \
        "nodes.stem.out_features"                           # the Search panel lists it too
    window.doc.undo()
    assert "nodes.stem.out_features" not in space(window) and not out.isChecked()
    window.doc.redo()
    assert out.isChecked()
    out.click()                                             # off again: one more step
    assert "nodes.stem.out_features" not in space(window) and not out.isChecked()
    assert window.doc.undo_stack.undoText() == "Stop searching nodes.stem.out_features"

    # removed from the Search panel: the row's toggle follows
    window.canvas.select(["body"])
    qtbot.waitUntil(lambda: props.node_id == "body")
    panel = window.tuning.panel
    row = next(i for i in range(panel.space.rowCount()) if panel.space.item(i, 0).text() == "nodes.body.p")
    panel.space.selectRow(row)
    panel.remove_selected()
    assert not toggle_of(props.rows["p"]).isChecked()


def test_no_toggle_inside_a_block_definition(make_window, qtbot):
    window = make_window(EXAMPLES / "spiral_search.loom")
    window.canvas.select(["body"])
    window.blocks.enter()
    qtbot.waitUntil(lambda: window.doc.level == ("body",))
    inner = next(n.id for n in window.doc.edited_graph.nodes if n.type == "Linear")
    window.canvas.select([inner])
    props = window.properties
    qtbot.waitUntil(lambda: props.node_id == inner)
    assert not toggle_of(props.rows["out_features"]).isVisibleTo(props)


def test_training_setting_toggle(trainer_window, qtbot, tmp_path):  # noqa: F811
    path = tmp_path / "spiral_search.loom"
    shutil.copy(EXAMPLES / "spiral_search.loom", path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    del doc["search"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    window = trainer_window(path)
    rows = window.training.panel.rows
    rate, batch = toggle_of(rows["training.learning_rate"]), toggle_of(rows["training.batch_size"])
    assert rate.isVisibleTo(window.training.panel) and not rate.isChecked()
    assert toggle_of(rows["data.samples"]).isVisibleTo(window.training.panel)       # the data set's own option
    assert toggle_of(rows["training.generator"]).isHidden()                          # text: not searched
    rate.click()
    batch.click()
    section = window.doc.project.extra["search"]
    assert section["space"] == {"training.learning_rate": {"log_uniform": [0.00005, 0.005]},
                                "training.batch_size": {"int": [16, 256], "log": True}}
    assert rate.isChecked() and batch.isChecked()
    window.doc.undo()
    window.doc.undo()
    assert "search" not in window.doc.project.extra and not rate.isChecked()   # the file as it was


def test_candidates_and_section_edits_are_qt_free_rules():
    project = load(EXAMPLES / "spiral_search.loom")
    param, value = candidate(project, "training.learning_rate")
    assert value == 0.0005 and default_range(param, value) == {"log_uniform": [0.00005, 0.005]}
    assert candidate(project, "training.device") is None                # text
    assert candidate(project, "nodes.nope.width") is None
    assert candidate(project, "data.noise") is not None                 # the spiral's own option
    fresh = load(EXAMPLES / "spiral_mlp.loom")
    assert "search" not in fresh.extra
    section = with_key(fresh, "training.epochs")
    assert section["metric"] == "val_loss" and list(section["space"]) == ["training.epochs"]
    fresh.extra["search"] = section
    assert without_keys(fresh, ["training.epochs"]) is None
    section["metric"] = "val_accuracy"
    assert without_keys(fresh, ["training.epochs"]) == {"metric": "val_accuracy", "space": {}}
