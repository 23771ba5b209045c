"""A design's model ready to predict: weights loaded, eval mode, every node's value within reach.

    predictor = Predictor(project, weights=state_dict)       # or weights=None: random, with a note
    outputs = predictor.predict(inputs)                       # {output id: OutputResult}, a batch
    traced = predictor.trace(inputs)                          # every node's value and attention
    spreads = predictor.monte_carlo(inputs, passes=30)        # MC dropout: {output id: Spread}

The model is built from the generated source with a tap (engine.codegen `tap`): after each
layer's line, forward() hands the node's value to `__layerloom_tap__`, so the trace sees
functional nodes (Reshape, Add, ...) as well as layers, under their node ids; the layers inside
blocks are seen through forward hooks, by path (engine.inference.walk). The tap is a no-op unless a
trace is being taken, and the state dict is the exported model's, so predictions are those of
the program that was trained.
"""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from engine.codegen import CodegenError, generate_code, load_generated
from engine.inference.attention import capture_attention
from engine.inference.stats import (
    OutputKind,
    Spread,
    guess_class_dim,
    point_values,
    probabilities,
    spread,
    still,
    variance,
)
from engine.inference.walk import Placed, placed_nodes
from graph import losses
from graph.analysis import Analysis, analyse, consumers_through_passthrough
from graph.project import Project

TAP = "__layerloom_tap__"   # ids cannot start with "__" (graph.identifiers), so no node shadows it
_RECORDER: contextvars.ContextVar[Callable[[str, int, torch.Tensor], None] | None] = \
    contextvars.ContextVar("layerloom_tap", default=None)


def _tap(node: str, port: int, value: torch.Tensor) -> None:
    record = _RECORDER.get()
    if record is not None:
        record(node, port, value)


class PredictError(ValueError):
    """A user mistake in what prediction was given (design, weights, input): the message names it."""


@dataclass
class OutputResult:
    """One Output's prediction for a batch: for classes, `probabilities` (N, ..., C) and `predicted`
    (N, ...) class indices; for values, `value` (N, *shape), and for a loss that predicts a variance
    too (gaussian_nll) its `variance`, shaped as `value`."""

    kind: OutputKind
    raw: torch.Tensor
    probabilities: torch.Tensor | None = None
    predicted: torch.Tensor | None = None
    value: torch.Tensor | None = None
    variance: torch.Tensor | None = None


@dataclass
class Trace:
    """Every node's value for a batch, in the order they were computed: `values[path][port]`, with
    Input and Output nodes at their ids; `attention[path]`: (N, heads, L, S) weights per head."""

    values: dict[str, dict[int, torch.Tensor]] = field(default_factory=dict)
    attention: dict[str, torch.Tensor] = field(default_factory=dict)
    outputs: dict[str, OutputResult] = field(default_factory=dict)


@dataclass
class MonteCarlo:
    """T passes with dropout drawing: per output its `Spread`; `stochastic` names the nodes that drew."""

    passes: int
    spreads: dict[str, Spread]
    stochastic: list[str]
    note: str | None = None


