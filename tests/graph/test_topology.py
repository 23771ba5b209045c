"""The one topological walk: order, stability, and the cycle it names."""
from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.model import Edge
from graph.topology import find_cycle, topological_order


def edges(*pairs: str) -> list[Edge]:
    return [Edge(*pair.split(">")) for pair in pairs]


def test_independent_nodes_keep_their_given_order():
    assert topological_order(["c", "a", "b"], []) == (["c", "a", "b"], [])


def test_a_node_waits_for_all_its_inputs():
    order, leftover = topological_order(["add", "x", "fc", "y"], edges("x>fc", "fc>add", "x>add", "add>y"))
    assert order == ["x", "fc", "add", "y"] and leftover == []


def test_branches_come_out_in_file_order():
    order, _ = topological_order(["x", "b", "a", "y"], edges("x>a", "x>b", "a>y", "b>y"))
    assert order == ["x", "b", "a", "y"]


def test_wires_to_unknown_nodes_are_ignored():
    assert topological_order(["a", "b"], edges("a>ghost", "ghost>b", "a>b")) == (["a", "b"], [])


def test_a_cycle_leaves_its_nodes_and_everything_behind_it():
    order, leftover = topological_order(["x", "a", "b", "c", "y"], edges("x>a", "a>b", "b>c", "c>a", "c>y"))
    assert order == ["x"] and leftover == ["a", "b", "c", "y"]
    assert find_cycle(leftover, edges("x>a", "a>b", "b>c", "c>a", "c>y")) in (["a", "b", "c"], ["b", "c", "a"],
                                                                              ["c", "a", "b"])


def test_a_self_loop_is_a_cycle_of_one():
    order, leftover = topological_order(["a", "b"], edges("a>a", "a>b"))
    assert order == []
    assert leftover == ["a", "b"] and find_cycle(leftover, edges("a>a", "a>b")) == ["a"]


def _has_cycle(ids: list[str], wires: list[Edge]) -> bool:
    """Independent check: some node reaches itself."""
    succ = {n: {e.dst for e in wires if e.src == n} for n in ids}
    for start in ids:
        seen, stack = set(), list(succ[start])
        while stack:
            node = stack.pop()
            if node == start:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(succ[node])
    return False


random_graphs = st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.permutations([f"n{i}" for i in range(n)]),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n)))


@settings(max_examples=150, deadline=None)
@given(random_graphs, st.booleans())
def test_order_respects_every_wire_and_cycles_are_found(graph, acyclic):
    ids, pairs = graph
    if acyclic:  # only wires that go forward in a hidden ranking
        pairs = [(a, b) for a, b in pairs if a < b]
    wires = [Edge(f"n{a}", f"n{b}") for a, b in pairs]
    order, leftover = topological_order(ids, wires)
    assert sorted(order + leftover) == sorted(ids)
    position = {n: i for i, n in enumerate(order)}
    for e in wires:
        if e.src in position and e.dst in position:
            assert position[e.src] < position[e.dst]
        if e.src in leftover:  # what a blocked node feeds is blocked too
            assert e.dst in leftover
    assert bool(leftover) == _has_cycle(ids, wires)
    if acyclic:
        assert leftover == []
    if leftover:
        cycle = find_cycle(leftover, wires)
        links = {(e.src, e.dst) for e in wires}
        assert len(set(cycle)) == len(cycle)
        assert all(pair in links for pair in itertools.pairwise(cycle + cycle[:1]))
