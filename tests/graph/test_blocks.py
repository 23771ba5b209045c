"""Blocks (DESIGN §3.1): the file format version 2, `$name`, repeat, nesting, recursion, problems
with their paths, and making blocks from selections with an exact undo."""
from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import registry
from graph.analysis import analyse
from graph.block_analysis import analysis_at, instance_infos
from graph.block_edit import import_blocks, make_block, remove_block, rename_block
from graph.blocks import Blocks, substitute
from graph.model import EditError, Graph
from graph.project import LoomFileError, Project, dumps, from_dict, load, loads, to_dict
from tests.conftest import EXAMPLES

RESNET18_PARAMS = 11_689_512
FLAT_RESNET = Path(__file__).parent / "designs" / "resnet18_flat.loom"


def conv_block(name="ConvBlock", out="$channels", extra_nodes=(), extra_edges=()):
    return {"name": name,
            "params": [{"name": "channels", "kind": "int", "default": 8},
                       {"name": "k", "kind": "int", "default": 3}],
            "graph": {"nodes": [{"id": "x", "type": "Input"},
                                {"id": "conv", "type": "Conv2d",
                                 "params": {"out_channels": out, "kernel_size": ["$k", "$k"], "padding": 1}},
                                {"id": "bn", "type": "BatchNorm2d"},
                                *extra_nodes,
                                {"id": "y", "type": "Output"}],
                      "edges": [{"from": "x", "to": "conv"}, {"from": "conv", "to": "bn"},
                                {"from": "bn", "to": "y"}, *extra_edges]}}


def project(blocks, nodes, edges, version=2) -> Project:
    return from_dict({"format": "layerloom", "version": version, "name": "T", "blocks": blocks,
                      "graph": {"nodes": nodes, "edges": edges}})


def chain(*nodes):
    """Top-level nodes wired one after another, from an Input of shape (3, 16, 16)."""
    ids = ["img", *[n["id"] for n in nodes], "out"]
    all_nodes = [{"id": "img", "type": "Input", "params": {"shape": [3, 16, 16]}}, *nodes,
                 {"id": "out", "type": "Output"}]
    return all_nodes, [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]


def errors(p: Project) -> list[str]:
    return [str(d) for d in analyse(p.graph).errors]


# -- the file ------------------------------------------------------------------------------------
def test_a_project_with_blocks_round_trips_as_version_2(tmp_path):
    p = project([conv_block()], *chain({"id": "b", "type": "ConvBlock", "params": {"channels": 4}}))
    text = dumps(p)
    assert json.loads(text)["version"] == 2
    again = loads(text)
    assert to_dict(again) == to_dict(p) and dumps(again) == text
    assert list(json.loads(text)) == ["format", "version", "name", "blocks", "graph", "data", "training", "ui"]


def test_a_project_without_blocks_is_still_written_as_version_1():
    p = loads((EXAMPLES / "spiral_mlp.loom").read_text())
    assert to_dict(p)["version"] == 1 and "blocks" not in to_dict(p)


def test_a_version_1_file_loads_unchanged():
    doc = json.loads((EXAMPLES / "lenet5.loom").read_text())
    assert doc["version"] == 1 and to_dict(from_dict(doc)) == doc


def test_block_types_resolve_through_the_project_not_the_registry():
    p = project([conv_block()], *chain({"id": "b", "type": "ConvBlock"}))
    assert registry.get("ConvBlock") is None
    assert "ConvBlock" not in {t.name for t in registry.all_types()}
    assert p.graph.layer_type("ConvBlock").params[0].name == "channels"
    assert Graph().layer_type("ConvBlock") is None  # another project knows no ConvBlock


