"""`python main.py check FILE` (DESIGN §4): the table, the totals, and exit codes 0 valid,
1 invalid (one `error: NODE_ID: message` line per problem on stderr), 2 unreadable; never a
traceback, whatever the file holds."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main
from graph.registry import all_types
from tests.conftest import EXAMPLES, ROOT
from tests.graph.broken import BROKEN, UNREADABLE, document, edge, node


def check(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "check", str(path)], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def check_in_process(path, *options: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main.main(["check", str(path), *options])
    return code, out.getvalue(), err.getvalue()


def table_rows(stdout: str) -> dict[str, list[str]]:
    """node id -> [type, shape, params, MACs] from the printed table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line.replace(" ", "")) == {"-"}) + 1
    rows = {}
    for line in lines[start:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:5]
    return rows


def memory_cells(stdout: str, node: str) -> list[str]:
    """[weights, activations per sample] of one node's row."""
    line = next(line for line in stdout.splitlines() if line.startswith(node + " "))
    return re.split(r"\s{2,}", line.strip())[5:]


# -- valid designs ------------------------------------------------------------------------
def test_lenet5_prints_each_node_and_61706_parameters():
    result = check(EXAMPLES / "lenet5.loom")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    header = result.stdout.splitlines()[1].split()
    assert header == ["node", "type", "output", "shape", "params", "MACs", "weights", "act/sample"]
    rows = table_rows(result.stdout)
    assert list(rows) == ["image", "conv1", "act1", "pool1", "conv2", "act2", "pool2", "flatten", "fc1", "act3",
                          "fc2", "act4", "fc3", "logits"]
    assert rows["conv1"] == ["Conv2d", "(N, 6, 28, 28)", "156", "122,304"]
    assert rows["fc1"] == ["Linear", "(N, 120)", "48,120", "48,120"]
    assert rows["logits"] == ["Output", "(N, 10)", "0", "0"]


def test_memory_per_node_the_totals_and_the_largest_batch():
    result = check(EXAMPLES / "lenet5.loom")
    assert memory_cells(result.stdout, "conv1") == ["624 bytes", "18.4 KiB"]  # 156 and 6*28*28 float32 values
    assert memory_cells(result.stdout, "fc1") == ["188.0 KiB", "480 bytes"]
    weights = 61_706 * 4
    assert f"Memory: {weights / 1024:.1f} KiB of weights" in result.stdout
    assert f"training (Adam): {weights * 4 / 1024:.1f} KiB (weights, gradients, 2 optimiser states)" in result.stdout
    assert re.search(r"largest batch in [\d.]+ \w+ of free RAM: training [\d,]+, inference [\d,]+", result.stdout)
    assert "Total: 61,706 parameters, 423,038 MACs per sample (14 nodes)" in result.stdout
    assert result.stdout.rstrip().endswith("valid")


def test_resnet18_prints_11689512_parameters_with_blocks_collapsed():
    result = check(EXAMPLES / "resnet18.loom")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert len(rows) == 17
    assert rows["layer2_0"] == ["BasicBlockDown", "(N, 128, 28, 28)", "230,144", "180,131,840"]
    assert rows["fc"] == ["Linear", "(N, 1000)", "513,000", "513,000"]
    assert re.search(r"Total: 11,689,512 parameters, [\d,]+ MACs per sample \(17 nodes\)", result.stdout)


def test_check_expand_lists_the_layers_inside_blocks_by_path():
    code, out, err = check_in_process(EXAMPLES / "resnet18.loom", "--expand")
    assert code == 0, err
    rows = table_rows(out)
    assert rows["layer2_0.down"] == ["Conv2d", "(N, 128, 28, 28)", "8,192", "6,422,528"]
    assert rows["layer2_0.add"][:2] == ["Add", "(N, 128, 28, 28)"]
    assert "layer2_0.x" not in rows  # a block's port nodes repeat the block node's row
    assert len(rows) == 17 + 8 * 7 + 3 * 2  # each block's layers, the three downsampling ones with two more
    assert "Total: 11,689,512 parameters" in out


