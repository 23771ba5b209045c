"""Broken designs, one for every problem that validation must report (issue 3, point 4),
and files that cannot be read at all. Shared by the in-process validation tests and the
`check` command-line tests.

Each BROKEN entry is (name, document, node at fault, fragment of its message). The node is
what the `error: NODE_ID: message` line names: a node id, `nodes[i]` for a node without a
usable id, or `graph` for the design as a whole; `a|b` means either will do (a cycle may be
named by any node on it).
"""
from __future__ import annotations

import copy
import itertools
import json
from typing import Any


def node(node_id: str, type_name: str, **params: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node_id, "type": type_name}
    if params:
        out["params"] = params
    return out


def edge(src: str, dst: str, from_port: int = 0, to_port: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"from": src, "to": dst}
    if from_port:
        out["from_port"] = from_port
    if to_port:
        out["to_port"] = to_port
    return out


def document(nodes: list[dict], edges: list[dict], name: str = "broken") -> dict[str, Any]:
    return {"format": "layerloom", "version": 1, "name": name, "graph": {"nodes": nodes, "edges": edges}}


def chain(*nodes: dict) -> dict[str, Any]:
    """A straight line of nodes, each wired to the next."""
    return document(list(nodes), [edge(a["id"], b["id"]) for a, b in itertools.pairwise(nodes)])


def mlp(**fc1: Any) -> dict[str, Any]:
    """x (2) -> fc1 -> act1 -> fc2 (3) -> y; `fc1` overrides the middle node's keys."""
    middle = {**node("fc1", "Linear", out_features=16), **fc1}
    return chain(node("x", "Input", shape=[2]), middle, node("act1", "ReLU"),
                 node("fc2", "Linear", out_features=3), node("y", "Output"))


def _edited(doc: dict, fn) -> dict:
    doc = copy.deepcopy(doc)
    fn(doc)
    return doc


def _merge(type_name: str, a: list[int], b: list[int], **params: Any) -> dict[str, Any]:
    """Two Inputs of shapes a and b merged by `type_name` into one Output."""
    return document(
        [node("a", "Input", shape=a), node("b", "Input", shape=b), node("merge", type_name, **params),
         node("y", "Output", loss="mse")],
        [edge("a", "merge"), edge("b", "merge", to_port=1), edge("merge", "y")])


def _nodes(doc: dict) -> list[dict]:
    return doc["graph"]["nodes"]


def _edges(doc: dict) -> list[dict]:
    return doc["graph"]["edges"]