@pytest.mark.parametrize("blocks, message", [
    ({"name": 3}, '"name"'),
    ([{"name": "A", "params": {}}], '"params" must be a list'),
    ([{"name": "A", "params": [{"name": "c", "kind": "integer", "default": 1}]}], "kind 'integer'"),
    ([{"name": "A", "params": [{"name": "c", "kind": "int", "default": "x"}]}], "'c' is 'x'"),
    ([{"name": "A", "params": [{"name": "c", "kind": "int"}]}], '"default"'),
    ([{"name": "A", "graph": []}], '"graph" must be an object'),
    ([{"name": "A", "graph": {"nodes": [3]}}], "nodes[0]"),
])
def test_a_malformed_block_entry_makes_the_file_unreadable_naming_where(blocks, message):
    with pytest.raises(LoomFileError) as info:
        from_dict({"format": "layerloom", "version": 2, "blocks": blocks if isinstance(blocks, list) else [blocks]})
    assert message in str(info.value) and "blocks[0]" in str(info.value)


# -- inference through blocks -------------------------------------------------------------------------
def test_a_block_node_gets_its_output_shape_and_summed_counts():
    p = project([conv_block()], *chain({"id": "b", "type": "ConvBlock", "params": {"channels": 4, "k": 3}}))
    a = analyse(p.graph)
    assert a.valid, errors(p)
    info = a.nodes["b"]
    conv = 3 * 4 * 9 + 4
    assert info.outputs == ((4, 16, 16),)
    assert info.params == conv + 8 and a.total_params == info.params
    assert info.macs == info.inner.analysis.total_macs > 0
    assert info.inner.analysis.nodes["conv"].values["kernel_size"] == [3, 3]  # "$k" as one item of a list


def test_substitution_replaces_whole_values_and_list_items_only():
    values = {"c": 5, "k": 3}
    assert substitute("$c", values) == 5
    assert substitute(["$k", 1, "$k"], values) == [3, 1, 3]
    assert substitute("$c and more", values) == "$c and more"
    assert substitute("$missing", values) == "$missing"


def test_repeat_stacks_copies_and_multiplies_the_counts():
    once = analyse(project([conv_block()], *chain({"id": "b", "type": "ConvBlock",
                                                   "params": {"channels": 3}})).graph).nodes["b"]
    p = project([conv_block()], *chain({"id": "b", "type": "ConvBlock", "params": {"channels": 3}, "repeat": 4}))
    a = analyse(p.graph)
    assert a.valid and a.nodes["b"].params == 4 * once.params and a.nodes["b"].macs == 4 * once.macs
    assert json.loads(dumps(p))["graph"]["nodes"][1]["repeat"] == 4


def test_repeat_needs_a_block_that_keeps_its_shape():
    p = project([conv_block()], *chain({"id": "b", "type": "ConvBlock", "params": {"channels": 8}, "repeat": 2}))
    assert errors(p) == [("b: 'repeat' is 2, but block ConvBlock turns (N, 3, 16, 16) into (N, 8, 16, 16) "
                         "(repeat needs one input and one output of the same shape; set repeat to 1)")]
    assert analyse(p.graph).problems_for("b")[0].field == "repeat"


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_a_bad_repeat_is_a_design_problem(value):
    p = project([conv_block()], *chain({"id": "b", "type": "ConvBlock", "params": {"channels": 3}, "repeat": value}))
    assert errors(p) == [(f"b: 'repeat' is {value!r}; expected a whole number >= 1 "
                         "(repeat counts copies of the block: 1, 2, 3, ...)")]


def test_repeat_on_a_layer_is_a_design_problem():
    p = project([], *chain({"id": "fc", "type": "Flatten", "repeat": 2}))
    assert any(e.startswith("fc: 'repeat' is for block nodes") for e in errors(p))


def test_a_problem_inside_a_block_names_its_path_and_marks_the_block_node():
    p = project([conv_block(extra_nodes=[{"id": "drop", "type": "Dropout", "params": {"p": 2}}],
                            extra_edges=[{"from": "bn", "to": "drop"}])],
                *chain({"id": "layer1_0", "type": "ConvBlock"}))
    a = analyse(p.graph)
    assert [str(d) for d in a.errors] == [("layer1_0.drop: 'p' is 2; expected a number from 0 to 1 "
                                          "(fix or remove this parameter)")]
    assert [d.node for d in a.nodes["layer1_0"].inside] == ["layer1_0.drop"]  # the canvas marks the node
    assert a.nodes["layer1_0"].outputs is None
    assert analysis_at(a, ["layer1_0"]).problems_for("drop")  # entering it shows the culprit


