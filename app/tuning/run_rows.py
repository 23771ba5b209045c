"""The runs of a design as table rows (Qt-free): training runs and search trials, flat settings.

Training runs lie in `runs/<design>-<stamp>/`, trials one level down in `runs/<study>/trial-NNN/`
(engine.tuning.objective); both carry run.json, and a trial's also its `search` tag. A row's
settings are `training.KEY` (the run's full settings), `data.KEY` (its data section) and, for a
trial, the searched `nodes.ID.PARAM` values, so that runs of both kinds compare column by column.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.training.runs import RUN_NAME, RunInfo, list_runs, read_run

_MISSING = object()
FIGURES = ("val_loss", "val_accuracy", "train_loss", "train_accuracy", "val_mae", "train_mae")


@dataclass
class RunRow:
    run: RunInfo
    settings: dict[str, Any] = field(default_factory=dict)
    study: str = ""
    trial: int | None = None

    @property
    def kind(self) -> str:
        return f"{self.study} #{self.trial}" if self.trial is not None else "training"


def _flat(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    settings: dict[str, Any] = {}
    for key, value in (doc.get("settings") or {}).items():
        settings[f"training.{key}"] = value
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    for key, value in (data.get("section") or {}).items():
        settings[f"data.{key}"] = value
    tag = doc.get("search") if isinstance(doc.get("search"), dict) else {}
    for key, value in (tag.get("params") or {}).items():
        settings[key] = value
    return settings, tag


def row_of(run: RunInfo) -> RunRow:
    try:
        doc = json.loads((run.path / RUN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    settings, tag = _flat(doc if isinstance(doc, dict) else {})
    trial = tag.get("trial")
    return RunRow(run, settings, str(tag.get("study") or ""), trial if isinstance(trial, int) else None)


def design_runs(root: Path, project_path: Path | None, project_name: str) -> list[RunRow]:
    """Every run of the design under `root`: its training runs and the trials of its studies."""
    root = Path(root)
    runs = list_runs(root, project_path, project_name)
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if child.is_dir() and read_run(child) is None:
                runs += list_runs(child, project_path, project_name)
    runs.sort(key=lambda r: (r.started, str(r.path)), reverse=True)
    return [row_of(run) for run in runs]


def figure_columns(rows: list[RunRow]) -> list[str]:
    """The final figures any of the runs has, in FIGURES' order (then the others, sorted)."""
    present = {k for r in rows for k, v in r.run.final.items() if isinstance(v, (int, float))}
    return [k for k in FIGURES if k in present] + sorted(present - set(FIGURES))


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def differing(rows: list[RunRow]) -> list[str]:
    """The settings whose values are not the same in all `rows` (missing counts as a value)."""
    keys = sorted({k for r in rows for k in r.settings})
    out = []
    for key in keys:
        values = [r.settings.get(key, _MISSING) for r in rows]
        if any(not _same(values[0], v) for v in values[1:]):
            out.append(key)
    return out
