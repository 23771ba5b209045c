"""What the Predict panel asks of the engine, done on the worker thread (Qt-free, torch).

`PredictWork(project, base_dir, run_dir)` holds one engine.inference.Predictor (a run's weights,
or the design's random ones with a note) and the design's data prepared as training prepares it,
and answers with plain NumPy dataclasses, so the GUI thread never touches torch:

    setup()                       what inputs to offer (gallery, 2-D points, sequences)
    predict(source, passes)       the prediction, its MC spread, every node's value, attention
    uncertainty(passes)           predictive entropy and the decision boundary over the plane
    activation(path)              an activation node's function and derivative (autograd)
    neuron(path, index)           one neuron of a Linear: inputs, weights, sum, bias, activation
    generate(prompt, n, ...)      a text model's next n characters, one at a time (an iterator)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.training.boundary import BACKGROUND, class_color
from engine.data.registry import DataError
from engine.inference.generate import Sampling, TextModel
from engine.inference.inputs import output_kinds, read_input, validation_sample
from engine.inference.predictor import PredictError, Predictor
from engine.inference.run import load_run
from graph.analysis import analyse
from graph.project import Project

GALLERY = 48          # validation images offered as thumbnails
POINTS = 900          # validation points drawn in the 2-D picker
GRID = 64             # points per side of the uncertainty map
MAP_MARGIN = 0.45     # of the data's span on every side: far enough out to show confident mistakes
CURVE_POINTS = 241


@dataclass
class Setup:
    """What the panel offers as input. `kind`: image, points, sequence, vector."""

    kind: str
    input_id: str
    shape: tuple[int, ...]
    dtype: str
    count: int                                  # validation samples
    classes: tuple[str, ...] | None
    thumbnails: np.ndarray | None = None        # (n, H, W) or (n, H, W, 3), 0..1
    points: np.ndarray | None = None            # (n, 2)
    labels: np.ndarray | None = None            # (n,) class of each point, or None
    extent: tuple[float, float, float, float] | None = None
    stochastic: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generates: bool = False                     # a character model of the text data set: offer Generate


@dataclass
class OutputView:
    """One Output for the sample: class probabilities (C,) or per position (L, C), or values."""

    node: str
    task: str
    classes: tuple[str, ...] | None
    probabilities: np.ndarray | None = None
    predicted: np.ndarray | None = None
    value: np.ndarray | None = None
    value_std: np.ndarray | None = None         # gaussian_nll: the predicted standard deviation of each value
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    entropy: np.ndarray | None = None
    mutual_information: np.ndarray | None = None
    passes: int = 0


@dataclass
class Prediction:
    source: str
    sample: np.ndarray                          # the input, without the batch
    target: Any
    outputs: list[OutputView]
    values: dict[str, np.ndarray]               # path -> the node's first port, without the batch
    attention: dict[str, np.ndarray]            # path -> (heads, queries, keys)
    notes: list[str]


@dataclass
class UncertaintyMap:
    extent: tuple[float, float, float, float]
    entropy: np.ndarray                         # (GRID, GRID), row i is y
    boundary: np.ndarray                        # (GRID, GRID, 4) uint8
    max_entropy: float
    passes: int
    note: str | None


@dataclass
class Curve:
    path: str
    type_name: str
    x: np.ndarray
    f: np.ndarray
    df: np.ndarray
    traced: np.ndarray | None                   # the sample's inputs to the activation
    problem: str | None = None


@dataclass
class Neuron:
    path: str
    index: int
    count: int                                  # neurons (out_features)
    inputs: np.ndarray
    weights: np.ndarray
    bias: float
    total: float                                # the weighted sum plus bias
    activation: str | None                      # the node applied next, if an activation
    activated: float | None
    position: str = ""                          # "position 0 of 8" for a Linear over a sequence


class PredictWork:
    """One design with one run's weights (None: random), for the panel's requests."""

    def __init__(self, project: Project, base_dir: Path, run_dir: Path | None):
        self.project = project
        analysis = analyse(project.graph)
        notes: list[str] = []
        weights = None
        if run_dir is not None:
            trained = load_run(run_dir, project)
            weights = trained.weights
            notes += trained.notes
        from engine.data.prepare import prepare_data

        try:
            self.prepared = prepare_data(project.data, project.graph, analysis, base_dir)
        except DataError as exc:
            self.prepared = None
            notes.append(f"the data set could not be read ({exc}): open a file as the input")
        kinds = output_kinds(self.prepared) if self.prepared is not None else None
        self.predictor = Predictor(project, weights, kinds=kinds, analysis=analysis)
        self.notes = self.predictor.notes + notes
        self.last: Prediction | None = None
        self.linear_inputs: dict[str, torch.Tensor] = {}

    # -- inputs --------------------------------------------------------------------------
    def setup(self) -> Setup:
        specs = self.predictor.input_specs()
        input_id, shape, dtype = specs[0]
        val = self.prepared.val if self.prepared is not None else None
        count = len(val) if val is not None else 0
        classes = tuple(self.prepared.classes) if self.prepared is not None and self.prepared.classes else None
        kind = input_kind(shape, dtype)
        setup = Setup(kind, input_id, shape, dtype, count, classes,
                      stochastic=[p.path for p in self.predictor.stochastic], notes=list(self.notes),
                      generates=self.text_model() is not None)
        if len(specs) > 1:
            setup.notes.append(f"the design has {len(specs)} Inputs; samples feed them all, a file only "
                               f"'{input_id}'")
        if count == 0:
            return setup
        x = val.inputs[0]
        if kind == "image":
            pixels = x[:GALLERY].float().numpy()
            low = pixels.min(axis=(1, 2, 3), keepdims=True)
            high = pixels.max(axis=(1, 2, 3), keepdims=True)
            pixels = (pixels - low) / np.maximum(high - low, 1e-8)
            setup.thumbnails = pixels[:, 0] if shape[0] == 1 else pixels.transpose(0, 2, 3, 1)
        elif kind == "points":
            points = x.float().numpy()
            order = np.random.default_rng(0).permutation(len(points))[:POINTS]
            setup.points = points[order]
            labels = self._labels(val)
            setup.labels = labels[order] if labels is not None else None
            setup.extent = plane_extent(points)
        return setup

    def _labels(self, split) -> np.ndarray | None:
        if not self.prepared.targets or not split.targets:
            return None
        spec, target = self.prepared.targets[0], split.targets[0]
        if spec.task != "classification":
            return None
        labels = target.reshape(len(target), -1)
        return labels[:, 0].round().long().numpy() if labels.shape[1] == 1 else None

    def inputs_for(self, source: tuple) -> tuple[list[torch.Tensor], str, Any]:
        """`source`: ("sample", k), ("point", (x, y)) or ("file", path)."""
        kind, what = source
        if kind == "sample":
            if self.prepared is None:
                raise PredictError("no validation samples: the data set could not be read; open a file instead")
            inputs, targets = validation_sample(self.prepared, int(what))
            target = next(iter(targets.values()), None)
            return inputs, f"validation sample {int(what)} of {len(self.prepared.val)}", _plain(target)
        if kind == "point":
            x, y = what
            return [torch.tensor([[float(x), float(y)]])], f"the point ({x:.3g}, {y:.3g})", None
        spec = self.predictor.input_specs()[0]
        tensor = read_input(what, spec, self.prepared, self.predictor.vocabulary(spec[0]))
        return [tensor], Path(what).name, None

    # -- the prediction ------------------------------------------------------------------
    def predict(self, source: tuple, passes: int) -> Prediction:
        inputs, text, target = self.inputs_for(source)
        traced = self._trace(inputs)
        mc = self.predictor.monte_carlo(inputs, passes) if passes > 0 else None
        notes = list(self.notes)
        if mc is not None and mc.note:
            notes.append(mc.note)
        outputs = []
        for node, result in traced.outputs.items():
            kind = result.kind
            view = OutputView(node, kind.task, kind.classes)
            if kind.task == "classification":
                view.probabilities = result.probabilities[0].numpy()
                view.predicted = result.predicted[0].numpy()
            else:
                view.value = result.value[0].numpy()
                if result.variance is not None:
                    view.value_std = result.variance[0].sqrt().numpy()
            if mc is not None:
                spread = mc.spreads[node]
                view.passes = passes
                view.mean, view.std = spread.mean[0].numpy(), spread.std[0].numpy()
                if spread.entropy is not None:
                    view.entropy = spread.entropy[0].numpy()
                    view.mutual_information = spread.mutual_information[0].numpy()
            outputs.append(view)
        values = {path: ports[min(ports)][0].float().numpy() for path, ports in traced.values.items() if ports}
        attention = {path: w[0].float().numpy() for path, w in traced.attention.items()}
        sample = inputs[0][0].numpy()
        self.last = Prediction(text, sample, target, outputs, values, attention, notes)
        return self.last

    def _trace(self, inputs: list[torch.Tensor]):
        """The predictor's trace, keeping each Linear layer's input for the neuron view."""
        self.linear_inputs = {}
        handles = []
        for placed in self.predictor.placed:
            if isinstance(placed.module, torch.nn.Linear):
                def keep(module, args, path=placed.path):
                    self.linear_inputs[path] = args[0].detach().cpu()
                handles.append(placed.module.register_forward_pre_hook(keep))
        try:
            return self.predictor.trace(inputs)
        finally:
            for handle in handles:
                handle.remove()

    # -- text ----------------------------------------------------------------------------
    def text_model(self) -> TextModel | None:
        """The design as a character model of the `text` data set, or None when it is not one."""
        if self.prepared is None or self.project.data.get("dataset") != "text":
            return None
        try:
            return TextModel(self.predictor, self.prepared.classes)
        except PredictError:
            return None

    def generate(self, prompt: str, steps: int, temperature: float = 1.0, top_k: int | None = None, seed: int = 0):
        """The next `steps` characters after `prompt`, drawn one at a time as the iterator is read."""
        model = self.text_model()
        if model is None:
            raise PredictError("Generate needs a token model trained on the text data set, like tiny_gpt")
        return model.generate(prompt, steps, Sampling(temperature, top_k, seed))

    # -- the plane -----------------------------------------------------------------------
    def uncertainty(self, passes: int, extent: tuple[float, float, float, float]) -> UncertaintyMap:
        x0, x1, y0, y1 = extent
        gy, gx = torch.meshgrid(torch.linspace(y0, y1, GRID), torch.linspace(x0, x1, GRID), indexing="ij")
        grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
        node = self.predictor.output_ids[0]
        mc = self.predictor.monte_carlo([grid], max(passes, 1))
        spread = mc.spreads[node]
        if spread.entropy is None:
            raise PredictError("the uncertainty map is drawn for classifiers (an Output with cross_entropy, nll "
                               "or bce_with_logits)")
        mean = spread.mean.reshape(GRID * GRID, -1)
        count = mean.shape[1]
        conf, cls = mean.max(1)
        chance = 1.0 / count
        sure = ((conf - chance) / (1.0 - chance)).clamp(0, 1).numpy()
        colors = np.array([class_color(i) for i in range(count)], dtype=np.float32)
        background = np.array(BACKGROUND, dtype=np.float32)
        rgb = background + (colors[cls.numpy()] - background) * (0.22 + 0.6 * sure)[:, None]
        image = np.concatenate([rgb, np.full((len(rgb), 1), 255.0)], 1).round().clip(0, 255).astype(np.uint8)
        return UncertaintyMap(extent, spread.entropy.reshape(GRID, GRID).numpy(), image.reshape(GRID, GRID, 4),
                              math.log(count), passes, mc.note)

    # -- inside the network --------------------------------------------------------------
    def activation(self, path: str) -> Curve:
        placed = next((p for p in self.predictor.placed if p.path == path), None)
        if placed is None or placed.module is None:
            raise PredictError(f"'{path}' has no module to plot")
        module = placed.module
        traced = self._input_values(path)
        span = 6.0
        if traced is not None and traced.size:
            span = float(min(max(6.0, np.abs(traced).max() * 1.1), 1e4))
        x = torch.linspace(-span, span, CURVE_POINTS, requires_grad=True)
        try:
            f = module(x.reshape(-1, 1)).reshape(-1)
            across = module(x.detach().reshape(1, -1)).reshape(-1)
        except (RuntimeError, ValueError) as exc:
            return _no_curve(path, placed.layer.name, f"it cannot be drawn as a curve ({str(exc).splitlines()[0]})")
        if not torch.allclose(f.detach(), across, atol=1e-6):
            return _no_curve(path, placed.layer.name, "it is not element-wise (each output depends on several "
                                                      "inputs), so it has no curve of one variable")
        (df,) = torch.autograd.grad(f.sum(), x)
        return Curve(path, placed.layer.name, x.detach().numpy(), f.detach().numpy(), df.numpy(), traced)

    def inside(self, path: str, index: int = 0) -> tuple[Neuron | None, Curve | None]:
        """What the views of the inside show for the selected node: a Linear's neuron (once a
        sample is traced), an activation's curve; None for what does not apply."""
        placed = next((p for p in self.predictor.placed if p.path == path), None)
        if placed is None:
            return None, None
        neuron = self.neuron(path, index) if isinstance(placed.module, torch.nn.Linear) and path in self.linear_inputs \
            else None
        curve = self.activation(path) if placed.layer.category == "Activation" and placed.module is not None else None
        return neuron, curve

    def _input_values(self, path: str) -> np.ndarray | None:
        """The traced sample's values entering node `path` (the output of what feeds it)."""
        if self.last is None:
            return None
        graph, prefix = self.project.graph, ""
        if "." in path:   # a node inside a block: its input lies in the block's own graph
            return None
        edge = next(iter(graph.edges_into(path)), None)
        if edge is None:
            return None
        value = self.last.values.get(prefix + edge.src)
        return None if value is None else value.reshape(-1)

    def neuron(self, path: str, index: int) -> Neuron:
        placed = next((p for p in self.predictor.placed if p.path == path), None)
        if placed is None or not isinstance(placed.module, torch.nn.Linear):
            raise PredictError(f"'{path}' is not a Linear layer")
        x = self.linear_inputs.get(path)
        if x is None:
            raise PredictError("trace a sample first")
        module = placed.module
        index = max(0, min(index, module.out_features - 1))
        x = x[0]
        position = ""
        if x.dim() > 1:
            position = f"position 0 of {x.shape[0]}"
            x = x.reshape(-1, x.shape[-1])[0]
        w = module.weight[index].detach().float()
        b = float(module.bias[index].detach()) if module.bias is not None else 0.0
        total = float((w * x.float()).sum()) + b
        activation, activated = self._next_activation(placed.path, total)
        return Neuron(path, index, module.out_features, x.float().numpy(), w.numpy(), b, total, activation,
                      activated, position)

    def _next_activation(self, path: str, total: float) -> tuple[str | None, float | None]:
        if "." in path:
            return None, None
        graph = self.project.graph
        edge = next(iter(graph.edges_from(path)), None)
        nxt = next((p for p in self.predictor.placed if edge is not None and p.path == edge.dst), None)
        if nxt is None or nxt.module is None or nxt.layer.category != "Activation":
            return None, None
        with torch.no_grad():
            try:
                value = nxt.module(torch.tensor([total]))
            except (RuntimeError, ValueError):
                return None, None
        return f"{nxt.path} ({nxt.layer.name})", float(value.reshape(-1)[0])


def input_kind(shape: tuple[int, ...], dtype: str) -> str:
    """How the panel offers an Input: images as a gallery, two numbers as a plane to click,
    token ids or a (length, features) series as a sequence, anything else by sample number."""
    if len(shape) == 3 and shape[0] in (1, 3):
        return "image"
    if tuple(shape) == (2,) and dtype == "float32":
        return "points"
    if dtype == "int64" or len(shape) == 2:
        return "sequence"
    return "vector"


def plane_extent(points: np.ndarray) -> tuple[float, float, float, float]:
    low, high = points.min(0), points.max(0)
    span = np.maximum(high - low, 1e-6)
    low, high = low - span * MAP_MARGIN, high + span * MAP_MARGIN
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def _no_curve(path: str, type_name: str, problem: str) -> Curve:
    empty = np.zeros(0, dtype=np.float32)
    return Curve(path, type_name, empty, empty, empty, None, problem)


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    return value
