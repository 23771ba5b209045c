"""The model a run trains: built from the very source `export` writes, its starting weights loaded,
its frozen layers frozen, on the run's device in the run's memory layout."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.training.checkpoint import load_initial_weights
from engine.training.events import TrainingError
from engine.training.settings import TrainingSettings
from graph.project import Project


@dataclass
class RunModel:
    source: str                          # the generated code, saved as the run's model.py
    model: torch.nn.Module
    params: list[torch.nn.Parameter]     # the trainable ones
    notes: list[str] = field(default_factory=list)


def build_run_model(project: Project, settings: TrainingSettings, base_dir: Path, device: torch.device) -> RunModel:
    """The run's model; raises TrainingError when the design cannot be compiled or nothing trains."""
    from engine.codegen import CodegenError, build_model, generate_code

    try:
        source = generate_code(project)
        model = build_model(project)
    except CodegenError as exc:
        raise TrainingError(f"the design cannot be compiled: {exc}", "graph") from None
    notes = []
    node_ids = {n.id for n in project.graph.nodes}
    if settings.initial_weights is not None:
        path = Path(settings.initial_weights.path).expanduser()
        path = path if path.is_absolute() else base_dir / path
        loaded = load_initial_weights(model, path, settings.initial_weights.nodes, node_ids)
        notes.append(f"initial weights for {', '.join(loaded)} from {path.name}")
    children = dict(model.named_children())
    for node in project.graph.nodes:
        if not node.trainable and node.id in children:
            children[node.id].requires_grad_(False)
    model.to(device)
    if settings.channels_last:
        model.to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainingError("nothing to train: the model has no trainable parameters (every layer is frozen "
                            "or has no weights)", "settings")
    return RunModel(source, model, params, notes)
