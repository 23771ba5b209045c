"""Files and safety (DESIGN §8): save and reopen, prompts for unsaved work, failed loads,
crash recovery, examples, recent files, export."""
from __future__ import annotations

import json

import pytest
from PySide6 import QtWidgets

from graph.project import dumps, load, to_dict
from tests.app.gestures import drop_layer, wire

Button = QtWidgets.QMessageBox.StandardButton


def graph_doc(project) -> dict:
    doc = to_dict(project)
    return {k: doc[k] for k in ("name", "graph", "data", "training")}


def test_save_reopen_compare(make_window, examples, tmp_path):
    window = make_window(examples[0])
    window.show()
    node = window.doc.graph.nodes[1]
    window.editor.set_param(node.id, next(p.name for p in node.layer.params if p.kind == "int"), 7)
    assert window.doc.dirty and window.isWindowModified()
    out = tmp_path / "mine.loom"
    assert window.save_to(out)
    assert not window.doc.dirty and not window.isWindowModified()
    assert not list(tmp_path.glob(".mine.loom.*"))  # the atomic save left no temporary file

    again = make_window(out)
    assert graph_doc(again.doc.project) == graph_doc(window.doc.project)
    assert again.doc.path == out and not again.doc.dirty
    state = json.loads(out.read_text())["ui"]["canvas"]
    assert len(state["scene_rect"]) == 4
    assert again.recent_files()[0] == str(out.resolve())


def test_view_state_is_restored_from_the_ui_section(make_window, examples, tmp_path, qtbot):
    window = make_window(examples[0])
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    window.canvas.viewer.set_scene_rect([100.0, 50.0, 900.0, 600.0])
    saved = window.canvas.view_state()
    window.save_to(tmp_path / "view.loom")
    again = make_window(tmp_path / "view.loom")
    again.show()
    qtbot.wait(20)
    restored = again.canvas.view_state()["scene_rect"]
    assert restored[0] == pytest.approx(saved["scene_rect"][0], abs=30)
    assert restored[1] == pytest.approx(saved["scene_rect"][1], abs=30)


def test_a_failed_open_reports_and_leaves_the_design_untouched(window, tmp_path, dialogs):
    drop_layer(window, "Linear", (0.0, 0.0))
    before = dumps(window.doc.project)
    broken = tmp_path / "broken.loom"
    broken.write_text('{"format": "layerloom", "version": 99}')
    assert not window.open_path(broken, ask=False)
    assert "version 99" in dialogs.texts("critical")[-1]
    assert dumps(window.doc.project) == before
    assert window.doc.undo_stack.count() == 1  # the history is still there too
    assert not window.open_path(tmp_path / "missing.loom", ask=False)
    assert "no such file" in dialogs.texts("critical")[-1]


def test_closing_with_unsaved_changes_asks_first(make_window, dialogs, tmp_path):
    window = make_window()
    window.show()
    drop_layer(window, "ReLU", (0.0, 0.0))
    dialogs.questions = [Button.Cancel]
    assert not window.close()
    assert window.isVisible() and "Save the changes" in dialogs.texts("question")[-1]

    dialogs.questions = [Button.Save]
    dialogs.save_paths = [str(tmp_path / "kept.loom")]
    assert window.close()
    assert [n.type for n in load(tmp_path / "kept.loom").graph.nodes][-1] == "ReLU"
    assert window.settings.value("window/geometry") is not None  # remembered for the next start
    assert window.settings.value("window/state") is not None


def test_new_and_open_ask_about_unsaved_changes(window, dialogs, examples):
    drop_layer(window, "ReLU", (0.0, 0.0))
    dialogs.questions = [Button.Cancel]
    assert not window.new_project()
    assert len(window.doc.graph.nodes) == 1
    dialogs.questions = [Button.Cancel]
    assert not window.open_path(examples[0])
    assert len(window.doc.graph.nodes) == 1
    dialogs.questions = [Button.Discard]
    assert window.open_path(examples[0])
    assert window.doc.path == examples[0] and not window.doc.dirty
    n_questions = len(dialogs.texts("question"))
    assert window.new_project()  # nothing unsaved: no question
    assert len(dialogs.texts("question")) == n_questions
    assert window.doc.graph.nodes == []


def test_autosave_is_offered_back_after_a_crash(make_window, dialogs, tmp_path):
    first = make_window(autosave_ms=60_000)
    first.doc.replace(first.doc.project, tmp_path / "work.loom")
    ids = [drop_layer(first, "Input", (0.0, 0.0)), drop_layer(first, "Linear", (250.0, 0.0))]
    wire(first, *ids)
    assert first.autosaver.save_now()
    assert first.autosaver.design_path.exists()
    expected = graph_doc(first.doc.project)
    # a live window's autosave is not an orphan
    second = make_window()
    assert not second.offer_recovery()
    # the first window "crashes": its lock is gone, its autosave stays
    first.autosaver.timer.stop()
    first.autosaver.lock.unlock()
    dialogs.questions = [Button.Yes]
    third = make_window()
    assert third.offer_recovery()
    assert graph_doc(third.doc.project) == expected
    assert third.doc.dirty and third.doc.path == tmp_path / "work.loom"
    assert not first.autosaver.design_path.exists()  # recovered work is not offered twice
    first.doc.undo_stack.setClean()


def test_autosave_writes_only_unsaved_work_and_a_clean_close_removes_it(make_window, tmp_path):
    window = make_window()
    assert not window.autosaver.save_now()  # nothing unsaved
    drop_layer(window, "ReLU", (0.0, 0.0))
    assert window.autosaver.save_now()
    assert not window.autosaver.save_now()  # unchanged since the last write
    window.save_to(tmp_path / "saved.loom")
    assert not window.autosaver.design_path.exists()
    drop_layer(window, "ReLU", (0.0, 100.0))
    window.autosaver.save_now()
    window.doc.undo_stack.setClean()
    window.close()
    assert not list((tmp_path / "recovery").glob("*.loom"))


def test_every_example_opens_with_shapes_on_every_node_and_no_problem(make_window, examples):
    window = make_window()
    names = []
    for path in examples:
        assert window.open_example(path)
        assert window.doc.path is None and not window.doc.dirty  # a copy: Save never overwrites it
        assert window.doc.analysis.diagnostics == []
        for node in window.doc.graph.nodes:
            annotation = window.canvas.annotation(node.id)
            assert annotation.shape.startswith(("(N", "→ (N")), (path.name, node.id, annotation)
            assert annotation.severity is None
        assert window.problems.rows() == []
        names.append(window.doc.project.name)
    menu = [a.text() for a in window.examples_menu.actions()]
    assert len(menu) == len(examples) and all(any(n in m for m in menu) for n in names)


def test_the_default_example_opens_when_no_file_is_given(make_window):
    window = make_window()
    assert window.doc.graph.nodes and window.doc.path is None
    assert window.canvas.annotation(window.doc.graph.nodes[0].id).shape.startswith("(N")


def test_export_writes_python_code(window, examples, tmp_path, dialogs):
    window.open_example(examples[0])
    dialogs.save_paths = [str(tmp_path / "model")]
    window.action_export.trigger()
    code = (tmp_path / "model.py").read_text()
    assert "class" in code and "def build_model" in code
    assert not dialogs.texts("critical")
