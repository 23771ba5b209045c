"""The Predict panel wraps its content and has no horizontal scroll bar: bringing a view into sight
must never leave the body shifted sideways (its left edge cut off with no bar to scroll back)."""
from __future__ import annotations

from tests.app.test_predict_panel import open_predict, open_window  # noqa: F401 -- the fixture
from tests.conftest import EXAMPLES


def test_a_clicked_nodes_view_comes_into_sight_without_shifting_sideways(open_window, qtbot):  # noqa: F811
    window = open_window(EXAMPLES / "tiny_gpt.loom")
    predicting = open_predict(window, qtbot)
    panel = predicting.panel
    window.canvas.select(["head"])          # a Linear node: its neuron's weighted sum comes into view
    qtbot.waitUntil(lambda: predicting.last_inside is not None and predicting.last_inside[0] == "head",
                    timeout=60_000)
    qtbot.wait(100)                          # the view is brought into sight after the layout settles
    assert panel.neuron.isVisible()
    assert panel.horizontalScrollBar().value() == 0
    assert panel.widget().x() == 0


def test_the_generate_section_fits_the_dock_of_a_1280_by_800_window(open_window, qtbot):  # noqa: F811
    """Its four number fields side by side (seed up to 2^31) made the body 70 px wider than the dock,
    so the right edge of every view was cut off."""
    window = open_window(EXAMPLES / "tiny_gpt.loom")
    panel = open_predict(window, qtbot).panel
    assert panel.generate.isVisibleTo(panel)
    assert panel.generate.minimumSizeHint().width() <= panel.viewport().width()
    assert panel.widget().width() <= panel.viewport().width()