def test_multi_output_nodes_show_every_port(tmp_path):
    path = tmp_path / "rnn.loom"
    path.write_text(json.dumps(document(
        [node("x", "Input", shape=[5, 3]), node("gru", "GRU", hidden_size=4), node("y", "Output"),
         node("h", "Output", loss="none")],
        [edge("x", "gru"), edge("gru", "y"), edge("gru", "h", from_port=1)])))
    code, out, err = check_in_process(path)
    assert code == 0, err
    assert table_rows(out)["gru"][1] == "(N, 5, 4) | (N, 4)"


# -- broken designs -----------------------------------------------------------------------
@pytest.mark.parametrize("name, doc, where, fragment", BROKEN, ids=[case[0] for case in BROKEN])
def test_a_broken_design_exits_1_naming_the_node(tmp_path, name, doc, where, fragment):
    path = tmp_path / "broken.loom"
    path.write_text(json.dumps(doc, indent=1))
    result = check(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert all(re.match(r"(error|warning): \S", line) for line in lines), lines
    pattern = "|".join(re.escape(w) for w in where.split("|"))
    assert any(re.match(rf"error: ({pattern}): .*{re.escape(fragment)}", line) for line in lines), lines
    assert "invalid:" in result.stdout  # the table is still printed, with ? for what is unknown
    assert "Total:" in result.stdout


@pytest.mark.parametrize("name, content, fragment", UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_an_unreadable_file_exits_2(tmp_path, name, content, fragment):
    path = tmp_path / "bad.loom"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = check(path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: ") and fragment in line
    assert result.stdout == ""


def test_a_newer_version_names_both_versions(tmp_path):
    path = tmp_path / "future.loom"
    path.write_text(json.dumps({"format": "layerloom", "version": 7, "graph": {"nodes": [], "edges": []}}))
    code, _, err = check_in_process(path)
    assert code == 2 and "version 7" in err and "version 2" in err


def test_text_from_the_file_cannot_forge_or_split_lines(tmp_path):
    doc = document([node("x", "Input", shape=[2]), node("fc\nerror: y: forged", "Linear"),
                    node("y", "Out\nput"), node("z", "ReLU")],
                   [edge("x", "fc\nerror: y: forged"), edge("ghost\nerror: x: forged", "z")])
    doc["graph"]["nodes"][3]["params"] = {"in\nplace": True}
    path = tmp_path / "forged.loom"
    path.write_text(json.dumps(doc))
    code, out, err = check_in_process(path)
    assert code == 1
    lines = err.splitlines()
    assert all(re.match(r"(error|warning): (nodes\[\d\]|graph|[A-Za-z_]\w*): ", line) for line in lines), lines
    assert not any("forged" in line.split(": ")[1] for line in lines)
    rows = table_rows(out)
    assert len(rows) == 4 and repr("Out\nput") in rows["y"]


def test_missing_file_and_folder_exit_2(tmp_path):
    assert check_in_process(tmp_path / "nope.loom")[0] == 2
    assert check_in_process(tmp_path)[0] == 2


# -- random mutations of valid files ------------------------------------------------------
SOURCES = [json.loads((EXAMPLES / name).read_text()) for name in ("lenet5.loom", "spiral_mlp.loom")] + [
    document([node("q", "Input", shape=[4, 8]), node("kv", "Input", shape=[6, 8]),
              node("att", "MultiheadAttention", num_heads=2), node("parts", "Chunk", chunks=2, dim=2),
              node("cat", "Concat", dim=-1), node("rnn", "LSTM", hidden_size=4, bidirectional=True),
              node("y", "Output"), node("w", "Output", loss="none")],
             [edge("q", "att"), edge("kv", "att", to_port=1), edge("kv", "att", to_port=2), edge("att", "parts"),
              edge("parts", "cat"), edge("parts", "cat", from_port=1, to_port=1), edge("cat", "rnn"),
              edge("rnn", "y", from_port=1), edge("att", "w", from_port=1)])]

TYPE_NAMES = [t.name for t in all_types()]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
    | st.sampled_from(["same", "valid", "relu", "float32", "int64", "x", "fc1", "Linear"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


def _paths(value, prefix=()):
    """Every (container, key) location inside a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + (key,)
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield prefix + (index,)
            yield from _paths(item, prefix + (index,))


def _parent(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    return doc


def mutate(data, doc) -> dict:
    doc = copy.deepcopy(doc)
    nodes, edges = doc["graph"]["nodes"], doc["graph"]["edges"]
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        kind = data.draw(st.sampled_from(["delete", "set", "duplicate", "retype", "drop_edge", "add_edge",
                                          "param", "rename", "swap"]), label="kind")
        paths = list(_paths(doc))
        if kind in ("delete", "set", "duplicate") and paths:
            path = data.draw(st.sampled_from(paths), label="path")
            parent, key = _parent(doc, path), path[-1]
            if kind == "delete":
                del parent[key]
            elif kind == "set":
                parent[key] = data.draw(json_values, label="value")
            elif isinstance(parent, list):
                parent.insert(key, copy.deepcopy(parent[key]))
            else:
                parent[key + "_copy" if isinstance(key, str) else key] = copy.deepcopy(parent[key])
        elif not isinstance(nodes, list) or not isinstance(edges, list):
            continue
        elif kind == "retype" and nodes and isinstance(nodes[-1], dict):
            target = data.draw(st.sampled_from(nodes), label="node")
            if isinstance(target, dict):
                target["type"] = data.draw(st.sampled_from(TYPE_NAMES), label="type")
        elif kind == "drop_edge" and edges:
            edges.pop(data.draw(st.integers(0, len(edges) - 1), label="edge"))
        elif kind == "add_edge" and nodes:
            ids = [n.get("id") for n in nodes if isinstance(n, dict)] + ["ghost"]
            edges.append({"from": data.draw(st.sampled_from(ids)), "to": data.draw(st.sampled_from(ids)),
                          "from_port": data.draw(st.integers(0, 3)), "to_port": data.draw(st.integers(0, 3))})
        elif kind == "param" and nodes:
            target = data.draw(st.sampled_from(nodes), label="node")
            if isinstance(target, dict):
                params = target.setdefault("params", {})
                if isinstance(params, dict):
                    names = [p.name for t in all_types() if t.name == target.get("type") for p in t.params]
                    key = data.draw(st.sampled_from(names + ["bogus"]), label="param")
                    params[key] = data.draw(json_values | st.integers(-3, 40), label="value")
        elif kind == "rename" and nodes:
            target = data.draw(st.sampled_from(nodes), label="node")
            if isinstance(target, dict):
                target["id"] = data.draw(st.sampled_from(["x", "fc1", "a b", "", "class", "n2"]) | json_values)
        elif kind == "swap" and len(nodes) > 1:
            i, j = data.draw(st.integers(0, len(nodes) - 1)), data.draw(st.integers(0, len(nodes) - 1))
            nodes[i], nodes[j] = nodes[j], nodes[i]
    return doc


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "mutated.loom"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_never_crash_check(fuzz_file, data):
    source = data.draw(st.sampled_from(SOURCES), label="source")
    doc = mutate(data, source)
    fuzz_file.write_text(json.dumps(doc))  # NaN and Infinity too: Python's json reads them back
    code, out, err = check_in_process(fuzz_file)
    assert code in (0, 1, 2)
    assert "Traceback" not in out + err
    lines = err.splitlines()
    if code == 0:
        assert all(line.startswith("warning: ") for line in lines)
    elif code == 1:
        assert any(line.startswith("error: ") for line in lines) and "invalid:" in out
    else:
        assert len(lines) == 1 and lines[0].startswith("error: ") and out == ""
    assert "LayerLoom bug" not in err, err
