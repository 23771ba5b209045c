"""Where runs are kept, and reading them back (Qt-free).

A design saved as `folder/spiral.loom` keeps its runs in `folder/runs/spiral-YYYYmmdd-HHMMSS/`,
the same layout `python main.py train` writes (engine.training.outputs.RunWriter): metrics.csv,
steps.csv, weights.safetensors, model.py, run.json and checkpoint.pt, plus `design.loom`, the
design exactly as it was trained (so that "Export trained model" works after later edits).
An untitled design keeps its runs in a per-user folder (the window passes it in).
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.training.store import Overlay

RUNS_FOLDER = "runs"
DESIGN_NAME = "design.loom"
RUN_NAME = "run.json"          # as engine.training.outputs writes them (not imported: that pulls in torch)
WEIGHTS_NAME = "weights.safetensors"
METRICS_NAME = "metrics.csv"
STEPS_NAME = "steps.csv"
CHECKPOINT_NAME = "checkpoint.pt"


def safe_name(text: str) -> str:
    """A folder-name-safe version of a design's name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text or "").strip("-.")
    return name[:60] or "design"


def runs_root(project_path: Path | None, user_dir: Path) -> Path:
    return Path(project_path).resolve().parent / RUNS_FOLDER if project_path is not None else Path(user_dir)


def run_stem(project_path: Path | None, project_name: str) -> str:
    return safe_name(Path(project_path).stem if project_path is not None else project_name)


def new_run_dir(root: Path, stem: str, now: _dt.datetime | None = None) -> Path:
    """A fresh folder `<stem>-<stamp>` under root (never an existing one)."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    candidate = root / f"{stem}-{stamp}"
    n = 2
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            candidate = root / f"{stem}-{stamp}-{n}"
            n += 1


@dataclass
class RunInfo:
    path: Path
    status: str = "?"          # finished, failed
    reason: str = ""
    started: str = ""
    epochs_done: int = 0
    seconds: float = 0.0
    device_name: str = ""
    final: dict[str, float] = field(default_factory=dict)
    error: str = ""
    project: str = ""
    project_file: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS_NAME

    @property
    def design(self) -> Path:
        return self.path / DESIGN_NAME

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_NAME

    @property
    def epochs(self) -> int:
        """The epochs the run was to train (its settings'); 0 when run.json does not say."""
        value = self.settings.get("epochs")
        return value if isinstance(value, int) else 0

    def resume_problem(self) -> str | None:
        """Why this run cannot go on from its checkpoint (None: it can, as `train --resume` would).
        A failed run is not offered: from the same copy and checkpoint it would fail the same way."""
        if self.status == "failed":
            return "it failed; train it again instead"
        if self.status != "finished":
            return "its run.json does not say how it ended"
        if self.epochs and self.epochs_done >= self.epochs:
            return f"it completed all its {self.epochs} epochs"
        if not self.checkpoint.is_file():
            return f"it has no {CHECKPOINT_NAME} to go on from"
        return None

    def summary(self) -> str:
        """One line for the runs list: when, how it ended, the figures it ended with."""
        when = self.started.replace("T", " ")[:16] if self.started else self.name
        if self.status == "failed":
            return f"{when} · failed: {self.error}"
        parts = [when, f"{self.epochs_done} epoch{'s' if self.epochs_done != 1 else ''}"]
        if self.reason and self.reason != "completed":
            parts.append(self.reason.replace("_", " "))
        for key in ("val_accuracy", "train_accuracy", "val_mae", "val_loss", "train_loss"):
            value = self.final.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                parts.append(f"{key.replace('_', ' ')} {value * 100:.1f}%" if key.endswith("accuracy")
                             else f"{key.replace('_', ' ')} {value:.4g}")
                break
        if self.device_name:
            parts.append(self.device_name)
        return " · ".join(parts)


def read_run(path: Path) -> RunInfo | None:
    try:
        doc = json.loads((Path(path) / RUN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != "layerloom-run":
        return None
    final = doc.get("final") if isinstance(doc.get("final"), dict) else {}
    return RunInfo(Path(path), str(doc.get("status", "?")), str(doc.get("reason") or ""), str(doc.get("started") or ""),
                   int(doc.get("epochs_done") or 0), float(doc.get("seconds") or 0.0), str(doc.get("device_name") or ""),
                   {k: v for k, v in final.items() if isinstance(v, (int, float))}, str(doc.get("error") or ""),
                   str(doc.get("project") or ""), doc.get("project_file"),
                   doc.get("settings") if isinstance(doc.get("settings"), dict) else {})


def list_runs(root: Path, project_path: Path | None, project_name: str) -> list[RunInfo]:
    """The runs of one design in `root`, newest first: those trained from its file, or for an
    untitled design those of untitled designs with its name."""
    root = Path(root)
    if not root.is_dir():
        return []
    wanted = str(Path(project_path).resolve()) if project_path is not None else None
    runs = []
    for child in root.iterdir():
        if not child.is_dir():
            continue
        info = read_run(child)
        if info is None:
            continue
        if wanted is not None and info.project_file != wanted:
            continue
        if wanted is None and (info.project_file is not None or info.project != project_name):
            continue
        runs.append(info)
    runs.sort(key=lambda r: (r.started, r.name), reverse=True)
    return runs


def _floats(rows: list[dict[str, str]], key: str) -> np.ndarray:
    out = []
    for row in rows:
        try:
            out.append(float(row.get(key) or "nan"))
        except ValueError:
            out.append(math.nan)
    return np.array(out, dtype=np.float64)


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError:
        return []


def read_steps(path: Path, last_step: int) -> tuple[np.ndarray, np.ndarray]:
    """A run folder's logged steps up to `last_step` (those a resume keeps): step numbers and losses."""
    rows = _read_csv(Path(path) / STEPS_NAME)
    steps, losses = _floats(rows, "step"), _floats(rows, "loss")
    keep = np.isfinite(steps) & (steps <= last_step)
    return steps[keep], losses[keep]


def read_overlay(run: RunInfo) -> Overlay:
    """An earlier run's loss and metric curves, for drawing under the current ones."""
    steps = _read_csv(run.path / STEPS_NAME)
    epochs_rows = _read_csv(run.path / METRICS_NAME)
    step_epoch, batch = _floats(steps, "epoch"), _floats(steps, "batch")
    per_epoch = np.nanmax(batch) if len(batch) else 1.0
    steps_x = (step_epoch - 1) + batch / (per_epoch if per_epoch and math.isfinite(per_epoch) else 1.0)
    metrics = {}
    if epochs_rows:
        for key in epochs_rows[0]:
            if key.startswith(("train_", "val_")) and key not in ("train_loss", "val_loss"):
                metrics[key] = _floats(epochs_rows, key)
    return Overlay(run.name, steps_x, _floats(steps, "loss"), _floats(epochs_rows, "epoch"),
                   _floats(epochs_rows, "train_loss"), _floats(epochs_rows, "val_loss"), metrics)
