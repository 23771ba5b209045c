"""How fast shape inference re-runs on a big design (issue 3: a 1,000-node graph in well under 100 ms).

Builds a 1,000-node graph (a stem, a long chain of residual conv blocks, an MLP head), then times
`graph.analysis.analyse` against two baselines measured side by side in the same run (DESIGN §7):

- walk:  a bare topological walk that only propagates shapes from node to node (no parameter
         checks, no rules, no diagnostics): the floor any inference over this graph pays;
- copy:  one pass that copies every node's parameter dict: the cost of merely touching each node.

It also builds the graph through the Graph's edit methods (add_node, connect: each wire checked by
the connection rule) at N and at 2N nodes: with the adjacency index the ratio stays near 2 (linear);
scanning every edge per wire made it about 4 (quadratic).

Prints medians over interleaved repeats and the ratios. Run: python bench/inference.py [--nodes N] [--repeats R]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.analysis import analyse
from graph.model import Graph
from graph.topology import topological_order


def build(target: int) -> Graph:
    """A ResNet-like chain: stem, residual conv blocks until ~target-7 nodes, then an MLP head."""
    g = Graph()
    g.add_node("Input", "image", {"shape": [3, 32, 32]})
    g.add_node("Conv2d", "stem", {"out_channels": 32, "kernel_size": 3, "padding": 1})
    g.connect("image", "stem")
    last, block = "stem", 0
    while len(g.nodes) + 6 + 7 <= target:  # a block is 6 nodes; the head is 7
        b = f"b{block}"
        g.add_node("Conv2d", f"{b}_conv1", {"out_channels": 32, "kernel_size": 3, "padding": 1, "bias": False})
        g.add_node("BatchNorm2d", f"{b}_bn1")
        g.add_node("ReLU", f"{b}_relu1")
        g.add_node("Conv2d", f"{b}_conv2", {"out_channels": 32, "kernel_size": 3, "padding": 1, "bias": False})
        g.add_node("BatchNorm2d", f"{b}_bn2")
        g.add_node("Add", f"{b}_add")
        for src, dst in ((last, "conv1"), ("conv1", "bn1"), ("bn1", "relu1"), ("relu1", "conv2"), ("conv2", "bn2"),
                         ("bn2", "add")):
            g.connect(src if src == last else f"{b}_{src}", f"{b}_{dst}")
        g.connect(last, f"{b}_add", 0, 1)
        last, block = f"{b}_add", block + 1
    head = [("AdaptiveAvgPool2d", {"output_size": 1}), ("Flatten", {}), ("Linear", {"out_features": 128}),
            ("ReLU", {}), ("Dropout", {"p": 0.2}), ("Linear", {"out_features": 10})]
    while len(g.nodes) + len(head) + 1 < target:  # pad the MLP to hit the target exactly
        head[3:3] = [("Linear", {"out_features": 128}), ("ReLU", {})][: target - len(g.nodes) - len(head) - 1]
    for i, (type_name, params) in enumerate(head):
        node_id = f"head{i}"
        g.add_node(type_name, node_id, params)
        g.connect(last, node_id)
        last = node_id
    g.add_node("Output", "logits")
    g.connect(last, "logits")
    return g


def walk(graph: Graph) -> dict[str, tuple]:
    """Baseline: order the graph and hand each node its first input's shape (no rules, no checks)."""
    order, _ = topological_order([n.id for n in graph.nodes], graph.edges)
    first_input = {e.dst: e.src for e in graph.edges if e.dst_port == 0}
    shapes: dict[str, tuple] = {}
    for node_id in order:
        src = first_input.get(node_id)
        shapes[node_id] = shapes[src] if src is not None else (3, 32, 32)
    return shapes


def copy_params(graph: Graph) -> dict[str, dict]:
    """Baseline: one pass copying each node's parameters."""
    return {n.id: dict(n.params) for n in graph.nodes}


def medians_ms(fns, graph, repeats: int) -> list[float]:
    """Median time of each function, run in turn within every round so that they share the
    machine's moods (other processes, frequency scaling) and their ratios stay meaningful."""
    for fn in fns:
        fn(graph)  # warm up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn(graph)
            bucket.append((time.perf_counter() - start) * 1000)
    return [statistics.median(bucket) for bucket in times]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=31)
    args = parser.parse_args(argv)

    graph = build(args.nodes)
    analysis = analyse(graph)
    assert analysis.valid, [str(d) for d in analysis.errors]
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "not installed"

    full, bare, copy = medians_ms([analyse, walk, copy_params], graph, args.repeats)
    small, large = medians_ms([lambda n: build(n), lambda n: build(2 * n)], args.nodes, max(3, args.repeats // 4))
    print(f"graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges, "
          f"{analysis.total_params:,} parameters, {analysis.total_macs:,} MACs per sample")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch_version} "
          f"(not used by inference)")
    print(f"median of {args.repeats} runs:")
    print(f"  analyse (inference + validation)  {full:8.2f} ms")
    print(f"  bare topological shape walk       {bare:8.2f} ms   analyse / walk = {full / bare:5.1f}x")
    print(f"  copy every node's params          {copy:8.2f} ms   analyse / copy = {full / copy:5.1f}x")
    print(f"  build by edits, {args.nodes:,} nodes       {small:8.2f} ms")
    print(f"  build by edits, {2 * args.nodes:,} nodes       {large:8.2f} ms   2N / N = {large / small:5.1f}x"
          " (2 is linear)")
    print(f"target: well under 100 ms for 1,000 nodes -> {'met' if full < 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
