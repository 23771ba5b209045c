"""Editing on the canvas: undo/redo of every kind of change, wires refused or flagged,
variadic ports, clipboard, rename, auto-layout."""
from __future__ import annotations

import itertools

from graph.project import dumps
from tests.app.gestures import drop_layer, move, port_items, unwire, wire


def snapshot(window) -> str:
    return dumps(window.doc.project)


def mlp(window) -> list[str]:
    ids = [drop_layer(window, name, (i * 230.0, 0.0)) for i, name in enumerate(["Input", "Linear", "ReLU", "Linear",
                                                                                 "Output"])]
    for a, b in itertools.pairwise(ids):
        wire(window, a, b)
    window.editor.set_param(ids[0], "shape", [8])
    return ids


def test_every_change_undoes_and_redoes_exactly(window):
    stack = window.doc.undo_stack
    states = [snapshot(window)]

    def step(action):
        action()
        states.append(snapshot(window))

    ids = []
    for i, name in enumerate(["Input", "Linear", "ReLU", "Output"]):
        step(lambda i=i, name=name: ids.append(drop_layer(window, name, (i * 230.0, 0.0))))
    step(lambda: wire(window, ids[0], ids[1]))
    step(lambda: wire(window, ids[1], ids[2]))
    step(lambda: wire(window, ids[2], ids[3]))
    step(lambda: window.editor.set_param(ids[0], "shape", [4]))
    step(lambda: window.editor.set_param(ids[1], "out_features", 3))
    step(lambda: window.editor.set_trainable(ids[1], False))
    step(lambda: window.editor.rename(ids[1], "fc"))
    step(lambda: move(window, "fc", (260.0, 120.0)))
    step(lambda: unwire(window, ids[2], ids[3]))
    window.canvas.select([ids[0]])  # the first Input: undo must put it back first in the file
    step(window.editor.delete_selection)
    assert stack.count() == len(states) - 1

    for expected in reversed(states[:-1]):
        stack.undo()
        assert snapshot(window) == expected
    assert window.doc.graph.nodes == [] and not window.doc.dirty
    for expected in states[1:]:
        stack.redo()
        assert snapshot(window) == expected
    # the canvas follows: moved node where the Graph says, renamed node shown by its new id
    assert tuple(window.canvas.item("fc").view.xy_pos) == (260.0, 120.0)
    assert window.canvas.item("fc").view.name == "fc"


def test_undoing_a_delete_restores_wires_and_their_pipes(window):
    ids = mlp(window)
    window.canvas.select([ids[1], ids[2]])
    before = snapshot(window)
    window.editor.delete_selection()
    assert len(window.doc.graph.nodes) == 3 and len(window.doc.graph.edges) == 1
    window.doc.undo_stack.undo()
    assert snapshot(window) == before
    ins, _ = port_items(window, ids[2])
    assert len(ins[0].connected_pipes) == 1
    assert window.doc.analysis.valid


def test_a_cycle_is_refused_with_a_message_and_the_wire_disappears(window):
    ids = mlp(window)
    messages = []
    window.editor.message.connect(messages.append)
    count = window.doc.undo_stack.count()
    add = drop_layer(window, "Add", (0.0, 300.0))
    wire(window, ids[1], add, 0, 0)
    wire(window, add, ids[1], 0, 0)  # the input of ids[1] is occupied: refused
    assert "already connected" in messages[-1]
    window.editor.rewire([window.doc.graph.edges_into(ids[2])[0]], [])  # free ReLU's input
    wire(window, add, ids[2])
    wire(window, ids[3], add, 0, 1)  # fc2 -> add would close ReLU -> fc2 -> add -> ReLU
    assert "cycle" in messages[-1]
    assert not any(e.src == ids[3] and e.dst == add for e in window.doc.graph.edges)
    ins, _ = port_items(window, add)
    assert ins[1].connected_pipes == []
    assert window.doc.undo_stack.count() == count + 4  # add node, two wires, one unwire; no refused ones


def test_a_wire_whose_shapes_do_not_fit_is_kept_and_flagged(window):
    a = drop_layer(window, "Input", (0.0, 0.0))
    b = drop_layer(window, "Input", (0.0, 200.0))
    add = drop_layer(window, "Add", (300.0, 100.0))
    window.editor.set_param(a, "shape", [8])
    window.editor.set_param(b, "shape", [5])
    messages = []
    window.editor.message.connect(messages.append)
    wire(window, a, add, 0, 0)
    wire(window, b, add, 0, 1)
    assert "does not fit" in messages[-1]
    assert len(window.doc.graph.edges) == 2
    assert window.canvas.annotation(add).severity == "error"
    flagged = window.canvas.flagged_wires()
    assert {(e.src, e.dst_port) for e in flagged} == {(a, 0), (b, 1)}
    pipe = port_items(window, add)[0][1].connected_pipes[0]
    assert tuple(pipe.color[:3]) == (235, 64, 64)
    window.doc.undo_stack.undo()
    assert window.canvas.flagged_wires() == set()
    assert tuple(port_items(window, add)[0][0].connected_pipes[0].color[:3]) != (235, 64, 64)


def test_moving_a_wire_end_to_another_port_is_one_step(window):
    ids = mlp(window)
    spare = drop_layer(window, "ReLU", (460.0, 300.0))
    count = window.doc.undo_stack.count()
    # drag the fc1 -> relu wire's input end from relu over to spare
    wire(window, ids[1], spare, detach=(ids[1], ids[2], 0, 0))
    edges = {(e.src, e.dst) for e in window.doc.graph.edges}
    assert (ids[1], spare) in edges and (ids[1], ids[2]) not in edges
    assert window.doc.undo_stack.count() == count + 1
    window.doc.undo_stack.undo()
    assert (ids[1], ids[2]) in {(e.src, e.dst) for e in window.doc.graph.edges}


