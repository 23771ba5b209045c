"""From a `.loom` file's `data` section to tensors that fit the graph.

`prepare_data(section, graph, analysis, base_dir)` reads or generates the data set, splits
off the validation set, and checks every array against the Input and Output node it feeds,
converting where nothing can go wrong (an int array to float features, (N, 1, 8, 8) images
to an Input of shape [64]) and otherwise raising `DataError` that names the node and both
shapes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.augment import Augment, build_augment
from engine.data.files import FLOAT32_MAX
from engine.data.loader import Split
from engine.data.registry import (
    Context,
    DataError,
    InputSpec,
    OutputSpec,
    Raw,
    get,
    parse_section,
)
from graph import losses, registry
from graph.analysis import Analysis, consumers_through_passthrough
from graph.model import Graph
from graph.shape_text import shape_text as fmt


@dataclass(frozen=True)
class TargetSpec:
    """How one trained Output meets its targets."""

    node: str
    loss: str
    task: str                   # "classification" or "regression"
    class_dim: str | None       # "first": scores (N, C, ...); "last": (N, ..., C); None otherwise
    num_classes: int | None
    shape: tuple[int, ...]      # the Output's shape without the batch


@dataclass
class Prepared:
    dataset: str
    train: Split
    val: Split | None
    inputs: list[InputSpec]
    targets: list[TargetSpec]
    classes: list[str] | None = None
    augment: Augment | None = None
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


def graph_specs(graph: Graph, analysis: Analysis) -> tuple[list[InputSpec], list[OutputSpec]]:
    """The graph's Input and Output nodes in file order, as the data side sees them."""
    inputs = [InputSpec(node.id, tuple(node.values()["shape"]), node.values()["dtype"]) for node in graph.inputs()]
    outputs = []
    for node in graph.outputs():
        info = analysis.nodes.get(node.id)
        edge = next(iter(graph.edges_into(node.id)), None)
        source = graph.node(edge.src) if edge else None
        shape = info.inputs[0] if info is not None and info.inputs else None
        outputs.append(OutputSpec(node.id, tuple(shape) if shape is not None else None,
                                  node.values()["loss"], source.id if source else None,
                                  source.type if source else None))
    return inputs, outputs


def _embedding_limits(graph: Graph, input_id: str) -> list[tuple[str, int]]:
    limits = []
    for node in consumers_through_passthrough(graph, input_id):
        if node.type == "Embedding":
            limits.append((node.id, node.values()["num_embeddings"]))
    return limits


