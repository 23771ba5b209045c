"""Blocks from repeated classes (DESIGN §3.1): every user module class used more than once becomes
one block per structure, made by graph.block_edit.make_block (the canvas's own edit), so that the
values differing between uses become block parameters; inner classes first, so blocks nest.

Each design node keeps the module path its weights come from, so that the weights can be keyed
to the generated code's state dict afterwards (`weight_keys`)."""
from __future__ import annotations

from collections import defaultdict

from torch import nn

from engine.importer.build import FlatDesign
from graph.block_edit import make_block
from graph.blocks import fresh_name
from graph.model import EditError, Graph
from graph.project import Project
from graph.topology import topological_order


class Grouping:
    def __init__(self, project: Project, flat: FlatDesign):
        self.project, self.graph = project, project.graph
        self.owners = dict(flat.owners)
        self.source = dict(flat.paths)          # top-graph node id -> module (instance) path
        self.relative: dict[tuple[str, str], str] = {}  # (block, inner id) -> path below the instance

    def run(self) -> None:
        classes: dict[type, list[str]] = defaultdict(list)
        depth: dict[str, int] = {}
        for chain in self.owners.values():
            for level, (path, cls) in enumerate(chain):
                if path not in depth and not cls.__module__.startswith("torch.nn"):
                    classes[cls].append(path)
                    depth[path] = level
        repeated = [(cls, paths) for cls, paths in classes.items() if len(paths) > 1]
        repeated.sort(key=lambda item: -max(depth[p] for p in item[1]))
        for cls, paths in repeated:
            by_structure: dict[tuple, list[str]] = {}
            members = {p: self._members(p) for p in paths}
            for path in paths:
                if members[path]:
                    by_structure.setdefault(self._signature(path, members[path]), []).append(path)
            for group in by_structure.values():
                self._make(cls, group, members)

    def _members(self, path: str) -> list[str]:
        return [n.id for n in self.graph.nodes if any(p == path for p, _ in self.owners.get(n.id, ()))]

    def _flow(self, ids: list[str]) -> list[str]:
        order, _ = topological_order([n.id for n in self.graph.nodes], self.graph.edges)
        position = {node_id: i for i, node_id in enumerate(order)}
        return sorted(ids, key=lambda i: position.get(i, 0))

    def _rel(self, path: str, node_id: str) -> str:
        source = self.source.get(node_id)
        if source is not None and source.startswith(path + "."):
            return source[len(path) + 1:]
        stem = path.replace(".", "_") + "_"
        return node_id.removeprefix(stem)

    def _signature(self, path: str, ids: list[str]) -> tuple:
        flow = self._flow(ids)
        at = {node_id: i for i, node_id in enumerate(flow)}
        nodes = tuple((self.graph[i].type, self._rel(path, i)) for i in flow)
        wires = tuple(sorted((at[e.src], e.src_port, at[e.dst], e.dst_port)
                             for i in flow for e in self.graph.edges_into(i) if e.src in at))
        return nodes, wires

    def _make(self, cls: type, paths: list[str], members: dict[str, list[str]]) -> None:
        first = set(members[paths[0]])
        file_order = [n.id for n in self.graph.nodes if n.id in first]
        name = fresh_name(cls.__name__, self.project.blocks)
        try:
            edit = make_block(self.graph, [members[p] for p in paths], name)
        except EditError:
            return  # a class whose uses cannot be one block (a path leaves and re-enters it) stays flat
        _, made = edit.result
        block = self.project.blocks.get(name)
        inner = [n.id for n in block.graph.nodes if n.type not in ("Input", "Output")]
        for inner_id, original in zip(inner, file_order):
            if original in self.source:  # layers with weights and blocks; calls have none
                self.relative[(name, inner_id)] = self._rel(paths[0], original)
        for path, node_id in zip(paths, made):
            chain = self.owners[members[path][0]]
            self.owners[node_id] = chain[:[p for p, _ in chain].index(path)]
            self.source[node_id] = path
            for gone in members[path]:
                self.owners.pop(gone, None)
                self.source.pop(gone, None)

    def weight_keys(self, module: nn.Module) -> dict[str, str]:
        """The generated model's state-dict key -> the source module's key."""
        found: dict[str, str] = {}
        self._keys(self.graph, "", {i: p for i, p in self.source.items()}, module, found)
        return found

    def _keys(self, graph: Graph, prefix: str, sources: dict[str, str], module: nn.Module,
              found: dict[str, str]) -> None:
        for node in graph.nodes:
            path = sources.get(node.id)
            if path is None:
                continue
            block = self.project.blocks.get(node.type)
            if block is None:
                for key in module.get_submodule(path).state_dict():
                    found[f"{prefix}{node.id}.{key}"] = f"{path}.{key}"
                continue
            inner = {inner_id: f"{path}.{rel}" for (name, inner_id), rel in self.relative.items() if name == block.name}
            self._keys(block.graph, f"{prefix}{node.id}.", inner, module, found)
