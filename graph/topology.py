"""Graph order: one topological walk shared by inference, validation and codegen."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class _EdgeLike(Protocol):
    src: str
    dst: str


def topological_order(ids: Iterable[str], edges: Iterable[_EdgeLike]) -> tuple[list[str], list[str]]:
    """Kahn's algorithm, depth-first and stable in the given node order.

    A node that just became ready is taken next (a stack, not a queue), so a chain is
    followed to its end before a side branch starts: in a residual block the main path's
    lines come together, then the skip path's, then the Add. Among nodes ready at the same
    moment, the one earlier in the file goes first.

    Returns (order, leftover): `leftover` are the nodes on or behind a cycle.
    """
    ids = list(ids)
    position = {node_id: i for i, node_id in enumerate(ids)}
    indegree = dict.fromkeys(ids, 0)
    successors: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for e in edges:
        if e.src in indegree and e.dst in indegree:
            indegree[e.dst] += 1
            successors[e.src].append(e.dst)
    stack = [n for n in reversed(ids) if indegree[n] == 0]
    order: list[str] = []
    while stack:
        current = stack.pop()
        order.append(current)
        became_ready = []
        for nxt in successors[current]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                became_ready.append(nxt)
        stack.extend(sorted(became_ready, key=position.__getitem__, reverse=True))
    done = set(order)
    return order, [n for n in ids if n not in done]


def find_cycle(candidates: list[str], edges: Iterable[_EdgeLike]) -> list[str]:
    """One cycle among `candidates` (the nodes Kahn's algorithm could not order), in flow order.

    Each such node has a predecessor that is also a candidate, so walking backwards must
    come round to a node already seen; the walk from there is the cycle.
    """
    members = set(candidates)
    predecessor: dict[str, str] = {}
    for e in edges:
        if e.src in members and e.dst in members:
            predecessor.setdefault(e.dst, e.src)
    walk: list[str] = []
    seen: dict[str, int] = {}
    current = candidates[0]
    while current not in seen:
        seen[current] = len(walk)
        walk.append(current)
        current = predecessor[current]
    return list(reversed(walk[seen[current]:]))
