"""The connection rule: which wires a graph allows, decided and worded in one place.

A wire needs both its nodes, an output port its source has, an input port its target has
and nobody else wires, and it must not close a cycle. `Graph.connect` raises these errors
for a wire it refuses; `graph.analysis` reports the very same errors for the wires a file
already holds, so the editor and `check` say the same thing in the same words
(docs/project-file.md, "The connection rule").
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.model import Edge


class EditError(ValueError):
    """An edit that the Graph refuses; the message says why and what to do instead."""


def shown(node_id: object) -> str:
    """An id as it appears in a message: as it is, or quoted when it could break the line."""
    return node_id if isinstance(node_id, str) and node_id.isprintable() else repr(node_id)


class WireError(EditError):
    """A wire the connection rule refuses. `node` is the node at fault (as a diagnostic names it),
    `message` says what is wrong and `hint` what fixes it; str() reads like the diagnostic."""

    def __init__(self, edge: Edge | None, node: str | None, message: str, hint: str):
        super().__init__(f"{shown(node)}: {message} ({hint})" if node is not None else f"{message} ({hint})")
        self.edge, self.node, self.message, self.hint = edge, node, message, hint


class MissingNodeError(WireError):
    """One end of the wire names no node; the node at fault is the end that exists, if any."""

    def __init__(self, edge: Edge, src_exists: bool, dst_exists: bool):
        missing = edge.dst if src_exists else edge.src
        at = edge.dst if dst_exists else (edge.src if src_exists else None)
        super().__init__(edge, at, f"wire {shown(edge.src)} -> {shown(edge.dst)} refers to a missing node {missing!r}",
                         "leave out the wire or add that node")


class BadPortError(WireError):
    """The source has no such output port, or the target no such input port."""

    def __init__(self, edge: Edge, side: str, count: int):
        if side == "output":
            node, port, way = edge.src, edge.src_port, f"to {shown(edge.dst)}"
        else:
            node, port, way = edge.dst, edge.dst_port, f"from {shown(edge.src)}"
        super().__init__(edge, node, f"has no {side} port {port} (it has {count}) for the wire {way}",
                         "leave out the wire or reconnect it to a port the node has")


class OccupiedInputError(WireError):
    """The target's input port already takes a wire: an input takes exactly one."""

    def __init__(self, edge: Edge, port: str, occupant: Edge):
        super().__init__(edge, edge.dst, f"input '{port}' is already connected to {shown(occupant.src)}, "
                                         f"so the wire from {shown(edge.src)} cannot join it",
                         "an input takes one wire: remove one of them, or combine both with Add or Concat")


class CycleError(WireError):
    """The wires close a loop; `cycle` lists its nodes in flow order, the node at fault first."""

    def __init__(self, cycle: Sequence[str], edge: Edge | None = None):
        self.cycle = list(cycle)
        chain = " -> ".join(shown(n) for n in [*self.cycle, self.cycle[0]])
        super().__init__(edge, self.cycle[0], f"the wires {chain} make a cycle",
                         "data must flow one way: leave out one of these wires")


def port_error(edge: Edge, outputs: Sequence[str], inputs: Sequence[str], occupant: Edge | None) -> WireError | None:
    """The rule for a wire whose two nodes exist: `outputs`/`inputs` are the source's and the
    target's ports, `occupant` the wire already on the target port (None when it is free)."""
    if not 0 <= edge.src_port < len(outputs):
        return BadPortError(edge, "output", len(outputs))
    if not 0 <= edge.dst_port < len(inputs):
        return BadPortError(edge, "input", len(inputs))
    if occupant is not None:
        return OccupiedInputError(edge, inputs[edge.dst_port], occupant)
    return None