class Predictor:
    """The model of `project` with `weights` (a state dict keyed like the exported model's, or None
    for the fresh random weights). `kinds` says how to read each Output (engine.inference.data
    derives them from the data set); by default from the Output's loss and shape alone."""

    def __init__(self, project: Project, weights: dict[str, torch.Tensor] | None = None, *,
                 kinds: dict[str, OutputKind] | None = None, device: str | torch.device = "cpu",
                 analysis: Analysis | None = None):
        self.project = project
        self.analysis = analysis or analyse(project.graph)
        if not self.analysis.valid:
            first = self.analysis.errors[0]
            raise PredictError(f"the design has {len(self.analysis.errors)} problem(s), the first: {first}")
        self.device = torch.device(device)
        try:
            self.source = generate_code(project, analysis=self.analysis, tap=TAP)
        except CodegenError as exc:
            raise PredictError(f"the design cannot be compiled: {exc}") from None
        module = load_generated(self.source)
        setattr(module, TAP, _tap)
        self.model: nn.Module = module.build_model()
        self.notes: list[str] = []
        if weights is None:
            self.notes.append("random weights: the design is untrained (no run given), so predictions are chance")
        else:
            load_weights(self.model, weights)
        self.model.to(self.device).eval()
        graph = project.graph
        self.input_ids = [n.id for n in graph.inputs()]
        self.output_ids = [n.id for n in graph.outputs()]
        self.kinds = {o: (kinds or {}).get(o) or self._default_kind(o) for o in self.output_ids}
        self.placed: list[Placed] = list(placed_nodes(graph, self.analysis, self.model))
        self.stochastic = [p for p in self.placed if p.stochastic and p.module is not None]

    def _default_kind(self, output: str) -> OutputKind:
        node = self.project.graph.node(output)
        loss = node.values()["loss"]
        shape = tuple(self.analysis.nodes[output].inputs[0])
        class_dim = guess_class_dim(shape) if losses.class_scores(loss) else None
        return OutputKind(output, loss, shape, class_dim)

    def input_specs(self) -> list[tuple[str, tuple[int, ...], str]]:
        """(id, shape without the batch, dtype) of each Input, in forward()'s argument order."""
        return [(i, tuple(self.analysis.nodes[i].values["shape"]), self.analysis.nodes[i].values["dtype"])
                for i in self.input_ids]

    def vocabulary(self, input_id: str) -> int | None:
        """How many token ids an int64 Input may hold: the fewest any Embedding it feeds knows."""
        sizes = [self.analysis.nodes[n.id].values["num_embeddings"]
                 for n in consumers_through_passthrough(self.project.graph, input_id)
                 if "num_embeddings" in self.analysis.nodes[n.id].values]
        return min(sizes, default=None)

    # -- one pass --------------------------------------------------------------------------
    def _forward(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        with torch.no_grad():
            out = self.model(*(t.to(self.device) for t in inputs))
        return list(out) if isinstance(out, tuple) else [out]

    def _results(self, outputs: list[torch.Tensor]) -> dict[str, OutputResult]:
        results = {}
        for node, out in zip(self.output_ids, outputs):
            kind = self.kinds[node]
            out = out.detach().cpu()
            if kind.task == "classification":
                p = probabilities(out, kind)
                results[node] = OutputResult(kind, out, probabilities=p, predicted=p.argmax(-1))
            else:
                var = variance(out, kind.loss)
                results[node] = OutputResult(kind, out, value=point_values(out, kind.loss).float(),
                                             variance=var.float() if var is not None else None)
        return results

    def predict(self, inputs: Sequence[torch.Tensor]) -> dict[str, OutputResult]:
        """Each Output's prediction for a batch (one tensor per Input, batch first), in eval mode."""
        return self._results(self._forward(inputs))

    def trace(self, inputs: Sequence[torch.Tensor]) -> Trace:
        """The prediction with every node's value on the way and every attention's weights."""
        trace = Trace()
        for node, tensor in zip(self.input_ids, inputs):
            trace.values[node] = {0: tensor.detach().cpu()}

        def record(path: str, port: int, value: object) -> None:
            if isinstance(value, torch.Tensor):
                trace.values.setdefault(path, {})[port] = value.detach().cpu()

        token = _RECORDER.set(record)
        try:
            with capture_attention(self.placed) as attention, _inner_hooks(self.placed, record):
                outputs = self._forward(inputs)
        finally:
            _RECORDER.reset(token)
        for node, out in zip(self.output_ids, outputs):
            trace.values[node] = {0: out.detach().cpu()}
        trace.attention = {path: w.cpu() for path, w in attention.items()}
        trace.outputs = self._results(outputs)
        return trace

    # -- MC dropout --------------------------------------------------------------------------
    def monte_carlo(self, inputs: Sequence[torch.Tensor], passes: int = 30, seed: int | None = 0) -> MonteCarlo:
        """`passes` forward passes with the stochastic nodes' dropout drawing and everything else in
        eval mode (BatchNorm keeps its running statistics). A design with no dropout above 0 gives
        one pass repeated: zero spread, and a note saying why."""
        if passes < 1:
            raise PredictError(f"the number of MC samples must be 1 or more, got {passes}")
        def values(result: OutputResult) -> torch.Tensor:
            return result.probabilities if result.kind.task == "classification" else result.value

        if not self.stochastic:
            once = self.predict(inputs)
            spreads = {node: still(values(r), passes, r.kind.task == "classification") for node, r in once.items()}
            note = ("the design has no dropout (no layer with a dropout probability above 0), so every pass "
                    "gives the same prediction: the spread is zero")
            return MonteCarlo(passes, spreads, [], note)
        with torch.random.fork_rng(devices=[]), self._dropout_drawing():
            if seed is not None:
                torch.manual_seed(seed)
            runs = [self.predict(inputs) for _ in range(passes)]
        spreads = {node: spread(torch.stack([values(r[node]) for r in runs]), self.kinds[node].task == "classification")
                   for node in self.output_ids}
        return MonteCarlo(passes, spreads, [p.path for p in self.stochastic])

    @contextmanager
    def _dropout_drawing(self) -> Iterator[None]:
        try:
            for placed in self.stochastic:
                placed.module.train()
            yield
        finally:
            self.model.eval()


def load_weights(model: nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """The state dict into the model, refused with the first tensor that does not fit, by name."""
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    extra = [k for k in weights if k not in own]
    if extra:
        raise PredictError(f"the weights have {extra[0]!r}, which this design does not have "
                           f"({len(extra)} such tensor(s)): they were trained for another design")
    if missing:
        raise PredictError(f"the weights lack {missing[0]!r} ({len(missing)} tensor(s) missing): they were trained "
                           "for another design")
    for key, tensor in weights.items():
        if tuple(tensor.shape) != tuple(own[key].shape):
            raise PredictError(f"{key} is {tuple(tensor.shape)} in the weights but {tuple(own[key].shape)} in the "
                               "design: they were trained for another design")
    model.load_state_dict(weights)


@contextmanager
def _inner_hooks(placed: list[Placed], record: Callable[[str, int, object], None]) -> Iterator[None]:
    """Forward hooks on the layers inside blocks (the tap sees the design's own nodes): a module's
    tensor result is port 0, a tuple's tensors ports 0, 1, ..."""

    def hook_for(path: str):
        def hook(module, args, output):
            items = output if isinstance(output, tuple) else (output,)
            for port, item in enumerate(items):
                record(path, port, item)
        return hook

    handles = [p.module.register_forward_hook(hook_for(p.path)) for p in placed if p.depth > 0 and p.module is not None]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
