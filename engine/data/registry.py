"""Data set types, declared once as data (like the layer registry): name, what it gives,
its options (graph.params.Param, so the GUI can build a form from them and the docs list
them), and a `load(options, context) -> Raw` function.

A loader returns NumPy arrays with the samples first; `engine.data.prepare` splits them,
fits them to the graph's Input and Output nodes and turns them into tensors.
"""
from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graph import losses
from graph.params import Param, ParamError


class DataError(ValueError):
    """The data set cannot be read or does not fit the graph; the message names what and how to fix it."""


@dataclass(frozen=True)
class InputSpec:
    node: str
    shape: tuple[int, ...]
    dtype: str  # "float32" or "int64"


@dataclass(frozen=True)
class OutputSpec:
    node: str
    shape: tuple[int, ...] | None  # what the Output node receives, without the batch
    loss: str
    source: str | None             # the node that feeds it
    source_type: str | None = None


@dataclass
class Context:
    """What a loader may know about the graph it feeds, and where relative paths start."""

    base_dir: Path
    inputs: list[InputSpec]
    outputs: list[OutputSpec]
    seed: int = 0

    def path(self, text: str, key: str = "data.path") -> Path:
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        if not path.exists():
            raise DataError(f"{key}: {path} does not exist")
        return path

    @property
    def trained_outputs(self) -> list[OutputSpec]:
        return [o for o in self.outputs if o.loss != "none"]

    def wants_classes(self) -> bool:
        """Whether the first trained Output's loss takes classes (its declaration in graph.losses says)."""
        outs = self.trained_outputs
        return bool(outs) and losses.is_classification(outs[0].loss)


@dataclass
class Raw:
    """Arrays as a loader gives them: one per model input and one per target, samples first.

    `val` is a ready validation set (e.g. MNIST's test files); otherwise one is split off.
    `classes` names the class labels 0..K-1 when the targets are classes.
    """

    inputs: list[np.ndarray]
    targets: list[np.ndarray]
    classes: list[str] | None = None
    val: tuple[list[np.ndarray], list[np.ndarray]] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    # per input: None, or the factor that turns its stored integers (uint8 pixels) into the values
    # the model takes (1/255: 0..1); empty when every input is given as the model takes it
    scales: list[float | None] = field(default_factory=list)


Loader = Callable[[dict[str, Any], Context], Raw]


@dataclass(frozen=True)
class DatasetType:
    name: str
    group: str          # "generated" or "file"
    doc: str
    gives: str          # shapes and targets, for the docs and the GUI
    load: Loader
    options: tuple[Param, ...] = ()


_DATASETS: dict[str, DatasetType] = {}


def register(dataset: DatasetType) -> DatasetType:
    if dataset.name in _DATASETS:
        raise ValueError(f"data set {dataset.name!r} is declared twice")
    _DATASETS[dataset.name] = dataset
    return dataset


def _load_catalogue() -> None:
    import engine.data.files
    import engine.data.synthetic
    import engine.data.text  # noqa: F401


def get(name: str) -> DatasetType | None:
    _load_catalogue()
    return _DATASETS.get(name)


def all_datasets() -> list[DatasetType]:
    _load_catalogue()
    return list(_DATASETS.values())


FLIPS = ("none", "horizontal", "vertical", "both")

COMMON_KEYS: tuple[Param, ...] = (
    Param("dataset", "str", None, "which data set: see docs/data.md"),
    Param("validation_split", "float", 0.2, "fraction of the samples held out for validation", minimum=0.0,
          maximum=0.9),
    Param("seed", "int", 0, "seed for generating, sub-sampling and splitting the data"),
    Param("max_samples", "int", None, "use at most this many samples (each set, for data with its own "
          "test set)", minimum=2, optional=True),
    Param("reconstruct", "bool", False, "the targets are the inputs themselves (autoencoders)"),
    Param("augment", "str", None, "image augmentation while training: an object of augment keys",
          optional=True),
)

# Keys whose values are objects or lists that the data set's own loader checks.
FREE_FORM = ("augment", "coefficients", "target", "features", "inputs", "targets", "dataset")

AUGMENT_KEYS: tuple[Param, ...] = (
    Param("flip", "choice", "none", "random flips of image inputs: none, horizontal, vertical, both",
          choices=FLIPS),
    Param("crop_padding", "int", 0, "pad images by this many pixels and crop back at a random offset",
          minimum=0),
    Param("noise", "float", 0.0, "standard deviation of Gaussian noise added to float inputs", minimum=0.0),
)


def rng(options: dict[str, Any]) -> np.random.Generator:
    return np.random.default_rng(options.get("seed", 0))


def check_options(section: Any, params: tuple[Param, ...], where: str, skip: tuple[str, ...] = (),
                  error: type[Exception] = DataError) -> dict[str, Any]:
    """Check an object against declared params: known keys only, each value valid; defaults filled.

    Keys in `skip` are copied unchecked (values that are objects or lists the caller checks).
    Messages name the key: `data.noise is -1; expected a number >= 0`.
    """
    if not isinstance(section, dict):
        raise error(f"{where}: must be an object, got {json.dumps(section)}")
    declared = {p.name: p for p in params}
    for key in section:
        if key not in declared:
            close = difflib.get_close_matches(key, list(declared), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(declared)
            raise error(f"{where}.{key}: unknown key ({hint})")
    values: dict[str, Any] = {}
    for p in params:
        if p.name not in section or p.name in skip:
            values[p.name] = section.get(p.name, p.default)
            continue
        try:
            values[p.name] = p.check(section[p.name])
        except ParamError:
            raise error(f"{where}.{p.name} is {json.dumps(section[p.name])}; expected {p.expected()}") from None
    return values


def parse_section(section: Any) -> tuple[DatasetType, dict[str, Any]]:
    """Check a project's `data` section: the data set it names and that set's options, with
    defaults filled in. Needs no torch: the training panel checks the section as it is edited."""
    if not isinstance(section, dict) or not section.get("dataset"):
        names = ", ".join(d.name for d in all_datasets())
        raise DataError(f"data.dataset: the project names no data set; set data.dataset to one of {names}")
    name = section["dataset"]
    dataset = get(name) if isinstance(name, str) else None
    if dataset is None:
        names = [d.name for d in all_datasets()]
        close = difflib.get_close_matches(str(name), names, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "one of " + ", ".join(names)
        raise DataError(f"data.dataset: unknown data set {name!r} ({hint})")
    options = check_options(section, COMMON_KEYS + dataset.options, "data", skip=FREE_FORM)
    for p in dataset.options:
        if p.name == "path" and not isinstance(options["path"], str):
            raise DataError(f"data.path: the {dataset.name} data set needs a path (relative to the .loom file)")
    augment = options["augment"]
    if augment is not None:
        options["augment"] = check_options(augment, AUGMENT_KEYS, "data.augment")
    return dataset, options
