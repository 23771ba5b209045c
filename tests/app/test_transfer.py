"""Transfer learning on the canvas (app/transfer.py): Freeze up to here, Unfreeze all and Replace
head as single undoable edits from a node's context menu; frozen nodes dimmed with a snowflake and
their parameters marked frozen in the Summary; the Training panel's initial weights."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from tests.conftest import EXAMPLES


def _menu_action(window, node_id: str, name: str):
    rect = window.canvas.item(node_id).view.sceneBoundingRect()
    menu = window.context_menu_for(rect.center())
    return next(a for a in menu.actions() if a.objectName() == name)


def _summary_params(window, node_id: str) -> str:
    model = window.summary.model
    row = next(r for r in range(model.rowCount()) if model.node_at(r) == node_id)
    return model.data(model.index(row, 3))


def test_freeze_up_to_here_then_unfreeze_all_each_one_undo_step(make_window, qtbot):
    window = make_window(EXAMPLES / "digits_cnn.loom")
    window.show()
    graph = window.doc.graph
    steps = window.doc.undo_stack.count()
    _menu_action(window, "pool2", "actionFreezeUpToHere").trigger()
    frozen = {n.id for n in graph.nodes if not n.trainable}
    assert frozen == {"conv1", "conv2"}                       # upstream with weights; ReLU/pool untouched
    assert window.doc.undo_stack.count() == steps + 1
    assert window.doc.undo_stack.undoText() == "Freeze up to pool2"
    assert "(frozen)" in _summary_params(window, "conv1") and "(frozen)" not in _summary_params(window, "fc1")
    assert "frozen" in window.summary.totals.text()
    view = window.canvas.item("conv1").view
    assert view.annotation.frozen and view.opacity() < 1.0 and view.frozen_badge.isVisible()
    assert window.canvas.item("fc1").view.opacity() == 1.0

    _menu_action(window, "fc2", "actionFreezeUpToHere").trigger()
    assert {n.id for n in graph.nodes if not n.trainable} == {"conv1", "conv2", "fc1", "fc2"}
    thaw = _menu_action(window, "image", "actionUnfreezeAll")
    assert thaw.isEnabled()
    thaw.trigger()
    assert all(n.trainable for n in graph.nodes)
    assert not window.canvas.item("conv1").view.frozen_badge.isVisible()
    assert window.canvas.item("conv1").view.opacity() == 1.0
    assert not _menu_action(window, "image", "actionUnfreezeAll").isEnabled()

    window.doc.undo()                                          # Unfreeze all, undone in one step
    assert {n.id for n in graph.nodes if not n.trainable} == {"conv1", "conv2", "fc1", "fc2"}
    window.doc.undo()
    window.doc.undo()
    assert all(n.trainable for n in graph.nodes)
    assert window.doc.undo_stack.count() == steps + 3


def test_the_file_keeps_what_was_frozen(make_window, tmp_path):
    window = make_window(EXAMPLES / "digits_cnn.loom")
    window.transfer.freeze_up_to("conv2")
    window.save_to(tmp_path / "frozen.loom")
    from graph.project import load

    assert [n.id for n in load(tmp_path / "frozen.loom").graph.nodes if not n.trainable] == ["conv1", "conv2"]


def test_replace_head_sets_the_output_size_to_the_class_count(make_window, qtbot):
    window = make_window(EXAMPLES / "digits_cnn.loom")
    window.show()
    window.doc.project.data["classes"] = "5-9"               # five of the ten digits
    steps = window.doc.undo_stack.count()
    action = _menu_action(window, "digit", "actionReplaceHead")  # the Output: its head is fc2
    assert action.isEnabled() and "fc2.out_features" in action.text()
    with qtbot.waitSignal(window.transfer.head_replaced, timeout=60_000) as done:
        action.trigger()
    assert done.args[0] == ("fc2", "out_features", 5)
    assert window.doc.graph["fc2"].params["out_features"] == 5
    assert window.doc.undo_stack.count() == steps + 1
    window.doc.undo()
    assert window.doc.graph["fc2"].params["out_features"] == 10


def test_replace_head_on_data_without_classes_is_a_message(make_window, qtbot):
    window = make_window(EXAMPLES / "sine_regression.loom")
    window.show()
    last = [n for n in window.doc.graph.nodes if n.type == "Linear"][-1].id
    before = dict(window.doc.graph[last].params)
    with qtbot.waitSignal(window.transfer.head_replaced, timeout=60_000) as done:
        assert window.transfer.replace_head(last)
    assert "no class labels" in done.args[0].message
    assert window.doc.graph[last].params == before
    assert "Replace head" in window.statusBar().currentMessage()


def test_no_transfer_edits_inside_a_block(make_window):
    window = make_window(EXAMPLES / "resnet18.loom")
    block_node = next(n.id for n in window.doc.graph.nodes if n.type in window.doc.project.blocks)
    window.doc.set_level((block_node,))
    inner = window.doc.edited_graph.nodes[1].id
    rect = window.canvas.item(inner).view.sceneBoundingRect()
    menu = window.context_menu_for(rect.center())
    assert not [a for a in menu.actions() if a.objectName() in ("actionFreezeUpToHere", "actionReplaceHead")]


def test_the_training_panel_shows_and_edits_initial_weights(make_window, qtbot, tmp_path):
    import shutil

    from app.training.loader import engine_loader

    engine_loader().wait()
    shutil.copy(EXAMPLES / "digits_cnn.loom", tmp_path / "d.loom")
    (tmp_path / "w.safetensors").write_bytes(b"")
    window = make_window(tmp_path / "d.loom")
    window.show()
    assert window.training.panel.ensure_built()
    group, doc = window.training.panel.weights_group, window.doc
    assert group.path.text() == "" and not group.nodes.isEnabled()
    steps = doc.undo_stack.count()

    group.path.setText("w.safetensors")
    group.path.editingFinished.emit()
    assert doc.project.training["initial_weights"] == "w.safetensors"
    assert group.nodes.isEnabled() and not group.problem.isVisible()
    listed = [group.nodes.item(i).text() for i in range(group.nodes.count())]
    assert listed == ["conv1", "conv2", "fc1", "fc2"]            # the layers with weights
    head = group.nodes.item(3)
    head.setCheckState(QtCore.Qt.CheckState.Unchecked)          # the head starts fresh
    assert doc.project.training["initial_weights"] == {"path": "w.safetensors", "nodes": ["conv1", "conv2", "fc1"]}
    assert group.nodes.item(3).checkState() == QtCore.Qt.CheckState.Unchecked
    assert doc.undo_stack.count() == steps + 2

    doc.undo()
    assert doc.project.training["initial_weights"] == "w.safetensors"
    assert group.nodes.item(3).checkState() == QtCore.Qt.CheckState.Checked
    doc.undo()
    assert "initial_weights" not in doc.project.training and group.path.text() == ""
    doc.redo()
    group.findChild(QtWidgets.QToolButton, "clearInitialWeights").click()
    assert "initial_weights" not in doc.project.training

    group.path.setText("missing.safetensors")
    group.path.editingFinished.emit()
    assert group.problem.isVisible() and "missing.safetensors is not there" in group.problem.text()


def test_the_fine_tuning_example_opens_as_a_copy_that_finds_its_weights(window):
    assert window.open_example(EXAMPLES / "digits_finetune.loom")
    assert window.doc.path is None
    weights = window.doc.project.training["initial_weights"]
    assert weights == {"path": str(EXAMPLES.resolve() / "digits_pretrain.safetensors"),
                       "nodes": ["conv1", "conv2", "fc1"]}
    assert not window.doc.graph["conv1"].trainable and window.canvas.item("conv1").view.annotation.frozen
