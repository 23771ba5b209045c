"""Checkpoints and weights files, written atomically and read without running code.

A checkpoint is a dict of tensors and plain values saved with `torch.save` and read with
`torch.load(weights_only=True)`: the model and optimiser state, the schedule, the random
generators, the epoch and step reached, and the metrics history, so that a run can go on
where it stopped. Weights alone go to `.safetensors`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.training.events import EpochEnded, TrainingError
from graph.files import write_atomic_with

CHECKPOINT_FORMAT = "layerloom-checkpoint"
CHECKPOINT_VERSION = 1


def cpu_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **payload}
    write_atomic_with(Path(path), lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"there is no checkpoint at {path} to resume from; train without --resume first",
                            reason="settings")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is the same user problem
        raise TrainingError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc})",
                            reason="settings") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(f"{path} is not a LayerLoom checkpoint", reason="settings")
    if payload.get("version", 0) > CHECKPOINT_VERSION:
        raise TrainingError(f"{path} was written by a newer LayerLoom (checkpoint version {payload['version']})",
                            reason="settings")
    return payload


def save_weights(path: Path, state: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    from safetensors.torch import save_file

    tensors = cpu_state(state)
    write_atomic_with(Path(path), lambda tmp: save_file(tensors, tmp, metadata=metadata))


def read_weights(path: Path, key: str = "training.initial_weights") -> dict[str, torch.Tensor]:
    """A state dict from .safetensors, or from a .pt/.pth state dict or LayerLoom checkpoint (weights only)."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"{key}: {path} does not exist", reason="weights")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:  # noqa: BLE001
            raise TrainingError(f"{key}: {path} is not a readable safetensors file ({exc})", reason="weights") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise TrainingError(f"{key}: {path} is not a weights file that loads safely (a state_dict saved with "
                            f"torch.save, or .safetensors): {type(exc).__name__}: {exc}", reason="weights") from None
    if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
        state = state.get("model", {})
    elif isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise TrainingError(f"{key}: {path} does not hold a state_dict (a mapping of names to tensors)",
                            reason="weights")
    return state


def load_initial_weights(model: torch.nn.Module, path: Path, nodes: tuple[str, ...] | None,
                         node_ids: set[str]) -> list[str]:
    """Copy the tensors of `path` whose first name part is a node id into the model; returns the nodes loaded."""
    state = read_weights(path)
    own = model.state_dict()
    wanted = set(nodes) if nodes is not None else node_ids
    for node in wanted:
        if node not in node_ids:
            raise TrainingError(f"training.initial_weights.nodes: there is no node {node!r} in the graph",
                                reason="weights")
    chosen = {k: v for k, v in state.items() if k.split(".", 1)[0] in wanted}
    if not chosen:
        present = sorted({k.split(".", 1)[0] for k in state})[:8]
        raise TrainingError(f"training.initial_weights: {path} has no weights for the graph's nodes (it has "
                            f"{', '.join(present) or 'nothing'})", reason="weights")
    for k, v in chosen.items():
        if k not in own:
            raise TrainingError(f"training.initial_weights: {path} has {k!r}, which node "
                                f"{k.split('.', 1)[0]!r} of this design does not have", reason="weights")
        if tuple(v.shape) != tuple(own[k].shape):
            raise TrainingError(f"training.initial_weights: {k} has shape {tuple(v.shape)} in {path.name} but "
                                f"{tuple(own[k].shape)} in the model", reason="weights")
    model.load_state_dict(chosen, strict=False)
    return sorted({k.split(".", 1)[0] for k in chosen})


def epoch_row(e: EpochEnded) -> dict[str, Any]:
    return {"epoch": e.epoch, "epochs": e.epochs, "train_loss": e.train_loss, "val_loss": e.val_loss,
            "train_metrics": dict(e.train_metrics), "val_metrics": dict(e.val_metrics), "lr": e.lr,
            "seconds": e.seconds, "samples_per_s": e.samples_per_s, "best": e.best}
