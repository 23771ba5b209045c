"""A tiny helper to write designs in code: each `add` names the node and wires its inputs."""
from __future__ import annotations

from graph.model import Graph
from graph.project import Project


class Builder:
    def __init__(self, name: str) -> None:
        self.project = Project(name, Graph())

    def add(self, type_name: str, node_id: str, *sources: str | tuple[str, int], **params) -> str:
        """Add a node fed by `sources` on ports 0, 1, ...; a source is an id or (id, output port)."""
        graph = self.project.graph
        graph.add_node(type_name, node_id, params)
        for port, source in enumerate(sources):
            src, src_port = source if isinstance(source, tuple) else (source, 0)
            graph.connect(src, node_id, src_port, port)
        return node_id
