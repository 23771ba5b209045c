"""Fuzz: the window opens the same hostile files as tests/test_fuzz_files.py. Every one either
opens (and paints, and saves back) or is reported with the open design left as it was; nothing
raises, whatever the file holds (DESIGN §8)."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.project import load
from tests.conftest import EXAMPLES
from tests.fuzz_files import hostile_document, memory_cap, write


def test_hostile_files_open_or_are_reported(make_window, dialogs, tmp_path):
    window = make_window(EXAMPLES / "spiral_mlp.loom")
    seen = {"opened": 0, "refused": 0}

    @settings(max_examples=40, deadline=20_000, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def open_one(data):
        path = tmp_path / "hostile.loom"
        write(path, hostile_document(data))
        dialogs.calls.clear()
        before = window.doc.project
        with memory_cap():
            opened = window.open_path(path, ask=False)
            window.canvas.viewer.viewport().repaint()
            if opened:
                saved = tmp_path / "saved.loom"
                if window.save_to(saved):
                    load(saved)   # what the window writes, it reads back
                else:
                    assert dialogs.texts("critical")
        if opened:
            seen["opened"] += 1
        else:
            seen["refused"] += 1
            assert len(dialogs.texts("critical")) == 1 and str(path) in dialogs.texts("critical")[0]
            assert window.doc.project is before

    open_one()
    assert seen["opened"] and seen["refused"], seen


def test_a_node_id_that_is_a_list_opens_with_the_training_panel_built(make_window, dialogs, tmp_path, qtbot):
    """Found by the fuzz above: the 'Start from weights' list looked every node id up in the analysis,
    and a broken file's id of [1, 2] raised TypeError (unhashable) on every analysis."""
    import json

    from app.training.loader import engine_loader

    engine_loader().wait()
    window = make_window(EXAMPLES / "spiral_mlp.loom")
    assert window.training.panel.ensure_built()
    document = json.loads((EXAMPLES / "spiral_mlp.loom").read_text(encoding="utf-8"))
    document["graph"]["nodes"][1]["id"] = [1, 2]
    path = tmp_path / "list_id.loom"
    path.write_text(json.dumps(document), encoding="utf-8")
    with qtbot.captureExceptions() as raised:
        window.open_path(path, ask=False)
        qtbot.wait(50)
    assert not raised


def test_a_list_id_in_a_file_without_positions_opens_and_is_reported(make_window, dialogs, tmp_path, qtbot):
    """Found by the fuzz above: a hand-written file (no positions) with a node id of [] broke the
    layout of unplaced nodes with a TypeError (unhashable) instead of opening with the problem named."""
    import json

    window = make_window(EXAMPLES / "spiral_mlp.loom")
    document = json.loads((EXAMPLES / "spiral_mlp.loom").read_text(encoding="utf-8"))
    for node in document["graph"]["nodes"]:
        node.pop("pos", None)
    document["graph"]["nodes"][0]["id"] = []
    path = tmp_path / "list_id.loom"
    path.write_text(json.dumps(document), encoding="utf-8")
    with qtbot.captureExceptions() as raised:
        assert window.open_path(path, ask=False)
        qtbot.wait(50)
    assert not raised
    assert all(n.pos is not None for n in window.doc.graph.nodes)
    assert any(d.field == "id" for d in window.doc.analysis.errors)