def test_blocks_use_blocks_and_problems_name_the_whole_path():
    outer = {"name": "Outer", "params": [{"name": "width", "kind": "int", "default": 4},
                                         {"name": "k", "kind": "int", "default": 3}],
             "graph": {"nodes": [{"id": "x", "type": "Input"},
                                 {"id": "inner", "type": "ConvBlock", "params": {"channels": "$width", "k": "$k"}},
                                 {"id": "y", "type": "Output"}],
                       "edges": [{"from": "x", "to": "inner"}, {"from": "inner", "to": "y"}]}}
    p = project([conv_block(), outer], *chain({"id": "stage", "type": "Outer", "params": {"k": 99}}))
    (problem,) = analyse(p.graph).errors
    assert problem.node == "stage.inner.conv" and "kernel" in problem.message
    good = project([conv_block(), outer], *chain({"id": "stage", "type": "Outer", "params": {"width": 6}}))
    a = analyse(good.graph)
    assert a.valid and a.nodes["stage"].outputs == ((6, 16, 16),)
    assert set(instance_infos(a)) >= {"stage", "stage.inner", "stage.inner.conv", "stage.inner.bn"}


def test_recursion_is_a_design_problem_naming_the_cycle():
    a_block = {"name": "A", "graph": {"nodes": [{"id": "x", "type": "Input"}, {"id": "b", "type": "B"},
                                                {"id": "y", "type": "Output"}],
                                      "edges": [{"from": "x", "to": "b"}, {"from": "b", "to": "y"}]}}
    b_block = copy.deepcopy(a_block)
    b_block["name"], b_block["graph"]["nodes"][1] = "B", {"id": "a", "type": "A"}
    p = project([a_block, b_block], *chain({"id": "top", "type": "A"}))  # loads: not an unreadable file
    assert errors(p) == [("A: block A uses itself: A -> B -> A (a block cannot contain itself; remove one of "
                         "these block nodes)"),
                         ("B: block B uses itself: A -> B -> A (a block cannot contain itself; remove one of "
                         "these block nodes)")]
    assert analyse(p.graph).nodes["top"].inside  # the use is marked, and not inferred


def test_a_bad_dollar_name_and_a_non_class_name_are_design_problems():
    p = project([conv_block(name="conv_block", out="$chanels")], *chain({"id": "b", "type": "conv_block"}))
    assert errors(p) == [
        ("conv_block: block name 'conv_block' is not a class name: start with a capital letter, then letters, "
        "digits and '_' (e.g. 'BasicBlock') (rename the block)"),
        ("conv_block.conv: 'out_channels' is \"$chanels\", but block conv_block has no parameter 'chanels' "
        "(its parameters: channels, k) (use one of the block's parameters or add this one)")]


def test_a_block_named_like_a_layer_or_defined_twice_is_reported():
    p = project([conv_block(name="Linear"), conv_block(name="Twice"), conv_block(name="Twice")], *chain())
    assert errors(p) == ["Linear: block name 'Linear' is a layer type's name; choose another (rename the block)",
                         "Twice: block Twice is defined twice (rename or delete one of the definitions)"]


