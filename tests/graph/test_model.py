"""The Graph's edit methods, their events, and the one place that decides whether a wire is allowed."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.analysis import analyse
from graph.model import (
    BadPortError,
    CycleError,
    Edge,
    EditError,
    Graph,
    MissingNodeError,
    Node,
    OccupiedInputError,
)
from graph.registry import all_types
from graph.topology import topological_order


class Recorder:
    def __init__(self, graph: Graph):
        self.events = []
        self.graph = graph
        graph.subscribe(self)

    def __call__(self, event):
        self.events.append(event)

    def kinds(self):
        return [e.kind for e in self.events]


def small_graph() -> Graph:
    g = Graph()
    g.add_node("Input", "x", {"shape": [4]})
    g.add_node("Linear", "fc", {"out_features": 4})
    g.add_node("ReLU", "act")
    g.add_node("Add", "add")
    g.add_node("Output", "y")
    g.connect("x", "fc")
    g.connect("fc", "act")
    g.connect("act", "add")
    g.connect("x", "add", 0, 1)
    g.connect("add", "y")
    return g


def test_add_node_makes_legal_unique_ids_from_the_type():
    g = Graph()
    assert g.add_node("Linear").id == "linear"
    assert g.add_node("Linear").id == "linear1"
    assert g.add_node("Conv2d").id == "conv2d"
    assert g.add_node("Conv2d").id == "conv2d1"
    g.add_node("ReLU", "fc1")
    assert g.fresh_id("fc1") == "fc2"  # trailing digits are the counter's place
    assert g.fresh_id("fc-1; import os") == "fc_1_import_os"
    assert g.fresh_id("class") == "class_"
    assert g.fresh_id("3d conv") == "n3d_conv"


@pytest.mark.parametrize("type_name, node_id, message", [
    ("Lineer", "a", "unknown layer type"),
    ("Linear", "fc-1", "not a Python identifier"),
    ("Linear", "for", "keyword"),
    ("Linear", "forward", "reserved"),
    ("Linear", "x", "already used"),
])
def test_add_node_refuses_what_cannot_work(type_name, node_id, message):
    g = small_graph()
    before = [n.id for n in g.nodes]
    with pytest.raises(EditError, match=message):
        g.add_node(type_name, node_id)
    assert [n.id for n in g.nodes] == before


def test_edits_emit_events_after_the_change():
    g = Graph()
    seen = []
    g.subscribe(lambda e: seen.append((e.kind, e.node, g.node(e.node) is not None if e.node else None)))
    g.add_node("Input", "x", {"shape": [3]})
    g.add_node("Linear", "fc")
    edge = g.connect("x", "fc")
    g.set_param("fc", "out_features", 8)
    g.move_node("fc", (10, 20))
    g.rename_node("fc", "dense")
    g.remove_node("dense")
    assert seen == [("node_added", "x", True), ("node_added", "fc", True), ("edge_added", None, None),
                    ("params_changed", "fc", True), ("node_moved", "fc", True), ("node_renamed", "dense", True),
                    ("edge_removed", None, None), ("node_removed", "dense", False)]
    assert edge == Edge("x", "fc", 0, 0)


def test_event_payloads_carry_what_undo_needs():
    g = small_graph()
    rec = Recorder(g)
    g.set_param("fc", "out_features", 9)
    g.set_params("fc", {"bias": False})
    g.set_trainable("fc", False)
    g.move_node("fc", (1, 2))
    g.move_node("fc", (3.5, 4))
    g.rename_node("fc", "dense")
    assert [(e.kind, e.old) for e in rec.events] == [
        ("params_changed", {"out_features": 4}), ("params_changed", {"out_features": 9}),
        ("params_changed", True), ("node_moved", None), ("node_moved", (1.0, 2.0)), ("node_renamed", "fc")]
    assert g["dense"].params == {"bias": False} and g["dense"].trainable is False and g["dense"].pos == (3.5, 4.0)


def test_set_param_drops_defaults_and_keeps_bad_values_for_validation():
    g = small_graph()
    g.set_param("fc", "out_features", 64)  # the default
    assert g["fc"].params == {}
    g.set_param("fc", "out_features", "sixteen")
    assert g["fc"].params == {"out_features": "sixteen"}
    assert [d.field for d in analyse(g).errors] == ["out_features"]
    g.set_param("fc", "out_features", None)  # not optional: back to the default
    assert g["fc"].params == {}
    g.add_node("Embedding", "emb")
    g.set_param("emb", "padding_idx", None)  # optional, and None is its default
    assert g["emb"].params == {}
    g.set_param("fc", "whatever", 3)  # unknown names are kept and reported
    assert "unknown parameter" in analyse(g).errors[0].message


def test_rename_rewires_and_refuses_taken_or_illegal_names():
    g = small_graph()
    g.rename_node("act", "relu")
    assert {(e.src, e.dst) for e in g.edges} == {("x", "fc"), ("fc", "relu"), ("relu", "add"), ("x", "add"),
                                                  ("add", "y")}
    rec = Recorder(g)
    g.rename_node("relu", "relu")
    assert rec.events == []
    for bad in ("fc", "1x", "import"):
        with pytest.raises(EditError):
            g.rename_node("relu", bad)
    with pytest.raises(KeyError):
        g.rename_node("ghost", "z")


def test_remove_then_insert_restores_the_graph_exactly():
    g = small_graph()
    nodes_before, edges_before = list(g.nodes), list(g.edges)
    index = g.nodes.index(g["act"])
    node, edges = g.remove_node("act")
    assert node.id == "act" and set(edges) == {Edge("fc", "act"), Edge("act", "add")}
    assert g.node("act") is None and all("act" not in (e.src, e.dst) for e in g.edges)
    g.insert_node(node, edges, index=index)
    assert g.nodes == nodes_before
    assert set(g.edges) == set(edges_before)


def test_insert_edge_restores_even_a_bad_wire():
    g = small_graph()
    bad = Edge("ghost", "fc", 0, 0)
    g.insert_edge(bad, index=0)
    assert g.edges[0] == bad
    assert any("missing node 'ghost'" in d.message for d in analyse(g).errors)


@pytest.mark.parametrize("src, dst, src_port, dst_port, error, message", [
    ("ghost", "fc", 0, 0, MissingNodeError, "^fc: wire ghost -> fc refers to a missing node 'ghost'"),
    ("x", "ghost", 0, 0, MissingNodeError, "^x: wire x -> ghost refers to a missing node 'ghost'"),
    ("fc", "act", 1, 0, BadPortError, r"^fc: has no output port 1 \(it has 1\) for the wire to act"),
    ("y", "act", 0, 0, BadPortError, "no output port 0"),  # Output has no outputs
    ("fc", "x", 0, 0, BadPortError, "^x: has no input port 0"),    # Input has no inputs
    ("fc", "add", 0, 2, BadPortError, "no input port 2"),
    ("x", "act", 0, 0, OccupiedInputError, "^act: input 'input' is already connected to fc, so the wire from x"),
    ("act", "act", 0, 0, CycleError, "^act: the wires act -> act make a cycle"),
])
def test_connect_refuses_what_cannot_work(src, dst, src_port, dst_port, error, message):
    g = small_graph()
    if (src, dst) == ("act", "act"):
        g.remove_edge(Edge("fc", "act"))
    edges = list(g.edges)
    with pytest.raises(error, match=message):
        g.connect(src, dst, src_port, dst_port)
    assert g.edges == edges


def test_connect_refuses_a_cycle_and_names_the_nodes():
    g = Graph()
    for node_id in "abc":
        g.add_node("Add", node_id)
    g.connect("a", "b")
    g.connect("b", "c")
    with pytest.raises(CycleError, match="^c: the wires c -> a -> b -> c make a cycle") as caught:
        g.connect("c", "a", 0, 1)
    assert caught.value.cycle == ["c", "a", "b"] and caught.value.edge == Edge("c", "a", 0, 1)


@pytest.mark.parametrize("src, dst, src_port, dst_port", [
    ("ghost", "fc", 0, 0), ("fc", "act", 1, 0), ("fc", "add", 0, 2), ("x", "act", 0, 0), ("act", "fc", 0, 0),
])
def test_an_edit_and_the_analysis_word_a_bad_wire_alike(src, dst, src_port, dst_port):
    """The connection rule is written once: the wire the editor refuses is, when a file holds it,
    reported by `check` under the same node, in the same words, with the same fix."""
    g = small_graph()
    edge = Edge(src, dst, src_port, dst_port)
    with pytest.raises(EditError) as caught:
        g.check_connection(edge)
    g.insert_edge(edge)
    found = [d for d in analyse(g).errors if d.message == caught.value.message]
    assert len(found) == 1, [str(d) for d in analyse(g).errors]
    assert (found[0].node, found[0].hint) == (caught.value.node, caught.value.hint)
    assert str(found[0]) == str(caught.value)


def test_inputs_and_outputs_are_the_nodes_their_types_declare():
    g = small_graph()
    g.add_node("Output", "y2")
    g.add_node("Input", "z", {"shape": [2]})
    assert [n.id for n in g.inputs()] == ["x", "z"] and [n.id for n in g.outputs()] == ["y", "y2"]
    assert [n.id for n in g.with_role("layer")] == ["fc", "act", "add"]


def test_one_id_question_for_every_front_end():
    g = small_graph()
    assert "not a Python identifier" in g.id_problem("fc 1")
    assert g.id_problem("fc") == "id 'fc' is already used by another node"
    assert g.id_problem("fc", renaming="fc") is None and g.id_problem("dense") is None


def test_an_output_port_may_feed_many_inputs():
    g = small_graph()
    g.add_node("Output", "y2")
    g.connect("x", "y2")
    assert len(g.edges_from("x")) == 3


def test_variadic_ports_follow_the_parameters():
    g = Graph()
    add = g.add_node("Add", "add", {"num_inputs": 4})
    chunk = g.add_node("Chunk", "chunk", {"chunks": 3})
    assert add.input_ports() == ("in0", "in1", "in2", "in3")
    assert chunk.output_ports() == ("chunk0", "chunk1", "chunk2")
    g.set_param("add", "num_inputs", "many")  # a bad value falls back to the default for ports
    assert add.input_ports() == ("in0", "in1")
    assert Node("n", "Nope").input_ports() == () and Node("n", "Nope").values() == {}


def test_clear_and_unsubscribe():
    g = small_graph()
    rec = Recorder(g)
    g.clear()
    assert g.nodes == [] and g.edges == [] and rec.kinds() == ["graph_reset"]
    g.unsubscribe(rec)
    g.add_node("ReLU")
    assert rec.kinds() == ["graph_reset"]


# -- whatever the sequence of edits, the Graph keeps its invariants -------------------------
TYPES = [t.name for t in all_types()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["add", "connect", "connect", "connect", "remove", "rename"]),
                          st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 2), st.integers(0, 2)),
                max_size=40))
def test_edits_never_make_cycles_doubled_inputs_or_dangling_wires(ops):
    g = Graph()
    for op, a, b, pa, pb in ops:
        ids = [n.id for n in g.nodes]
        try:
            if op == "add":
                g.add_node(TYPES[a % len(TYPES)])
            elif ids and op == "connect":
                g.connect(ids[a % len(ids)], ids[b % len(ids)], pa, pb)
            elif ids and op == "remove":
                g.remove_node(ids[a % len(ids)])
            elif ids and op == "rename":
                g.rename_node(ids[a % len(ids)], f"n{b}")
        except EditError:
            pass
    ids = g.ids()
    assert len(ids) == len(g.nodes)
    _, leftover = topological_order([n.id for n in g.nodes], g.edges)
    assert leftover == []
    taken = [(e.dst, e.dst_port) for e in g.edges]
    assert len(taken) == len(set(taken))
    for node_id in ids:  # the adjacency index agrees with the edge list, in its order
        assert g.edges_into(node_id) == [e for e in g.edges if e.dst == node_id]
        assert g.edges_from(node_id) == [e for e in g.edges if e.src == node_id]
        assert g.node(node_id) is next(n for n in g.nodes if n.id == node_id)
    for e in g.edges:
        assert e.src in ids and e.dst in ids
        assert e.src_port < len(g[e.src].output_ports()) and e.dst_port < len(g[e.dst].input_ports())
    analysis = analyse(g)  # and the analysis agrees: no wiring problem to report
    assert not [d for d in analysis.errors if "wire" in d.message or "cycle" in d.message]
