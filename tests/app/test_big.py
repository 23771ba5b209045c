"""Big designs open a chunk at a time (nearest the view first) and can be edited meanwhile."""
from __future__ import annotations

import app.canvas
from graph.model import Graph
from graph.project import Project, save


def chain(n: int) -> Project:
    g = Graph()
    g.add_node("Input", "x", {"shape": [8]}, (0.0, 0.0))
    prev = "x"
    for i in range(n - 2):
        node = g.add_node("Linear" if i % 2 == 0 else "ReLU", f"n{i}", {"out_features": 8} if i % 2 == 0 else {},
                          (230.0 * (i + 1), 0.0))
        g.connect(prev, node.id)
        prev = node.id
    g.add_node("Output", "y", {"loss": "mse"}, (230.0 * (n - 1), 0.0))
    g.connect(prev, "y")
    return Project("chain", g)


def test_a_big_design_streams_in_and_can_be_edited_while_it_does(make_window, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(app.canvas, "SYNC_LIMIT", 10)
    monkeypatch.setattr(app.canvas, "CHUNK", 8)
    path = tmp_path / "big.loom"
    save(chain(60), path)
    window = make_window(path)
    canvas = window.canvas
    assert canvas.loading
    built = set(canvas._nodes)
    assert "x" in built and "y" not in built  # nearest the left end (where the view opens) first
    # an edit while loading: rename a node that is not built yet, delete one that is
    window.editor.rename("n50", "late")
    window.canvas.select(["n1"])
    window.editor.delete_selection()
    qtbot.waitUntil(lambda: not canvas.loading, timeout=10_000)
    ids = [n.id for n in window.doc.graph.nodes]
    assert sorted(canvas._nodes) == sorted(ids)
    assert "late" in canvas._nodes and "n1" not in canvas._nodes
    for node_id in ids:
        assert canvas.annotation(node_id).shape != "", node_id
    # every wire in the Graph is drawn once
    pipes = sum(len(p.connected_pipes) for i in ids for p in canvas.item(i).view.inputs)
    assert pipes == len(window.doc.graph.edges)
