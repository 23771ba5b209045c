"""The trace on the canvas inside a block (issue 15): entering a block node shows the traced
sample's values on the block's inner nodes (`body.fc1`, in copy 0 of a repeated block
`body.0.fc1`), leaving it shows the top level's again; clicking an inner Linear shows its neuron."""
from __future__ import annotations

import json

from tests.app.test_predict_panel import open_predict, open_window, settle  # noqa: F401
from tests.conftest import EXAMPLES


def design(tmp_path, repeat: int):
    doc = json.loads((EXAMPLES / "spiral_search.loom").read_text(encoding="utf-8"))
    if repeat != 1:
        next(n for n in doc["graph"]["nodes"] if n["id"] == "body")["repeat"] = repeat
    path = tmp_path / "spiral_search.loom"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def shown(predicting) -> set[str]:
    return {node_id for node_id, item in predicting.overlays.items.items() if item.scene() is not None}


def test_trace_shows_on_the_nodes_inside_a_block(open_window, qtbot, tmp_path):  # noqa: F811
    window = open_window(design(tmp_path, 1))
    predicting = open_predict(window, qtbot)
    qtbot.waitUntil(lambda: predicting.last_prediction is not None and "body" in shown(predicting), timeout=60_000)
    assert {"stem", "body", "head"} <= shown(predicting)
    window.canvas.select(["body"])
    assert window.blocks.enter()
    qtbot.waitUntil(lambda: {"fc1", "act", "drop", "fc2"} <= shown(predicting))
    values = predicting.last_prediction.values
    assert (predicting.overlays.glance("fc2").bars == values["body.fc2"]).all()   # its own 16 values
    assert "body.fc1" in predicting.overlays.glance("fc1").text
    window.canvas.select(["fc1"])                     # an inner Linear: its neuron, by its path
    settle(window, qtbot)
    qtbot.waitUntil(lambda: predicting.last_inside is not None and predicting.last_inside[0] == "body.fc1")
    assert predicting.last_inside[1] is not None and predicting.last_inside[1].count == 4
    window.blocks.exit()
    qtbot.waitUntil(lambda: {"stem", "body", "head"} <= shown(predicting))
    assert "fc1" not in shown(predicting)


def test_trace_inside_a_repeated_block_is_its_first_copy(open_window, qtbot, tmp_path):  # noqa: F811
    window = open_window(design(tmp_path, 2))
    predicting = open_predict(window, qtbot)
    qtbot.waitUntil(lambda: predicting.last_prediction is not None and "body" in shown(predicting), timeout=60_000)
    window.canvas.select(["body"])
    assert window.blocks.enter()
    assert predicting.level_prefix() == "body.0."
    qtbot.waitUntil(lambda: {"fc1", "fc2"} <= shown(predicting))
    assert "body.0.fc2" in predicting.overlays.glance("fc2").text
