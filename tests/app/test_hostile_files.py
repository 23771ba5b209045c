"""The window opens hostile files as the command line does: a message, the open design
untouched, never an exception (DESIGN §8); Save reports what it cannot write."""
import json

import pytest

from tests.conftest import EXAMPLES

SPIRAL = EXAMPLES / "spiral_mlp.loom"


def hostile(kind: str) -> str:
    text = SPIRAL.read_text()
    doc = json.loads(text)
    if kind == "digits":
        return text.replace('"out_features": 3', '"out_features": ' + "7" * 5000)
    if kind == "nesting":
        return text.replace('"ui": {}', '"ui": ' + "[" * 50_000 + "]" * 50_000)
    if kind == "nan_pos":
        doc["graph"]["nodes"][1]["pos"] = [float("nan"), float("nan")]
    elif kind == "surrogate":
        doc["name"] = "\ud800"
    return json.dumps(doc)


KINDS = ["digits", "nesting", "nan_pos", "surrogate"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_window_started_on_a_hostile_file_reports_it(make_window, tmp_path, kind):
    path = tmp_path / f"{kind}.loom"
    path.write_text(hostile(kind))
    window = make_window(path)
    assert window.startup_error and str(path) in window.startup_error
    assert window.doc.path is None and window.doc.graph.nodes == []


@pytest.mark.parametrize("kind", KINDS)
def test_file_open_of_a_hostile_file_reports_and_keeps_the_open_design(make_window, dialogs, tmp_path, kind):
    window = make_window(SPIRAL)
    before = [n.id for n in window.doc.graph.nodes]
    path = tmp_path / f"{kind}.loom"
    path.write_text(hostile(kind))
    assert window.open_path(path, ask=False) is False
    (text,) = dialogs.texts("critical")
    assert str(path) in text
    assert [n.id for n in window.doc.graph.nodes] == before and window.doc.path == SPIRAL
    window.canvas.viewer.viewport().repaint()


def test_save_reports_text_it_cannot_write_and_keeps_the_file(make_window, dialogs, tmp_path):
    path = tmp_path / "d.loom"
    window = make_window()
    assert window.save_to(path)
    before = path.read_text()
    window.doc.project.name = "bad\ud800"
    assert window.save_to(path) is False
    (text,) = dialogs.texts("critical")
    assert "not valid Unicode" in text and "name" in text
    assert path.read_text() == before


def test_document_save_returns_the_reason_instead_of_raising(qtbot, tmp_path):
    from app.document import Document
    from graph.project import Project

    doc = Document()
    doc.replace(Project(name="ok"), None)
    assert doc.save(tmp_path / "ok.loom") is None and doc.path == tmp_path / "ok.loom"
    doc.project.name = "\udcff"
    problem = doc.save(tmp_path / "bad.loom")
    assert "not valid Unicode" in problem and not (tmp_path / "bad.loom").exists()
    blocked = tmp_path / "ok.loom" / "inside.loom"  # a file in place of a folder
    doc.project.name = "ok"
    assert "inside.loom" in doc.save(blocked)
    assert doc.path == tmp_path / "ok.loom"