BROKEN: list[tuple[str, dict, str, str]] = [
    ("unknown type", mlp(type="Lineer"), "fc1", "unknown layer type 'Lineer'"),
    ("unknown parameter", mlp(params={"out_feature": 16}), "fc1", "unknown parameter 'out_feature'"),
    ("wrong-typed parameter", mlp(params={"out_features": "sixteen"}), "fc1", "'out_features' is 'sixteen'"),
    ("out-of-range parameter", mlp(params={"out_features": 0}), "fc1", "'out_features' is 0"),
    ("bad choice", chain(node("x", "Input", shape=[2], dtype="float16"), node("y", "Output")),
     "x", "'dtype' is 'float16'"),
    ("missing id", _edited(mlp(), lambda d: _nodes(d)[1].pop("id")), "nodes[1]", "node id must be non-empty"),
    ("duplicate id", _edited(mlp(), lambda d: _nodes(d)[3].update(id="fc1")), "fc1", "used by 2 nodes"),
    ("non-identifier id", _edited(mlp(), lambda d: (_nodes(d)[1].update(id="fc-1; import os"),
                                                    _edges(d)[0].update(to="fc-1; import os"),
                                                    _edges(d)[1].update({"from": "fc-1; import os"}))),
     "fc-1; import os", "not a Python identifier"),
    ("keyword id", _edited(mlp(), lambda d: (_nodes(d)[2].update(id="lambda"), _edges(d)[1].update(to="lambda"),
                                             _edges(d)[2].update({"from": "lambda"}))),
     "lambda", "Python keyword"),
    ("wire from a missing node", _edited(mlp(), lambda d: _edges(d)[0].update({"from": "ghost"})),
     "fc1", "missing node 'ghost'"),
    ("wire to a missing node", _edited(mlp(), lambda d: _edges(d).append(edge("fc2", "ghost"))),
     "fc2", "missing node 'ghost'"),
    ("wire from a missing port", _edited(mlp(), lambda d: _edges(d)[1].update(from_port=2)),
     "fc1", "has no output port 2"),
    ("wire to a missing port", _edited(mlp(), lambda d: _edges(d)[1].update(to_port=1)),
     "act1", "has no input port 1"),
    ("two wires into one input", _edited(mlp(), lambda d: _edges(d).append(edge("x", "act1"))),
     "act1", "is already connected to fc1, so the wire from x cannot join it"),
    ("unconnected input", _edited(_merge("Add", [4], [4]), lambda d: _edges(d).pop(1)),
     "merge", "input 'in1' is not connected"),
    ("cycle", document(
        [node("x", "Input", shape=[4]), node("add", "Add"), node("fc", "Linear", out_features=4),
         node("act", "ReLU"), node("y", "Output")],
        [edge("x", "add"), edge("act", "add", to_port=1), edge("add", "fc"), edge("fc", "act"), edge("act", "y")]),
     "add|fc|act", "make a cycle"),
    ("Add shape mismatch", _merge("Add", [3], [5]), "merge", "do not match"),
    ("Multiply shape mismatch", _merge("Multiply", [2, 4], [3, 4]), "merge", "do not match"),
    ("Add rank mismatch", _merge("Add", [4], [2, 4]), "merge", "different numbers of dimensions"),
    ("Concat shape mismatch", _merge("Concat", [2, 3], [4, 5]), "merge", "cannot concatenate"),
    ("Conv2d on a vector", chain(node("x", "Input", shape=[10]), node("conv", "Conv2d"), node("y", "Output")),
     "conv", "expects feature maps (N, C, H, W), got (N, 10)"),
    ("kernel larger than its input", chain(node("x", "Input", shape=[1, 4, 4]),
                                           node("conv", "Conv2d", kernel_size=7), node("y", "Output")),
     "conv", "kernel spans 7 but the padded input is only 4 long"),
    ("Reshape to another element count", chain(node("x", "Input", shape=[12]), node("r", "Reshape", shape=[5, 5]),
                                               node("y", "Output")),
     "r", "cannot reshape (N, 12) (12 elements per sample) to (N, 5, 5) (25)"),
    ("num_heads not dividing the embedding size", document(
        [node("x", "Input", shape=[5, 6]), node("att", "MultiheadAttention", num_heads=4), node("y", "Output")],
        [edge("x", "att"), edge("x", "att", to_port=1), edge("x", "att", to_port=2), edge("att", "y")]),
     "att", "num_heads 4 does not divide the embedding size 6"),
    ("zero Input dimension", chain(node("x", "Input", shape=[0, 3]), node("y", "Output")), "x", "'shape' is [0, 3]"),
    ("negative Input dimension", chain(node("x", "Input", shape=[-4]), node("y", "Output")), "x", "'shape' is [-4]"),
    ("token ids into a float layer", chain(node("x", "Input", shape=[7], dtype="int64"),
                                           node("fc", "Linear"), node("y", "Output")),
     "fc", "needs float values"),
    ("no Input", document([node("fc", "Linear"), node("y", "Output")], [edge("fc", "y")]), "graph", "no Input"),
    ("no Output", chain(node("x", "Input", shape=[2]), node("fc", "Linear")), "graph", "no Output"),
]

# Cases where the problem is the only error: nothing downstream piles on.
ONLY_ERROR = {"unknown type", "unknown parameter", "wrong-typed parameter", "out-of-range parameter", "bad choice",
              "wire to a missing node", "two wires into one input", "unconnected input", "Add shape mismatch",
              "Multiply shape mismatch", "Concat shape mismatch", "Conv2d on a vector", "kernel larger than its input",
              "Reshape to another element count", "num_heads not dividing the embedding size",
              "zero Input dimension", "negative Input dimension", "token ids into a float layer", "no Output"}

# Files that are not LayerLoom projects at all: refused at load, `check` exits 2.
UNREADABLE: list[tuple[str, str | bytes, str]] = [
    ("empty", "", "empty"),
    ("only whitespace", "  \n\t\n", "empty"),
    ("not JSON", "{'format': 'layerloom'", "not valid JSON"),
    ("truncated JSON", json.dumps(mlp())[:-20], "not valid JSON"),
    ("a JSON list", "[1, 2, 3]", "not a LayerLoom project"),
    ("another format", json.dumps({"format": "keras", "version": 1}), "not a LayerLoom project"),
    ("no format key", json.dumps({"version": 1, "graph": {}}), "not a LayerLoom project"),
    ("version 3", json.dumps({**mlp(), "version": 3}), "version 3"),
    ("version text", json.dumps({**mlp(), "version": "1"}), '"version" must be a whole number'),
    ("nodes not a list", json.dumps(document({"x": 1}, [])), '"nodes" and "edges" must be lists'),
    ("node not an object", json.dumps(document(["x"], [])), "nodes[0] must be an object"),
    ("edge without from", json.dumps(document([node("x", "Input")], [{"to": "x"}])), 'edges[0]: "from"'),
    ("binary", b"\xff\xfe\x00garbage\x80", "cannot read"),
]