def test_a_token_block_takes_int64_ids():
    embed = {"name": "Embed", "params": [],
             "graph": {"nodes": [{"id": "ids", "type": "Input", "params": {"dtype": "int64"}},
                                 {"id": "emb", "type": "Embedding", "params": {"num_embeddings": 10,
                                                                               "embedding_dim": 4}},
                                 {"id": "y", "type": "Output"}],
                       "edges": [{"from": "ids", "to": "emb"}, {"from": "emb", "to": "y"}]}}
    good = project([embed], [{"id": "t", "type": "Input", "params": {"shape": [5], "dtype": "int64"}},
                             {"id": "e", "type": "Embed"}, {"id": "out", "type": "Output"}],
                   [{"from": "t", "to": "e"}, {"from": "e", "to": "out"}])
    a = analyse(good.graph)
    assert a.valid and a.nodes["e"].outputs == ((5, 4),) and a.nodes["e"].dtypes == ("float32",)
    bad = project([embed], *chain({"id": "e", "type": "Embed"}))
    assert errors(bad) == [("e: input 'ids' of block Embed takes int64 values, but img gives float32 (wire a "
                           "matching value in, or change the block's Input dtype)")]


def test_nesting_beyond_the_limit_is_refused_without_a_traceback():
    blocks = []
    for level in range(40):
        inner = "ConvBlock" if level == 0 else f"L{level - 1}"
        blocks.append({"name": f"L{level}", "graph": {
            "nodes": [{"id": "x", "type": "Input"}, {"id": "i", "type": inner}, {"id": "y", "type": "Output"}],
            "edges": [{"from": "x", "to": "i"}, {"from": "i", "to": "y"}]}})
    p = project([conv_block(), *blocks], *chain({"id": "deep", "type": "L39"}))
    (problem,) = analyse(p.graph).errors
    assert "nested more than 32 deep" in problem.message and problem.node.startswith("deep.i.i.")


def test_graph_edits_know_block_types_and_their_ports():
    p = project([conv_block()], *chain())
    g = p.graph
    g.remove_edge(g.edges_into("out")[0])
    g.add_node("ConvBlock", "b", {"channels": 3})
    g.connect("img", "b")
    g.connect("b", "out")
    with pytest.raises(EditError):
        g.connect("img", "b")  # the block's one input is taken
    g.set_repeat("b", 2)
    assert g["b"].extra == {"repeat": 2} and analyse(g).valid
    g.set_repeat("b", 1)
    assert g["b"].extra == {}


def test_editing_a_definition_re_infers_every_use():
    p = project([conv_block()], *chain({"id": "b1", "type": "ConvBlock", "params": {"channels": 3}},
                                       {"id": "b2", "type": "ConvBlock", "params": {"channels": 3}}))
    before = analyse(p.graph).total_params
    p.blocks.get("ConvBlock").graph.set_param("conv", "bias", False)
    after = analyse(p.graph)
    assert before - after.total_params == 2 * 3 and after.valid


# -- making blocks -------------------------------------------------------------------------------
def flat_resnet() -> Project:
    """ResNet-18 as the version-1 example was before blocks: 71 nodes wired by hand."""
    return load(FLAT_RESNET)


def stage_ids(g: Graph, name: str) -> set[str]:
    return {n.id for n in g.nodes if n.id.startswith(name + "_")}


def test_making_the_residual_blocks_of_a_flat_resnet_keeps_its_parameter_count_and_undoes_exactly():
    p = flat_resnet()
    g = p.graph
    original = to_dict(p)
    assert analyse(g).total_params == RESNET18_PARAMS
    plain = make_block(g, [stage_ids(g, s) for s in ("layer1_0", "layer1_1", "layer2_1", "layer3_1", "layer4_1")],
                       "BasicBlock")
    down = make_block(g, [stage_ids(g, s) for s in ("layer2_0", "layer3_0", "layer4_0")], "DownBlock")
    a = analyse(g)
    assert a.valid and a.total_params == RESNET18_PARAMS
    assert plain.result == ("BasicBlock", ["layer1_0", "layer1_1", "layer2_1", "layer3_1", "layer4_1"])
    block = p.blocks.get("BasicBlock")
    assert [q.name for q in block.params] == ["out_channels"]  # the sizes that differ between the uses
    assert [n.id for n in block.graph.nodes] == ["x", "conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2", "y"]
    assert [g[i].params for i in plain.result[1]] == [{"out_channels": c} for c in (64, 64, 128, 256, 512)]
    assert loads(dumps(p)).graph.nodes[5].type == "BasicBlock"
    down.undo()
    plain.undo()
    assert to_dict(p) == original
    plain.redo()
    down.redo()
    assert analyse(g).total_params == RESNET18_PARAMS and len(p.blocks) == 2


