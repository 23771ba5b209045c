"""A run folder as the model to predict with: its weights, checked against the design they meet.

A run folder (engine.training.outputs; `train --out DIR`, or the window's runs/ folder) holds
weights.safetensors, model.py (the code that was trained) and run.json; the window's runs also
hold design.loom. Predicting with FILE and a run compares FILE's model with the run's: the
same program (the code generated from each, the project name aside) or a message that names the
first line that differs. Without FILE the run's design.loom is the design.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.codegen import CodegenError, generate_code
from engine.inference.predictor import PredictError
from engine.training.outputs import MODEL_NAME, RUN_NAME, WEIGHTS_NAME
from graph.project import LoomFileError, Project, load

DESIGN_NAME = "design.loom"   # written beside the run by the window (app.training.runs)


@dataclass
class RunModel:
    """What a run folder gives prediction: the design, its trained weights, the run's record."""

    path: Path
    project: Project
    weights: dict[str, torch.Tensor]
    record: dict[str, Any]
    notes: list[str]

    @property
    def data_section(self) -> Any:
        """The data section the run trained on, as run.json recorded it (None when it did not)."""
        data = self.record.get("data")
        return data.get("section") if isinstance(data, dict) else None


def load_run(folder: str | Path, project: Project | None = None) -> RunModel:
    """The run in `folder`, for `project` (checked to be the design the run trained) or, when None,
    for the run's own design.loom. Raises PredictError naming what does not fit."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PredictError(f"--run {folder}: there is no such folder" if not folder.exists()
                           else f"--run {folder}: a file, not a run folder")
    record = _record(folder)
    notes: list[str] = []
    design = folder / DESIGN_NAME
    if project is None:
        if not design.is_file():
            raise PredictError(f"{folder} has no {DESIGN_NAME}; give the design file the run was trained from")
        project = _load_design(design)
    else:
        _check_same_design(project, folder, record, notes)
    weights_path = folder / WEIGHTS_NAME
    if not weights_path.is_file():
        raise PredictError(f"{folder} holds no {WEIGHTS_NAME}: the run did not finish (train it to the end, "
                           "or resume it)")
    from safetensors.torch import load_file

    try:
        weights = load_file(str(weights_path))
    except Exception as exc:  # noqa: BLE001 -- safetensors raises its own types for damaged files
        raise PredictError(f"{weights_path}: not a readable safetensors file ({exc})") from None
    return RunModel(folder, project, weights, record, notes)


def _record(folder: Path) -> dict[str, Any]:
    try:
        record = json.loads((folder / RUN_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PredictError(f"{folder} is not a LayerLoom run: it has no {RUN_NAME} (a run folder is what "
                           "`train --out DIR` writes)") from None
    except (OSError, ValueError) as exc:
        raise PredictError(f"{folder / RUN_NAME}: not readable ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != "layerloom-run":
        raise PredictError(f"{folder / RUN_NAME} is not a LayerLoom run record")
    return record


def _load_design(path: Path) -> Project:
    try:
        return load(path)
    except LoomFileError as exc:
        raise PredictError(str(exc)) from None


def _check_same_design(project: Project, folder: Path, record: dict[str, Any], notes: list[str]) -> None:
    """Refuse a run of another design: FILE's code against the run's (design.loom's, else model.py)."""
    design = folder / DESIGN_NAME
    if design.is_file():
        theirs_project = _load_design(design)
        name = theirs_project.name
        theirs = _code(theirs_project)
    elif (folder / MODEL_NAME).is_file():
        name = record.get("project") if isinstance(record.get("project"), str) else project.name
        try:
            theirs = (folder / MODEL_NAME).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PredictError(f"{folder / MODEL_NAME}: not readable ({exc})") from None
    else:
        notes.append(f"{folder} keeps neither {DESIGN_NAME} nor {MODEL_NAME}: only the weights' names and shapes "
                     "were checked against the design")
        return
    ours = _code(dataclasses.replace(project, name=name))
    if ours == theirs:
        return
    for line_no, (a, b) in enumerate(zip(ours.splitlines(), theirs.splitlines()), start=1):
        if a != b:
            raise PredictError(f"the run {folder} was trained from another design: line {line_no} of its model is "
                               f"{b.strip()!r} where this design has {a.strip()!r}")
    raise PredictError(f"the run {folder} was trained from another design: its model has "
                       f"{len(theirs.splitlines())} lines where this design's has {len(ours.splitlines())}")


def _code(project: Project) -> str:
    try:
        return generate_code(project)
    except CodegenError as exc:
        raise PredictError(f"the design cannot be compiled: {exc}") from None
