"""Memory per node (issue 19 item 5): the Properties panel's Inferred rows and the Summary panel's
totals show the figures of graph.footprint (the ones `check` prints)."""
from __future__ import annotations

from app.inferred import bytes_text
from graph.footprint import footprint, node_memory, size_text
from tests.conftest import EXAMPLES

FREE = 8 << 30


def _pairs(form) -> dict[str, str]:
    return {form.itemAt(i, form.ItemRole.LabelRole).widget().text():
            form.itemAt(i, form.ItemRole.FieldRole).widget().text() for i in range(form.rowCount())}


def test_properties_and_summary_show_the_footprint(make_window, qtbot, monkeypatch):
    monkeypatch.setattr("app.summary.available_bytes", lambda: FREE)
    window = make_window(EXAMPLES / "spiral_mlp.loom")
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    analysis = window.doc.analysis
    node = next(n.id for n in window.doc.graph.nodes if analysis.nodes[n.id].params > 0)
    memory = node_memory(analysis.nodes[node])
    window.canvas.select([node])
    qtbot.waitUntil(lambda: window.properties.node_id == node)
    pairs = _pairs(window.properties.inferred_form)
    assert memory.weights == analysis.nodes[node].params * 4 > 0
    assert pairs["weights"] == bytes_text(memory.weights)
    assert pairs["activations"] == f"{bytes_text(memory.activations)} per sample"

    total = footprint(analysis)
    text = window.summary.totals.text()
    for figure in (size_text(total.weights), size_text(total.per_sample), size_text(total.fixed(True)),
                   size_text(total.sample(True)), f"{total.largest_batch(FREE, True):,}"):
        assert figure in text, (figure, text)
    assert "largest training batch in 8.0 GiB of free RAM" in text