def prepare_data(section: Any, graph: Graph, analysis: Analysis, base_dir: str | Path = ".",
                 real_input: str | None = None, keep_stored: bool = False) -> Prepared:
    """`real_input`: an Input node that takes the data set's (first) inputs alone, without targets: the
    real samples of a GAN's discriminator (the graph's other Inputs and its Outputs are the program's).
    `keep_stored`: uint8 inputs of float32 Inputs stay uint8 (a quarter of the memory and of the traffic
    to a GPU), with `Split.scales` saying how a batch becomes float32 on the device; else they are
    converted here."""
    dataset, options = parse_section(section)
    inputs, outputs = graph_specs(graph, analysis)
    if real_input is not None:
        inputs, outputs = [i for i in inputs if i.node == real_input], []
    ctx = Context(Path(base_dir), inputs, outputs, options["seed"])
    _refuse_unmet(ctx.trained_outputs)
    raw = dataset.load(options, ctx)
    trained = ctx.trained_outputs
    if real_input is not None:
        raw = Raw(raw.inputs[:1], [], None, ([raw.val[0][:1], []] if raw.val else None), raw.info, raw.scales[:1])
    elif options["reconstruct"]:
        first = _scaled(raw.inputs[0], raw.scales[0] if raw.scales else None)
        val_first = _scaled(raw.val[0][0], raw.scales[0] if raw.scales else None) if raw.val else None
        raw = Raw(raw.inputs, [first] * len(trained), None,
                  ([raw.val[0], [val_first] * len(trained)] if raw.val else None), raw.info, raw.scales)
    if real_input is None:
        _check_counts(dataset.name, raw, inputs, trained)
    notes: list[str] = []
    gen = np.random.default_rng(options["seed"])
    raw_inputs, raw_targets = _limit(raw.inputs, raw.targets, options["max_samples"], gen)
    if raw.val is not None:
        val_inputs, val_targets = _limit(list(raw.val[0]), list(raw.val[1]), options["max_samples"], gen)
        train_inputs, train_targets = raw_inputs, raw_targets
    else:
        train_inputs, train_targets, val_inputs, val_targets = _split(raw_inputs, raw_targets,
                                                                      options["validation_split"], gen)
    info: dict[str, Any] = {"dataset": dataset.name, **raw.info}
    if options.get("standardize"):
        stats = _standardize(train_inputs, val_inputs)
        if stats:
            info["standardize"] = stats
    scales = [raw.scales[k] if k < len(raw.scales) else None for k in range(len(inputs))]
    keep = _kept(train_inputs, inputs, keep_stored)
    train_x = [_fit_input(a, spec, dataset.name, graph, notes, scale, k)
               for a, spec, scale, k in zip(train_inputs, inputs, scales, keep)]
    val_x = [_fit_input(a, spec, dataset.name, graph, [], scale, k)
             for a, spec, scale, k in zip(val_inputs, inputs, scales, keep)] if val_inputs else []
    specs, train_y, val_y = [], [], []
    for k, out in enumerate(trained):
        spec, y = _fit_target(train_targets[k], out, dataset.name, raw.classes, notes)
        specs.append(spec)
        train_y.append(y)
        if val_inputs:
            val_y.append(_fit_target(val_targets[k], out, dataset.name, raw.classes, [])[1])
    kept = tuple((scale or 1.0) if k else None for scale, k in zip(scales, keep)) if any(keep) else ()
    train = Split(tuple(train_x), tuple(train_y), kept)
    val = Split(tuple(val_x), tuple(val_y), kept) if val_inputs and len(val_inputs[0]) else None
    if len(train) < 1:
        raise DataError("data.validation_split: no training samples are left; lower it or add samples")
    augment = build_augment(options["augment"], [i.shape for i in inputs], [i.dtype for i in inputs],
                            [s.shape for s in specs], [i.node for i in inputs])
    info.update({
        "train_samples": len(train), "val_samples": len(val) if val else 0,
        "inputs": {spec.node: list(t.shape[1:]) for spec, t in zip(inputs, train.inputs)},
        "targets": {s.node: list(t.shape[1:]) for s, t in zip(specs, train.targets)},
    })
    if raw.classes is not None and any(s.task == "classification" for s in specs):
        info["classes"] = raw.classes
    return Prepared(dataset.name, train, val, inputs, specs, raw.classes, augment, info, notes, options)


def _check_counts(name: str, raw: Raw, inputs: list[InputSpec], trained: list[OutputSpec]) -> None:
    if len(raw.inputs) != len(inputs):
        nodes = ", ".join(i.node for i in inputs)
        raise DataError(f"the data set '{name}' gives {len(raw.inputs)} input(s), but the graph has "
                        f"{len(inputs)} Input node(s) ({nodes})")
    if not trained:
        raise DataError("no Output node has a loss (every loss is 'none'); set an Output's loss to train it")
    if len(raw.targets) != len(trained):
        nodes = ", ".join(o.node for o in trained)
        raise DataError(f"the data set '{name}' gives {len(raw.targets)} target(s), but the graph has "
                        f"{len(trained)} Output node(s) with a loss ({nodes}); set the loss of the extra "
                        "Outputs to 'none'")


def _refuse_unmet(trained: list[OutputSpec]) -> None:
    """A loss whose data no data set gives (pairs, triplets) stops the run before any data is read."""
    for out in trained:
        loss = losses.get(out.loss)
        if loss is not None and loss.needs:
            raise DataError(f"Output '{out.node}' uses the {out.loss} loss, but {loss.needs}")


