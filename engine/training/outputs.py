"""What a finished run leaves in its folder, written as the events arrive.

    metrics.csv          one row per epoch: losses, metrics, learning rate, time
    steps.csv            the step log: one row per optimiser step (its loss and learning rate; the
                         time is that of the Step event that brought it)
    weights.safetensors  the trained weights, keyed like the exported model's state_dict
    model.py             the exported code (engine.codegen.generate_code), the program that was trained
    run.json             settings, device, versions, data, final figures, how the run ended
    samples/epoch_NNN.png, generator.py, generator.safetensors   mode gan (engine.training.adversarial)
    tensorboard/         TensorBoard event files, with training.tensorboard (engine.training.tensorboard_log)
    checkpoint.pt        for --resume (written by the trainer)

`RunWriter(out_dir, trainer)` subscribes itself; the CLI and the GUI's runs folder use it alike.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

import torch

from engine.training.checkpoint import save_weights
from engine.training.events import EpochEnded, Event, Failed, Finished, RunStarted, Samples, Step
from engine.training.sample_images import save_png
from engine.training.tensorboard_log import TENSORBOARD_DIR, TensorBoardLog
from graph.files import write_atomic

WEIGHTS_NAME = "weights.safetensors"
METRICS_NAME = "metrics.csv"
STEPS_NAME = "steps.csv"
MODEL_NAME = "model.py"
RUN_NAME = "run.json"
SAMPLES_DIR = "samples"
STEP_COLUMNS = ("epoch", "step", "batch", "loss", "lr", "elapsed_s")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return repr(float(value)) if math.isfinite(value) else str(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


class RunWriter:
    def __init__(self, out_dir: str | Path, trainer, source_file: str | None = None,
                 tags: dict[str, Any] | None = None):
        self.out_dir = Path(out_dir)
        self.trainer = trainer
        self.source_file = source_file
        self.tags = dict(tags or {})   # top-level keys added to run.json (a search trial's "search")
        self.metric_columns: list[str] = []
        self.started_at = _dt.datetime.now().astimezone()
        self.run_started: RunStarted | None = None
        self._metrics = None
        self._steps = None
        trainer.subscribe(self)
        TensorBoardLog(self.out_dir / TENSORBOARD_DIR, trainer)   # inert unless training.tensorboard

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._open(event)
        elif isinstance(event, Step):
            self._step(event)
        elif isinstance(event, EpochEnded):
            self._epoch(event)
        elif isinstance(event, Samples):
            save_png(self.out_dir / SAMPLES_DIR / f"epoch_{event.epoch:03d}.png", event.samples, event.real)
        elif isinstance(event, (Finished, Failed)):
            self._finish(event)

    # -- streams ---------------------------------------------------------------------------
    def _open(self, event: RunStarted) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.run_started = event
        names = list(event.metrics)
        self.metric_columns = (["epoch", "train_loss", "val_loss"] + [f"train_{m}" for m in names]
                               + [f"val_{m}" for m in names] + ["lr", "seconds", "samples_per_s"])
        # a resume keeps what the checkpoint covers: the epochs from its own history (so a row cut short
        # by a crash is written whole again), the steps it has taken as far as their rows are whole
        kept = [self._metric_row(e) for e in self.trainer.history if e.epoch <= event.start_epoch]
        resumed = getattr(self.trainer, "resume_from", None) is not None
        steps = _whole_rows(self.out_dir / STEPS_NAME, list(STEP_COLUMNS), self.trainer.global_step) if resumed else []
        self._metrics = self._csv(self.out_dir / METRICS_NAME, self.metric_columns, kept)
        self._steps = self._csv(self.out_dir / STEPS_NAME, list(STEP_COLUMNS), steps)

    def _csv(self, path: Path, columns: list[str], rows: list[list]):
        handle = path.open("w", newline="", encoding="utf-8")
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
        handle.flush()
        return handle, writer

    def _step(self, e: Step) -> None:
        if self._steps is None:
            return
        writer = self._steps[1]
        count = len(e.losses)
        elapsed = f"{e.elapsed_s:.3f}"
        for k, (loss, lr) in enumerate(zip(e.losses, e.lrs)):
            back = count - 1 - k
            writer.writerow([e.epoch, e.step - back, e.batch - back, _number(loss), _number(lr), elapsed])

    def _epoch(self, e: EpochEnded) -> None:
        if self._metrics is None:
            return
        handle, writer = self._metrics
        writer.writerow(self._metric_row(e))
        handle.flush()
        self._steps[0].flush()

    def _metric_row(self, e: EpochEnded) -> list:
        names = list(self.run_started.metrics)
        row = [e.epoch, _number(e.train_loss), _number(e.val_loss)]
        row += [_number(e.train_metrics.get(m)) for m in names] + [_number(e.val_metrics.get(m)) for m in names]
        return row + [_number(e.lr), f"{e.seconds:.3f}", f"{e.samples_per_s:.1f}"]

    # -- the end -----------------------------------------------------------------------------
    def _close(self) -> None:
        for stream in (self._metrics, self._steps):
            if stream is not None:
                stream[0].close()
        self._metrics = self._steps = None

    def _finish(self, event: Finished | Failed) -> None:
        self._close()
        if self.run_started is None:  # it failed while setting up: there is nothing to keep
            return
        trainer = self.trainer
        self.out_dir.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        if isinstance(event, Finished) and trainer.model is not None:
            save_weights(self.out_dir / WEIGHTS_NAME, trainer.model.state_dict(),
                         metadata={"format": "layerloom-weights", "project": trainer.project.name})
            files["weights"] = WEIGHTS_NAME
        if trainer.source:
            write_atomic(self.out_dir / MODEL_NAME, trainer.source)
            files["model"] = MODEL_NAME
        if isinstance(event, Finished) and trainer.program is not None:
            files.update(trainer.program.write_files(self.out_dir))
        for name, key in ((METRICS_NAME, "metrics"), (STEPS_NAME, "steps"), (TENSORBOARD_DIR, "tensorboard")):
            if (self.out_dir / name).exists():
                files[key] = name
        if trainer.checkpoint_path is not None and trainer.checkpoint_path.exists():
            files["checkpoint"] = trainer.checkpoint_path.name
        write_atomic(self.out_dir / RUN_NAME, json.dumps(_json_safe(self.summary(event, files)), indent=2) + "\n")

    def summary(self, event: Finished | Failed, files: dict[str, str]) -> dict[str, Any]:
        trainer, started = self.trainer, self.run_started
        ended = _dt.datetime.now().astimezone()
        out: dict[str, Any] = {
            "format": "layerloom-run", "version": 1,
            "project": trainer.project.name,
            "project_file": self.source_file,
            "status": "finished" if isinstance(event, Finished) else "failed",
            "reason": event.reason,
            "started": self.started_at.isoformat(timespec="seconds"),
            "ended": ended.isoformat(timespec="seconds"),
            "device": started.device if started else None,
            "device_name": started.device_name if started else None,
            "mixed_precision": started.mixed_precision if started else None,
            "versions": {"torch": torch.__version__, "python": platform.python_version(),
                         "numpy": _version("numpy"), "layerloom": _version("layerloom")},
            "settings": started.settings if started else (trainer.settings.as_dict() if trainer.settings else None),
            "data": {"section": trainer.project.data, **(started.data_info if started else {})},
            "model": {"total_params": started.total_params, "trainable_params": started.trainable_params}
            if started else None,
            "platform": {"system": platform.system(), "machine": platform.machine(), "executable": sys.executable},
            "files": files,
            **self.tags,
        }
        if isinstance(event, Finished):
            out.update({"epochs_done": event.epochs_done, "steps": event.steps, "seconds": round(event.seconds, 3),
                        "best_epoch": event.best_epoch, "final": event.final})
        else:
            out.update({"error": event.message, "epoch": event.epoch, "step": event.step})
            if event.details:
                out["traceback"] = event.details
        return out


def _whole_rows(path: Path, columns: list[str], steps_done: int) -> list[list[str]]:
    """The rows of an earlier step log that a resume keeps: whole ones, of the steps the checkpoint covers.

    A crash can cut the last line short; it is dropped. A log that is not CSV text at all is moved
    aside to NAME.damaged, never overwritten, and the resume goes on without its rows."""
    try:
        text = path.read_bytes().decode("utf-8")
        if not text.endswith("\n"):
            text = text[:text.rfind("\n") + 1]
        reader = csv.reader(io.StringIO(text, newline=""))
        if next(reader, None) != columns:
            return []
        return [r for r in reader if len(r) == len(columns) and r[1].isdigit() and int(r[1]) <= steps_done]
    except FileNotFoundError:
        return []
    except (UnicodeDecodeError, csv.Error):
        path.replace(path.with_name(path.name + ".damaged"))
        return []


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None