def test_variadic_ports_follow_the_parameter_and_undo_brings_wires_back(window):
    ids = [drop_layer(window, "Input", (0.0, i * 150.0)) for i in range(3)]
    add = drop_layer(window, "Add", (300.0, 150.0))
    window.editor.set_param(add, "num_inputs", 3)
    assert [p.name for p in port_items(window, add)[0]] == ["in0", "in1", "in2"]
    for port, src in enumerate(ids):
        wire(window, src, add, 0, port)
    assert len(window.doc.graph.edges_into(add)) == 3
    window.canvas.select([add])
    spin = window.properties.rows["num_inputs"].editor
    spin.setValue(2)  # typed in the panel
    assert [p.name for p in port_items(window, add)[0]] == ["in0", "in1"]
    assert len(window.doc.graph.edges_into(add)) == 2  # the wire on in2 went with its port
    window.doc.undo_stack.undo()
    assert [p.name for p in port_items(window, add)[0]] == ["in0", "in1", "in2"]
    assert len(window.doc.graph.edges_into(add)) == 3
    assert len(port_items(window, add)[0][2].connected_pipes) == 1


def test_copy_paste_and_duplicate_make_fresh_ids_and_keep_inner_wires(window):
    ids = mlp(window)
    window.canvas.select(ids[1:3])
    assert window.editor.copy()
    pasted = window.editor.paste()
    assert len(pasted) == 2 and not set(pasted) & set(ids)
    graph = window.doc.graph
    assert [graph[p].type for p in pasted] == ["Linear", "ReLU"]
    assert any(e.src == pasted[0] and e.dst == pasted[1] for e in graph.edges)
    assert graph[pasted[0]].pos == (graph[ids[1]].pos[0] + 40, graph[ids[1]].pos[1] + 40)
    assert window.canvas.selected_ids() == pasted
    duplicated = window.editor.duplicate()
    assert len(duplicated) == 2 and not set(duplicated) & (set(ids) | set(pasted))
    assert len(graph.nodes) == 9
    window.doc.undo_stack.undo()
    window.doc.undo_stack.undo()
    assert [n.id for n in graph.nodes] == ids


def test_rename_on_the_canvas_and_in_the_panel(window):
    ids = mlp(window)
    messages = []
    window.editor.message.connect(messages.append)
    # double-click the title and type: NodeGraphQt reports the new name
    ngraph_id = window.canvas.item(ids[1]).id
    window.canvas.viewer.node_name_changed.emit(ngraph_id, "encoder")
    assert window.doc.graph.node("encoder") is not None
    window.canvas.viewer.node_name_changed.emit(window.canvas.item("encoder").id, "class")
    assert "keyword" in messages[-1]
    assert window.canvas.item("encoder").view.name == "encoder"  # the refused name snaps back
    window.canvas.select(["encoder"])
    edit = window.properties.id_edit
    edit.setText("2fast")
    edit.textEdited.emit("2fast")
    assert window.properties.id_problem.isVisible()
    edit.setText("fc_in")
    edit.textEdited.emit("fc_in")
    edit.editingFinished.emit()
    assert [n.id for n in window.doc.graph.nodes][1] == "fc_in"
    assert window.properties.node_id == "fc_in"


def test_auto_layout_is_layered_left_to_right_without_overlaps(window):
    ids = [drop_layer(window, name, (0.0, 0.0)) for name in ["Input", "Linear", "Linear", "Add", "Output"]]
    window.editor.set_param(ids[0], "shape", [4])
    wire(window, ids[0], ids[1])
    wire(window, ids[0], ids[2])
    wire(window, ids[1], ids[3], 0, 0)
    wire(window, ids[2], ids[3], 0, 1)
    wire(window, ids[3], ids[4])
    window.action_auto_layout.trigger()
    pos = {i: window.doc.graph[i].pos for i in ids}
    assert pos[ids[0]][0] < pos[ids[1]][0] == pos[ids[2]][0] < pos[ids[3]][0] < pos[ids[4]][0]
    rects = [window.canvas.item(i).view.sceneBoundingRect() for i in ids]
    assert not any(a.intersects(b) for n, a in enumerate(rects) for b in rects[n + 1:])
    assert window.doc.undo_stack.undoText() == "Auto-layout"
    window.doc.undo_stack.undo()
    assert all(window.doc.graph[i].pos == (0.0, 0.0) for i in ids)


def test_nodegraphqt_keeps_no_undo_history_of_its_own(window):
    mlp(window)
    window.canvas.select_all()
    window.editor.delete_selection()
    assert window.canvas.ngraph.undo_stack().count() <= 1
    assert window.canvas.ngraph.undo_stack() is not window.doc.undo_stack


def test_right_click_offers_node_actions_on_a_node_and_canvas_actions_elsewhere(window):
    ids = mlp(window)
    item_rect = window.canvas.item(ids[1]).view.sceneBoundingRect()
    menu = window.context_menu_for(item_rect.center())
    assert window.action_delete in menu.actions() and window.action_duplicate in menu.actions()
    assert window.canvas.selected_ids() == [ids[1]]
    menu = window.context_menu_for(item_rect.bottomRight() + item_rect.bottomRight())
    assert window.action_paste in menu.actions() and window.action_auto_layout in menu.actions()
