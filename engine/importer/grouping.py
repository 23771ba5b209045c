"""Blocks from repeated classes (DESIGN §3.1): every user module class used more than once becomes
one block per structure, made by graph.block_edit.make_block (the canvas's own edit), so that the
values differing between uses become block parameters; inner classes first, so blocks nest.

Each design node keeps the module path its weights come from, so that the weights can be keyed
to the generated code's state dict afterwards (`weight_keys`)."""
from __future__ import annotations

import dataclasses
from collections import defaultdict

from torch import nn

from engine.importer.build import FlatDesign
from engine.importer.source import ARGUMENTS
from graph.analysis import analyse
from graph.block_edit import make_block
from graph.blocks import BlockDef, fresh_name
from graph.model import EditError, Graph
from graph.params import ParamError
from graph.project import Project
from graph.topology import topological_order


class Grouping:
    def __init__(self, project: Project, flat: FlatDesign, module: nn.Module):
        self.project, self.graph, self.module = project, project.graph, module
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
        arguments = self._arguments(paths)
        try:
            edit = make_block(self.graph, [members[p] for p in paths], name,
                              marked=self._marked(paths, members, arguments))
        except EditError:
            return  # a class whose uses cannot be one block (a path leaves and re-enters it) stays flat
        _, made = edit.result
        block = self.project.blocks.get(name)
        self._rename(block, made, arguments)
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

    # -- block parameters named as the class's constructor arguments --------------------------------
    def _arguments(self, paths: list[str]) -> dict[str, tuple[list, object]]:
        """Constructor argument -> (its value at each use, its default), for plain values."""
        found: dict[str, tuple[list, object]] = {}
        recorded = [self.module.get_submodule(p).__dict__.get(ARGUMENTS) for p in paths]
        if any(r is None for r in recorded):
            return found
        for key, default in ((k, recorded[0][1].get(k)) for k in recorded[0][0]):
            values = [_plain(r[0].get(key)) for r in recorded]
            if all(v is not None and not isinstance(v, nn.Module) for v in values):
                found[key] = (values, _plain(default))
        return found

    def _marked(self, paths, members, arguments) -> list[tuple[str, str]]:
        """Layer parameters named as a constructor argument and equal to it at every use (a `stride`
        that is 2 in every BasicBlockDown) become block parameters even though they do not differ;
        not where they keep the layer's default, which says nothing (a BasicBlock's second conv)."""
        flows = [self._flow(members[p]) for p in paths]
        marked = []
        for position, node_id in enumerate(flows[0]):
            layer = self.graph.layer_of(self.graph[node_id])
            for param in layer.params:
                if param.name in arguments:
                    values = [_plain(self.graph[f[position]].params.get(param.name, param.default)) for f in flows]
                    if values == arguments[param.name][0] and any(v != _plain(param.default) for v in values):
                        marked.append((node_id, param.name))
        return marked

    def _rename(self, block: BlockDef, made: list[str], arguments) -> None:
        """A block parameter whose values at every use are a constructor argument's takes its name and
        default, so that `BasicBlock(64, 128, stride=2)` reads as planes=128, stride=2."""
        uses = [self.graph[node_id] for node_id in made]
        taken = {p.name for p in block.params}
        analysis = analyse(self.graph)
        widths = [[(s[0] if s else None) for s in analysis.nodes[u.id].inputs] for u in uses]
        # an argument equal to an input's size at every use (`inplanes`) is that size, which a design
        # infers: another argument of the same values names the parameter
        sizes = {k for k, (v, _) in arguments.items() if any(v == [w[i] for w in widths] for i in range(len(widths[0])))}
        for index, param in enumerate(list(block.params)):
            values = [_plain(u.params.get(param.name, param.default)) for u in uses]
            candidates = [k for k, (v, _) in arguments.items() if v == values and (k == param.name or k not in taken)]
            order = list(arguments)  # among sizes, the later argument (`planes` after `inplanes`) is the output's
            candidates.sort(key=lambda k: (k in sizes, -order.index(k) if k in sizes else order.index(k)))
            match = candidates[0] if candidates else None
            if match is None:
                continue
            default = arguments[match][1]
            try:
                default = param.check(default if default is not None else param.default)
            except ParamError:
                default = param.default
            block.params[index] = dataclasses.replace(param, name=match, default=default)
            taken = (taken - {param.name}) | {match}
            for node in block.graph.nodes:
                node.params = {k: (f"${match}" if v == f"${param.name}" else
                                   [f"${match}" if i == f"${param.name}" else i for i in v] if isinstance(v, list)
                                   else v) for k, v in node.params.items()}
            for use, value in zip(uses, values):
                use.params.pop(param.name, None)
                if value != _plain(default):
                    use.params[match] = value

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


def _plain(value: object) -> object:
    """Values compared as the file holds them: tuples as lists, a size the same everywhere as one number."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list) and value and all(v == value[0] for v in value) and isinstance(value[0], int):
        return value[0]
    return value
