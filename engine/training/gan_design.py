"""How one design holds the two networks of a GAN (DESIGN §9), without torch.

A `"gan"` design is one graph with two separate networks: the generator, `Input` (the noise) ->
... -> `Output` G, and the discriminator, `Input` (the data's shape) -> ... -> `Output` D. Each is a
connected component of the graph, so each is also a design of its own: `split_gan` cuts the
project into a generator project and a discriminator project (the component's nodes and wires,
the same blocks). Their generated modules are ordinary DESIGN §5 code whose submodules are named
by node id, exactly as in the whole design's module; the adversarial program (engine.training.
adversarial) runs them on the whole model's very submodules, so one state dict (the whole
design's) holds both and the generator's keys are a subset of it. The generator project is also
what the run folder's `generator.py` is written from.

Nothing here imports torch: `check` and the Training panel use it as the design is edited.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from graph.analysis import Analysis
from graph.model import Graph, Node
from graph.project import Project


class GanDesignError(ValueError):
    """The design is not a GAN as `training.mode: "gan"` needs one; the message names what and how."""


@dataclass(frozen=True)
class GanDesign:
    generator: Project        # the generator's component alone: noise Input -> ... -> Output G
    discriminator: Project    # the discriminator's component alone: data Input -> ... -> Output D
    noise: str                # the generator's Input node
    noise_shape: tuple[int, ...]
    data: str                 # the discriminator's Input node (the data set feeds it)
    sample_shape: tuple[int, ...]


def _component(graph: Graph, start: str) -> set[str]:
    """The ids of the nodes connected to `start` by wires in either direction."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for edge in (*graph.edges_into(node), *graph.edges_from(node)):
            for other in (edge.src, edge.dst):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
    return seen


def _sub_project(project: Project, ids: set[str], keep_output: str, suffix: str) -> Project:
    """The nodes `ids` (Outputs other than `keep_output` left out) as a design of their own."""
    graph = project.graph
    nodes = [n for n in graph.nodes if n.id in ids and (n.type != "Output" or n.id == keep_output)]
    kept = {n.id for n in nodes}
    sub = Graph()
    sub.reset([Node(n.id, n.type, dict(n.params), n.pos, n.label, n.trainable, dict(n.extra)) for n in nodes],
              [e for e in graph.edges if e.src in kept and e.dst in kept])
    return Project(name=f"{project.name} {suffix}", graph=sub, blocks=project.blocks)


def _output(project: Project, key: str, value: object) -> Node:
    outputs = [n.id for n in project.graph.outputs()]
    if not isinstance(value, str) or not value:
        raise GanDesignError(f"training.{key}: mode \"gan\" needs the id of the {key}'s Output node "
                             f"(Outputs: {', '.join(outputs) or 'none'})")
    node = project.graph.node(value)
    if node is None or node.type != "Output":
        raise GanDesignError(f"training.{key} is {value!r}, which is not an Output node of the design "
                             f"(Outputs: {', '.join(outputs) or 'none'})")
    return node


def _one_input(project: Project, ids: set[str], role: str, output: str) -> Node:
    inputs = [n for n in project.graph.inputs() if n.id in ids]
    if len(inputs) != 1:
        found = ", ".join(n.id for n in inputs) or "none"
        raise GanDesignError(f"{output}: the {role} must have exactly one Input node wired to it (found {found})")
    return inputs[0]


def split_gan(project: Project, generator: object, discriminator: object,
              analysis: Analysis | None = None) -> GanDesign:
    """The two networks of a `"gan"` design; raises GanDesignError naming the node or key at fault.
    With `analysis`, shapes are checked too: G's samples must have the shape D's Input takes, and D
    must give one logit per sample."""
    g = _output(project, "generator", generator)
    d = _output(project, "discriminator", discriminator)
    if g.id == d.id:
        raise GanDesignError(f"training.generator and training.discriminator both name '{g.id}'; the "
                             "generator and the discriminator need an Output each")
    g_ids, d_ids = _component(project.graph, g.id), _component(project.graph, d.id)
    if d.id in g_ids:
        raise GanDesignError(f"{g.id}: the generator and the discriminator are wired together; they must be two "
                             "separate networks (the trainer feeds the generator's samples to the "
                             "discriminator's own Input, which takes the data's shape)")
    noise = _one_input(project, g_ids, "generator", g.id)
    data = _one_input(project, d_ids, "discriminator", d.id)
    for node in (noise, data):
        if node.values()["dtype"] != "float32":
            raise GanDesignError(f"{node.id}: a GAN's Inputs take float32 values (noise and samples); set its "
                                 "dtype to float32")
    noise_shape = tuple(noise.values()["shape"])
    sample_shape = tuple(data.values()["shape"])
    if analysis is not None:
        g_info, d_info = analysis.nodes.get(g.id), analysis.nodes.get(d.id)
        made = tuple(g_info.inputs[0]) if g_info is not None and g_info.inputs and g_info.inputs[0] else None
        if made is not None and made != sample_shape and math.prod(made) != math.prod(sample_shape):
            raise GanDesignError(f"{g.id}: the generator makes samples of shape {list(made)}, but the "
                                 f"discriminator's Input '{data.id}' takes {list(sample_shape)}; make them match")
        logit = tuple(d_info.inputs[0]) if d_info is not None and d_info.inputs and d_info.inputs[0] else None
        if logit is not None and math.prod(logit) != 1:
            raise GanDesignError(f"{d.id}: the discriminator must give one logit per sample, but it gets "
                                 f"{list(logit)}; end it with a Linear of out_features 1")
    return GanDesign(_sub_project(project, g_ids, g.id, "generator"),
                     _sub_project(project, d_ids, d.id, "discriminator"),
                     noise.id, noise_shape, data.id, sample_shape)
