"""Graph order: one topological walk shared by inference, validation and codegen."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Protocol


class _EdgeLike(Protocol):
    src: str
    dst: str


def topological_order(ids: Iterable[str], edges: Iterable[_EdgeLike]) -> tuple[list[str], list[str]]:
    """Kahn's algorithm, stable in the given node order.

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
    ready = deque(n for n in ids if indegree[n] == 0)
    order: list[str] = []
    while ready:
        current = ready.popleft()
        order.append(current)
        for nxt in sorted(successors[current], key=position.__getitem__):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
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
