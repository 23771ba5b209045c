"""The .loom file, format version 1: round trips, small diffs, atomic saves, migrations."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import project as loom
from graph.model import Graph
from graph.project import LoomFileError, Project, dumps, from_dict, load, loads, save, to_dict
from graph.registry import all_types
from tests.conftest import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.loom"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_load_save_load_gives_the_same_document(tmp_path, path):
    first = load(path)
    save(first, tmp_path / "again.loom")
    second = load(tmp_path / "again.loom")
    assert to_dict(second) == to_dict(first) == json.loads(path.read_text())
    # the examples were written by `save`, so the text itself comes back byte for byte
    assert (tmp_path / "again.loom").read_text() == path.read_text()


def sample() -> Project:
    g = Graph()
    g.add_node("Input", "x", {"shape": [3, 8, 8]}, pos=(0, 0))
    g.add_node("Conv2d", "conv", {"out_channels": 16, "kernel_size": 5, "padding": "same"}, pos=(200.26, -40))
    g.add_node("Flatten", "flat")
    g.add_node("Linear", "fc", {"out_features": 10}, label="classifier head", trainable=False)
    g.add_node("Output", "y")
    for a, b in (("x", "conv"), ("conv", "flat"), ("flat", "fc"), ("fc", "y")):
        g.connect(a, b)
    return Project("Sample", g, data={"dataset": "cifar10"}, training={"epochs": 3}, ui={"zoom": 1.5})


def test_only_non_default_params_are_written():
    project = sample()
    project.graph["conv"].params.update(stride=1, bias=True)  # both are defaults
    project.graph["flat"].params.update(start_dim=1)
    nodes = to_dict(project)["graph"]["nodes"]
    assert nodes[1]["params"] == {"kernel_size": 5, "padding": "same"}  # out_channels 16 is the default too
    assert "params" not in nodes[2]


def test_params_are_written_in_declaration_order_with_unknown_ones_kept_last():
    project = sample()
    project.graph["conv"].params = {"zzz": 1, "padding": 1, "kernel_size": 5, "out_channels": 8}
    assert list(to_dict(project)["graph"]["nodes"][1]["params"]) == ["out_channels", "kernel_size", "padding", "zzz"]


def test_key_order_is_stable():
    doc = to_dict(sample())
    assert list(doc) == ["format", "version", "name", "graph", "data", "training", "ui"]
    fc = doc["graph"]["nodes"][3]
    assert list(fc) == ["id", "type", "label", "params", "trainable"]
    assert list(doc["graph"]["nodes"][1]) == ["id", "type", "params", "pos"]
    assert fc == {"id": "fc", "type": "Linear", "label": "classifier head", "params": {"out_features": 10},
                  "trainable": False}
    assert doc["graph"]["nodes"][1]["pos"] == [200.3, -40.0]
    assert doc["graph"]["edges"][0] == {"from": "x", "to": "conv"}


def test_one_node_and_one_edge_per_line():
    text = dumps(sample())
    lines = text.splitlines()
    node_lines = [line for line in lines if line.strip().startswith('{"id"')]
    edge_lines = [line for line in lines if line.strip().startswith('{"from"')]
    assert len(node_lines) == 5 and len(edge_lines) == 4
    for line in node_lines + edge_lines:
        json.loads(line.strip().rstrip(","))
    assert json.loads(text) == to_dict(sample())
    assert text.endswith("}\n")


def test_a_one_parameter_edit_changes_one_line(tmp_path):
    project = sample()
    before = dumps(project).splitlines()
    project.graph.set_param("fc", "out_features", 12)
    after = dumps(project).splitlines()
    assert len(before) == len(after)
    assert sum(a != b for a, b in zip(before, after)) == 1


def test_unknown_keys_are_kept(tmp_path):
    doc = to_dict(sample())
    doc["author"] = {"name": "Ada"}
    doc["graph"]["nodes"][0]["color"] = "#ff0000"
    doc["graph"]["nodes"][1]["params"]["future_option"] = [1, 2]
    doc["graph"]["groups"] = [{"name": "stem", "nodes": ["x", "conv"]}]
    doc["training"]["optimizer"] = {"name": "adam", "lr": 0.001}
    path = tmp_path / "extra.loom"
    path.write_text(json.dumps(doc))
    save(load(path), path)
    again = json.loads(path.read_text())
    assert again["author"] == {"name": "Ada"}
    assert again["graph"]["nodes"][0]["color"] == "#ff0000"
    assert again["graph"]["nodes"][1]["params"]["future_option"] == [1, 2]
    assert again["training"]["optimizer"] == {"name": "adam", "lr": 0.001}
    assert again["graph"]["groups"] == [{"name": "stem", "nodes": ["x", "conv"]}]
    assert list(again["graph"]) == ["nodes", "edges", "groups"]
    assert list(again)[-1] == "author"


def test_missing_sections_and_version_take_their_defaults():
    project = from_dict({"format": "layerloom", "graph": {"nodes": [{"id": "x", "type": "Input"}]}})
    assert project.name == "Untitled" and project.data == {} and project.graph.edges == []
    assert to_dict(project)["version"] == 1


def test_a_newer_version_is_refused_naming_both_versions():
    with pytest.raises(LoomFileError) as info:
        loads(json.dumps({"format": "layerloom", "version": 3}))
    assert "version 3" in str(info.value) and "version 2" in str(info.value)


@pytest.mark.parametrize("version", [0, -1, 1.5, "1", True, None])
def test_a_nonsense_version_is_refused(version):
    with pytest.raises(LoomFileError, match="version"):
        from_dict({"format": "layerloom", "version": version})


def test_older_versions_are_migrated_step_by_step(monkeypatch):
    # Pretend the program reads version 3 and files of versions 1 and 2 exist.
    monkeypatch.setattr(loom, "VERSION", 3)
    monkeypatch.setitem(loom.MIGRATIONS, 1, lambda doc: {**doc, "version": 2, "name": doc["title"]})
    monkeypatch.setitem(loom.MIGRATIONS, 2, lambda doc: {**doc, "version": 3, "ui": {"migrated": True}})
    project = from_dict({"format": "layerloom", "version": 1, "title": "Old"})
    assert project.name == "Old" and project.ui == {"migrated": True}
    assert to_dict(project)["version"] == 1  # saved in the oldest version that holds it: no blocks


def test_saving_is_atomic_when_the_rename_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.loom"
    save(sample(), path)
    before = path.read_text()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    changed = sample()
    changed.name = "Changed"
    with pytest.raises(OSError, match="disk full"):
        save(changed, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.loom"]  # no temporary file left behind


def test_saving_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.loom"
    save(sample(), path)
    before = path.read_text()
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("I/O error")))
    with pytest.raises(OSError):
        save(Project("Other"), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.loom"]


def test_save_creates_the_folder(tmp_path):
    path = tmp_path / "new" / "folder" / "m.loom"
    save(sample(), path)
    assert load(path).name == "Sample"


def test_loading_never_runs_code_from_the_file():
    doc = to_dict(sample())
    doc["graph"]["nodes"][3]["params"]["out_features"] = "__import__('os').system('echo pwned')"
    project = from_dict(doc)
    assert project.graph["fc"].params["out_features"] == "__import__('os').system('echo pwned')"


@pytest.mark.parametrize("entry, message", [
    ({"id": "x", "type": 3}, '"type" must be text'),
    ({"id": "x", "type": "Input", "params": [1]}, '"params" must be an object'),
    ({"id": "x", "type": "Input", "trainable": "yes"}, '"trainable" must be true or false'),
    ({"id": "x", "type": "Input", "label": 5}, '"label" must be text'),
    ({"id": "x", "type": "Input", "pos": [1]}, '"pos" must be [x, y]'),
])
def test_entries_of_the_wrong_json_type_are_refused_at_load(entry, message):
    with pytest.raises(LoomFileError) as info:
        from_dict({"format": "layerloom", "graph": {"nodes": [entry], "edges": []}})
    assert message in str(info.value) and "nodes[0]" in str(info.value)


@pytest.mark.parametrize("entry, message", [
    ({"from": "a"}, '"to" must be a node id'),
    ({"from": "a", "to": "b", "to_port": -1}, '"to_port" must be a port number'),
    ({"from": "a", "to": "b", "from_port": "0"}, '"from_port" must be a port number'),
    ({"from": "a", "to": "b", "style": "dashed"}, "unknown key(s) style"),
])
def test_bad_edges_are_refused_at_load(entry, message):
    with pytest.raises(LoomFileError) as info:
        from_dict({"format": "layerloom", "graph": {"nodes": [], "edges": [entry]}})
    assert message in str(info.value) and "edges[0]" in str(info.value)


def test_a_load_error_names_the_file(tmp_path):
    path = tmp_path / "x.loom"
    path.write_text("{")
    with pytest.raises(LoomFileError, match=str(path).replace("\\", "\\\\")):
        load(path)


# -- any design survives a round trip -----------------------------------------------------
TYPES = all_types()
ident = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
plain = st.one_of(st.integers(-5, 100), st.booleans(), st.text(max_size=5), st.none(),
                  st.lists(st.integers(-1, 9), max_size=3))


@st.composite
def projects(draw):
    g = Graph()
    for i in range(draw(st.integers(0, 8))):
        layer = draw(st.sampled_from(TYPES))
        params = {}
        for p in layer.params:
            if draw(st.integers(0, 3)) == 0:
                params[p.name] = draw(plain)
        node = g.add_node(layer.name, f"n{i}_{draw(ident)}", params,
                          pos=draw(st.none() | st.tuples(st.integers(-999, 999), st.integers(-999, 999))),
                          label=draw(st.none() | st.text(min_size=1, max_size=8)), trainable=draw(st.booleans()))
        node.extra = draw(st.dictionaries(st.sampled_from(["color", "note", "collapsed"]), plain, max_size=2))
    ids = [n.id for n in g.nodes]
    for _ in range(draw(st.integers(0, 10))):
        if ids:
            try:
                g.connect(draw(st.sampled_from(ids)), draw(st.sampled_from(ids)), draw(st.integers(0, 1)),
                          draw(st.integers(0, 2)))
            except ValueError:
                pass
    return Project(draw(st.text(max_size=10)), g,
                   data=draw(st.dictionaries(ident, plain, max_size=2)),
                   ui=draw(st.dictionaries(ident, plain, max_size=2)),
                   extra=draw(st.dictionaries(st.sampled_from(["author", "notes"]), plain, max_size=2)),
                   graph_extra=draw(st.dictionaries(st.sampled_from(["groups", "comments"]), plain, max_size=2)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects())
def test_any_project_round_trips(project):
    text = dumps(project)
    again = loads(text)
    assert to_dict(again) == to_dict(project)
    assert dumps(again) == text


def test_saved_files_get_ordinary_permissions_not_private_temp_ones(tmp_path):
    mask = os.umask(0o022)
    try:
        path = tmp_path / "design.loom"
        loom.save(loom.Project(name="perm"), path)
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)