def test_marked_values_become_parameters():
    p = flat_resnet()
    g = p.graph
    edit = make_block(g, [stage_ids(g, "layer1_0")], "Res", marked=[("layer1_0_conv1", "kernel_size")])
    assert [q.name for q in p.blocks.get("Res").params] == ["kernel_size"]
    assert p.blocks.get("Res").graph["conv1"].params["kernel_size"] == "$kernel_size"
    assert g[edit.result[1][0]].params == {"kernel_size": 3}


@pytest.mark.parametrize("selection, message", [
    ({"image", "conv1"}, "stay outside"),
    ({"conv1", "relu"}, "bn1 lies between selected layers"),
    ({"nope"}, "no node 'nope'"),
    (set(), "empty"),
])
def test_a_selection_that_cannot_be_a_block_is_refused_and_changes_nothing(selection, message):
    p = flat_resnet()
    before = to_dict(p)
    with pytest.raises(EditError, match=message):
        make_block(p.graph, [selection], "Stem")
    assert to_dict(p) == before


def test_selections_built_differently_are_refused():
    p = flat_resnet()
    g = p.graph
    with pytest.raises(EditError, match="selection 2 is not built like the first"):
        make_block(g, [stage_ids(g, "layer1_0"), stage_ids(g, "layer2_0")], "Res")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_make_then_undo_gives_the_original_graph(data):
    p = flat_resnet()
    g = p.graph
    layers = [n.id for n in g.nodes if n.type not in ("Input", "Output")]
    start = data.draw(st.integers(0, len(layers) - 1))
    length = data.draw(st.integers(1, 8))
    selection = set(layers[start:start + length])
    original = to_dict(p)
    try:
        edit = make_block(g, [selection], "Piece")
    except EditError:
        assert to_dict(p) == original
        return
    a = analyse(g)
    assert a.valid and a.total_params == RESNET18_PARAMS
    edit.undo()
    assert to_dict(p) == original
    edit.redo()
    assert analyse(g).total_params == RESNET18_PARAMS


def test_rename_remove_and_import_blocks():
    p = project([conv_block()], *chain({"id": "b", "type": "ConvBlock"}))
    rename = rename_block(p.graph, "ConvBlock", "Stem")
    assert p.graph["b"].type == "Stem" and p.blocks.names() == ["Stem"] and analyse(p.graph).valid
    with pytest.raises(EditError, match="used by b"):
        remove_block(p.graph, "Stem")
    rename.undo()
    assert p.graph["b"].type == "ConvBlock" and p.blocks.names() == ["ConvBlock"]
    library = project([conv_block(), conv_block(name="Other")], *chain()).blocks
    fresh = Project()
    edit = import_blocks(fresh.graph, library, ["Other", "ConvBlock"])
    assert fresh.blocks.names() == ["Other", "ConvBlock"] and fresh.blocks.get("Other") is not library.get("Other")
    edit.undo()
    assert not fresh.blocks
    assert isinstance(library, Blocks)


def test_a_made_block_node_stands_where_its_selection_starts():
    """At the selection's centre the block node (wider than a layer's: its band sums the MACs)
    lay over the node after it."""
    p = flat_resnet()
    g = p.graph
    ids = stage_ids(g, "layer1_0")
    xs = [g[i].pos[0] for i in ids]
    ys = [g[i].pos[1] for i in ids]
    edit = make_block(g, [ids], "Res")
    node = g[edit.result[1][0]]
    assert node.pos == (min(xs), sum(ys) / len(ys))
