"""One trial of a search: an ordinary training run of the design with the trial's values.

The run is the Trainer's, written by the RunWriter into runs/<study>/trial-NNN (NNN: Optuna's trial
number, unique in the study across processes and machines), with run.json tagged
`"search": {"study", "trial", "params", "worker"}` and the trial's own design as design.loom, so
`python main.py train design.loom` repeats it. The metric goes to Optuna after every epoch; when the
pruner says so the run stops there ("pruned").
"""
from __future__ import annotations

import math
import os
import socket
from pathlib import Path
from typing import Any

from engine.training.events import EpochEnded, Failed, RunStarted, final_figures
from engine.training.outputs import RUN_NAME, RunWriter
from engine.training.trainer import Trainer
from engine.tuning.space import Dimension, SearchError, SearchSpec, apply
from graph.project import Project, save

DESIGN_NAME = "design.loom"


class TrialFailed(Exception):
    """The trial's run failed (a design the values break, a loss gone NaN): the study goes on."""


def worker_name() -> str:
    """Who ran a trial: host and process, so that a shared study shows each contributor."""
    return f"{socket.gethostname()}:{os.getpid()}"


def suggest(trial: Any, dims: tuple[Dimension, ...]) -> dict[str, Any]:
    """The trial's values, asked of Optuna under the keys' own names (DESIGN §10)."""
    values = {}
    for d in dims:
        if d.kind == "choice":
            values[d.key] = trial.suggest_categorical(d.key, list(d.choices))
        elif d.kind == "int":
            values[d.key] = trial.suggest_int(d.key, d.low, d.high, log=d.log)
        else:
            values[d.key] = trial.suggest_float(d.key, d.low, d.high, log=d.log)
    return values


def trial_dir(runs_dir: Path, number: int) -> Path:
    return runs_dir / f"trial-{number:03d}"


class Objective:
    """Optuna's objective: `study.optimize(Objective(...), catch=(TrialFailed,))`.

    `on_trainer(trainer)` lets a caller (the window) stop the run in flight."""

    def __init__(self, project: Project, spec: SearchSpec, *, project_file: str | Path, study_name: str,
                 runs_dir: Path, overrides: dict[str, Any] | None = None, on_trainer=None):
        self.project = project
        self.spec = spec
        self.project_file = Path(project_file).resolve()
        self.study_name = study_name
        self.runs_dir = runs_dir
        self.overrides = dict(overrides or {})
        self.on_trainer = on_trainer

    def __call__(self, trial: Any) -> float:
        from engine.tuning.study import optuna_module

        values = suggest(trial, self.spec.dimensions)
        out_dir = trial_dir(self.runs_dir, trial.number)
        if (out_dir / RUN_NAME).exists():
            raise SearchError(f"{out_dir} already holds a run that this study's storage does not know (a study "
                              "of the same name in another storage?); choose another --study")
        design = apply(self.project, values)
        out_dir.mkdir(parents=True, exist_ok=True)
        save(design, out_dir / DESIGN_NAME)
        worker = worker_name()
        trial.set_user_attr("run_dir", str(out_dir))
        trial.set_user_attr("worker", worker)
        trainer = Trainer(design, base_dir=self.project_file.parent, out_dir=out_dir, overrides=self.overrides)
        tags = {"search": {"study": self.study_name, "trial": trial.number, "params": values, "worker": worker,
                           "metric": self.spec.metric}}
        RunWriter(out_dir, trainer, source_file=str(self.project_file), tags=tags)
        watch = _Watch(trial, trainer, self.spec.metric)
        trainer.subscribe(watch)
        if self.on_trainer is not None:
            self.on_trainer(trainer)
        result = trainer.run()
        if watch.missing is not None:
            raise SearchError(watch.missing)
        if isinstance(result, Failed):
            trial.set_user_attr("error", result.message)
            raise TrialFailed(result.message)
        trial.set_user_attr("epochs", result.epochs_done)
        trial.set_user_attr("seconds", round(result.seconds, 2))
        if result.reason == "pruned":
            raise optuna_module().TrialPruned(f"pruned after epoch {result.epochs_done}")
        if result.reason != "completed" and result.reason != "early_stopping":
            trial.set_user_attr("error", f"stopped ({result.reason})")
            raise TrialFailed(f"the run was {result.reason}")
        value = result.final.get(self.spec.metric)
        if value is None or not math.isfinite(value):
            message = f"the run gave no finite {self.spec.metric}"
            trial.set_user_attr("error", message)
            raise TrialFailed(message)
        return value


class _Watch:
    """Reports the metric after each epoch and stops the run when the pruner says so."""

    def __init__(self, trial: Any, trainer: Trainer, metric: str):
        self.trial, self.trainer, self.metric = trial, trainer, metric
        self.missing: str | None = None

    def __call__(self, event: Any) -> None:
        if isinstance(event, RunStarted):
            columns = ["train_loss"] + (["val_loss"] if event.val_samples else [])
            columns += [f"{side}_{m}" for side in ("train", "val") for m in event.metrics
                        if side == "train" or event.val_samples]
            if self.metric not in columns:
                self.missing = (f"search.metric is {self.metric!r}, which this design's runs do not give; "
                                f"choose one of {', '.join(columns)}")
                self.trainer.stop("bad metric")
        elif isinstance(event, EpochEnded):
            value = final_figures([event]).get(self.metric)
            if value is None or not math.isfinite(value):
                return
            self.trial.report(value, event.epoch)
            if self.trial.should_prune():
                self.trainer.stop("pruned")