def _limit(xs: list[np.ndarray], ys: list[np.ndarray], limit: int | None,
           gen: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    n = len(xs[0])
    if limit is None or n <= limit:
        return list(xs), list(ys)
    keep = np.sort(gen.choice(n, limit, replace=False))
    return [a[keep] for a in xs], [a[keep] for a in ys]


def _split(xs, ys, fraction: float, gen: np.random.Generator):
    n = len(xs[0])
    n_val = round(n * fraction)
    if fraction > 0 and n_val == 0 and n > 1:
        n_val = 1
    order = gen.permutation(n)
    train, val = order[:n - n_val], order[n - n_val:]
    return ([a[train] for a in xs], [a[train] for a in ys],
            [a[val] for a in xs] if n_val else [], [a[val] for a in ys] if n_val else [])


def _standardize(train: list[np.ndarray], val: list[np.ndarray]) -> dict[str, Any]:
    stats = {}
    for i, a in enumerate(train):
        if a.dtype.kind != "f":
            continue
        wide = a.astype(np.float64)  # float32 squares of values past 1.8e19 overflow
        mean = wide.mean(axis=0)
        std = wide.std(axis=0)
        del wide
        std = np.where(std > 1e-12, std, 1.0)
        train[i] = ((a - mean) / std).astype(np.float32)
        if val:
            val[i] = ((val[i] - mean) / std).astype(np.float32)
        if mean.size <= 4096:
            stats[f"input{i}"] = {"mean": mean.ravel().tolist(), "std": std.ravel().tolist()}
    return stats


def _resize_hint(name: str, sample: tuple[int, ...], wanted: tuple[int, ...]) -> str:
    """`set data.size to 28, ` when the data set makes square images of any size (digits, shapes)
    and only the size differs from the Input's: the one-field fix for a design made for other images."""
    dataset = get(name)
    sized = dataset is not None and any(p.name == "size" and p.kind == "int" for p in dataset.options)
    square = len(wanted) == 3 and wanted[1] == wanted[2]
    if sized and square and len(sample) == 3 and sample[0] == wanted[0]:
        return f"set data.size to {wanted[1]}, "
    return ""


def _float32(array: np.ndarray, what: str, name: str) -> np.ndarray:
    """The array as float32, refusing values that float32 cannot hold instead of making them inf."""
    if array.dtype.kind == "f" and array.dtype.itemsize > 4 and array.size:
        with np.errstate(invalid="ignore"):
            top = float(np.nanmax(np.abs(array))) if not np.all(np.isnan(array)) else 0.0
        if math.isfinite(top) and top > FLOAT32_MAX:
            raise DataError(f"the data set '{name}' gives {what} up to {top:.3g}, beyond the float32 range "
                            f"(±{FLOAT32_MAX:.3g}) that training computes in; scale them down")
    return np.ascontiguousarray(array).astype(np.float32)


def _scaled(array: np.ndarray, scale: float | None) -> np.ndarray:
    """Stored integers as the values the model takes (float32 times the data set's scale)."""
    return array if scale is None else array.astype(np.float32) * np.float32(scale)


def _kept(arrays: list[np.ndarray], inputs: list[InputSpec], keep_stored: bool) -> list[bool]:
    """Per input, whether its uint8 values stay as stored, to become float32 on the device."""
    return [keep_stored and a.dtype == np.uint8 and spec.dtype == "float32" for a, spec in zip(arrays, inputs)]


def _fit_input(array: np.ndarray, spec: InputSpec, name: str, graph: Graph, notes: list[str],
               scale: float | None = None, keep: bool = False) -> torch.Tensor:
    """`scale`: the data set's factor for stored integers (applied here unless `keep`: then the uint8
    array stays as it is, and the loader scales each batch on the device)."""
    sample = tuple(array.shape[1:])
    if spec.dtype == "int64":
        if array.dtype.kind == "f" and (not np.all(np.isfinite(array)) or not np.all(array == np.round(array))):
            raise DataError(f"Input '{spec.node}' takes int64 token ids, but the data set '{name}' gives "
                            "fractional values; set its dtype to float32")
        if len(array) and array.min() < 0:
            raise DataError(f"Input '{spec.node}' takes token ids from 0, but the data set '{name}' has "
                            f"{int(array.min())}")
        for node_id, limit in _embedding_limits(graph, spec.node):
            top = int(array.max()) if len(array) else 0
            if top >= limit:
                raise DataError(f"the data set '{name}' has token ids up to {top}, but Embedding '{node_id}' "
                                f"has num_embeddings {limit}; set it to at least {top + 1}")
        tensor = torch.from_numpy(np.ascontiguousarray(array).astype(np.int64))
    else:
        if array.dtype.kind not in "biuf":
            raise DataError(f"the data set '{name}' gives {array.dtype} values for Input '{spec.node}'")
        if keep:
            tensor = torch.from_numpy(np.require(array, requirements=["C", "W"]))
        else:
            tensor = torch.from_numpy(_float32(_scaled(array, scale), f"inputs for Input '{spec.node}'", name))
    if sample != spec.shape:
        if math.prod(sample) != math.prod(spec.shape):
            raise DataError(
                f"Input '{spec.node}' takes {fmt(spec.shape)}, but the data set '{name}' gives inputs of shape "
                f"{fmt(sample)}; {_resize_hint(name, sample, spec.shape)}set {spec.node}'s shape to "
                f"{list(sample)} or choose another data set")
        notes.append(f"inputs {fmt(sample)} reshaped to {fmt(spec.shape)} for Input '{spec.node}'")
        tensor = tensor.reshape(len(tensor), *spec.shape)
    return tensor


def _size_hint(out: OutputSpec, wanted: int, what: str) -> str:
    """Which parameter to change: the one the source's type declares as setting its output size."""
    layer = registry.get(out.source_type) if out.source_type else None
    param = layer.size_param if layer is not None else None
    if param and out.source:
        return f"set {out.source}.{param} to {wanted}"
    return f"make the layer before '{out.node}' give {wanted} {what}"


def _fit_target(array: np.ndarray, out: OutputSpec, name: str, classes: list[str] | None,
                notes: list[str]) -> tuple[TargetSpec, torch.Tensor]:
    shape = out.shape
    if shape is None:
        raise DataError(f"Output '{out.node}' has no known shape; run `check` to see the graph's problems")
    sample = tuple(array.shape[1:])
    integral = array.dtype.kind in "biu" or (array.dtype.kind == "f" and len(array) > 0
                                             and bool(np.all(array == np.round(array))))
    src = f" from '{out.source}'" if out.source else ""
    loss = losses.get(out.loss)
    wants = loss.targets if loss is not None else "values"
    if wants == "distribution" and not (integral and _label_shaped(sample, shape)):
        return _fit_distribution(array, out, name)
    if wants in ("labels", "distribution"):
        if not integral:
            raise DataError(f"Output '{out.node}' uses the {out.loss} loss, which needs class labels, but the "
                            f"data set '{name}' gives real-valued targets {fmt(sample)}; use mse, l1 or huber")
        if len(shape) >= 1 and sample == shape[1:]:
            class_dim, count = "first", shape[0]
        elif len(shape) >= 2 and sample == shape[:-1]:
            class_dim, count = "last", shape[-1]
        else:
            want = fmt(shape[1:])
            raise DataError(
                f"Output '{out.node}' gets {fmt(shape)}{src} with the {out.loss} loss, which needs labels of "
                f"shape {want} (or {fmt(shape[:-1])} with the classes last), but the data set '{name}' gives "
                f"labels of shape {fmt(sample)}")
        labels = array.astype(np.int64)
        top = int(labels.max()) if len(labels) else 0
        low = int(labels.min()) if len(labels) else 0
        known = max(top + 1, len(classes) if classes else 0)
        if low < 0:
            raise DataError(f"the data set '{name}' has a negative class label ({low}) for Output '{out.node}'")
        if known > count:
            raise DataError(
                f"the data set '{name}' has {known} classes (labels 0..{known - 1}), but Output '{out.node}' "
                f"gets {count} class scores per sample{src} {fmt(shape)}; {_size_hint(out, known, 'scores')}")
        target = torch.from_numpy(np.ascontiguousarray(labels))
        if wants == "distribution":  # labels read one-hot: kl_div is then cross-entropy less a constant
            target = torch.nn.functional.one_hot(target, count).float()
            target = target if class_dim == "last" else target.movedim(-1, 1)
        return TargetSpec(out.node, out.loss, "classification", class_dim, count, shape), target
    values = _float32(array, f"targets for Output '{out.node}'", name)
    if loss is not None and loss.after and out.source_type not in loss.after:
        before = f"the output of '{out.source}' ({out.source_type})" if out.source else "no layer's output"
        raise DataError(f"Output '{out.node}' uses the {out.loss} loss, which takes probabilities from 0 to 1, "
                        f"but gets {before}; put a {' or '.join(loss.after)} just before it, or use "
                        "bce_with_logits on the scores")
    if wants == "binary":
        if len(values) and (values.min() < 0 or values.max() > 1):
            raise DataError(f"Output '{out.node}' uses {out.loss}, which needs targets from 0 to 1, but the "
                            f"data set '{name}' has values from {values.min():g} to {values.max():g}; "
                            "use cross_entropy for more than two classes")
        task = "classification"
    else:
        if wants == "counts" and len(values) and values.min() < 0:
            raise DataError(f"Output '{out.node}' uses {out.loss}, which needs counts (0 or more), but the data "
                            f"set '{name}' has values down to {values.min():g}; use mse or huber")
        shape = _predicted_shape(out, src, sample)
        if integral and classes and shape and shape[-1] == len(classes) > 1 and sample == shape[:-1]:
            raise DataError(f"Output '{out.node}' uses the {out.loss} loss, but the data set '{name}' gives class "
                            f"labels; set its loss to cross_entropy")
        task = "regression"
    if sample != shape:
        if math.prod(sample) != math.prod(shape):
            per_target = out.shape[-1] // shape[-1] if shape else 1   # gaussian_nll: a mean and a variance
            hint = _size_hint(out, math.prod(sample) * per_target, "values") if len(shape) == 1 else "make them match"
            raise DataError(f"Output '{out.node}' gets {fmt(out.shape)}{src}, but the data set '{name}' gives targets "
                            f"of shape {fmt(sample)} for its {out.loss} loss; {hint}")
        notes.append(f"targets {fmt(sample)} reshaped to {fmt(shape)} for Output '{out.node}'")
        values = values.reshape(len(values), *shape)
    return (TargetSpec(out.node, out.loss, task, None, None, out.shape),
            torch.from_numpy(np.ascontiguousarray(values)))


def _label_shaped(sample: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Labels fit class scores with the classes first or last."""
    return (len(shape) >= 1 and sample == shape[1:]) or (len(shape) >= 2 and sample == shape[:-1])


def _predicted_shape(out: OutputSpec, src: str, sample: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of what a regression Output predicts: gaussian_nll's mean is the first half of the last
    dimension (the second is the variance); cosine_embedding compares vectors in the last dimension."""
    shape = out.shape
    kind = losses.get(out.loss)
    if kind is not None and kind.output == "mean_variance":
        if not shape or shape[-1] % 2:
            raise DataError(f"Output '{out.node}' gets {fmt(shape)}{src} with the gaussian_nll loss, which needs "
                            "an even last dimension: the mean and the variance of each target, halves side by "
                            f"side; {_size_hint(out, 2 * (sample[-1] if sample else 1), 'values')}")
        return shape[:-1] + (shape[-1] // 2,)
    if kind is not None and kind.output == "direction" and not shape:
        raise DataError(f"Output '{out.node}' gets a single number{src}, but the cosine_embedding loss compares "
                        "vectors in the last dimension; give it a shape such as [2]")
    return shape


def _fit_distribution(array: np.ndarray, out: OutputSpec, name: str) -> tuple[TargetSpec, torch.Tensor]:
    """kl_div's target probabilities, of the Output's shape; the classes lie where its scores do."""
    shape, sample = out.shape, tuple(array.shape[1:])
    if sample != shape:
        raise DataError(f"Output '{out.node}' gets {fmt(shape)} with the kl_div loss, which needs target "
                        f"probabilities of that shape (or class labels), but the data set '{name}' gives "
                        f"{fmt(sample)}")
    values = _float32(array, f"targets for Output '{out.node}'", name)
    class_dim = "last" if len(shape) == 2 else "first"
    sums = values.sum(axis=-1 if class_dim == "last" else 1) if len(values) else np.ones(1)
    if len(values) and (values.min() < 0 or np.abs(sums - 1).max() > 1e-3):
        raise DataError(f"Output '{out.node}' uses kl_div, which needs target probabilities (0 or more, "
                        f"summing to 1 over the classes), but the data set '{name}' gives values from "
                        f"{values.min():g} to {values.max():g} summing to up to {sums.max():g}")
    count = shape[-1] if class_dim == "last" else shape[0]
    return (TargetSpec(out.node, out.loss, "classification", class_dim, count, shape),
            torch.from_numpy(np.ascontiguousarray(values)))
