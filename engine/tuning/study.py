"""Optuna's side of a search: importing it, the storage, and making or joining a study.

Optuna is an optional extra (`pip install "layerloom[tune]"`): nothing else in LayerLoom needs it,
so it is imported here, when a search starts, with a message that says how to install it.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.tuning.report import TrialRow, trial_row
from engine.tuning.space import SearchError, SearchSpec

OPTUNA_MISSING = 'searching needs Optuna, which is not installed: pip install "layerloom[tune]"'
OPEN_ATTEMPTS = 4       # a new database's tables made by two processes at once: the loser retries
SQLITE_TIMEOUT_S = 60   # parallel trials write to one SQLite file; they wait their turn rather than fail
_STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")


def optuna_module() -> Any:
    """The optuna module, quiet below errors (the trial table says what happened), or SearchError."""
    try:
        import optuna
    except ImportError:
        raise SearchError(OPTUNA_MISSING) from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna


def default_study_name(project_name: str) -> str:
    """A study name (and folder name under runs/) from the project's name: 'Spiral MLP' -> 'spiral-mlp'."""
    return re.sub(r"[^a-z0-9]+", "-", project_name.lower()).strip("-")[:60] or "study"


def check_study_name(name: str) -> str:
    if not _STUDY_NAME.match(name):
        raise SearchError(f"--study {name!r}: a study name is also a folder name under runs/; use letters, digits, "
                          "'.', '_' and '-', starting with a letter or digit")
    return name


def default_storage(project_file: str | Path) -> str:
    """An SQLite file beside the project: `spiral.loom` -> `sqlite:///.../spiral.optuna.db`."""
    path = Path(project_file).resolve()
    return f"sqlite:///{path.with_name(path.stem + '.optuna.db')}"


def storage(url: str) -> Any:
    """Optuna's storage for a URL; SQLite waits for its lock (several local processes share the file)."""
    optuna = optuna_module()
    kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if url.startswith("sqlite:") else {}
    try:
        for attempt in range(OPEN_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
            except ImportError:
                raise
            except Exception:
                if attempt == OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
    except ImportError as exc:  # the database's driver (psycopg, psycopg2, pymysql, ...)
        cause = exc.__cause__ or exc.__context__ or exc
        raise SearchError(f"--storage {url}: the database driver is not installed ({cause}); install it, or name "
                          "an installed one in the URL (postgresql+psycopg2://...)") from None
    except Exception as exc:  # noqa: BLE001 -- SQLAlchemy's many errors for a URL it cannot use
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SearchError(f"--storage {url}: cannot open the storage ({first})") from None


def open_study(spec: SearchSpec, name: str, url: str, project_name: str) -> Any:
    """Make the study, or join it when it exists (another terminal or machine may be filling it).

    A study made for another metric or direction is refused: its trials would not compare."""
    optuna = optuna_module()
    pruner = optuna.pruners.NopPruner()
    if spec.pruner == "median":  # the first epochs of a run say little: no pruning in its first quarter
        pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=spec.epochs // 4)
    study = optuna.create_study(study_name=name, storage=storage(url), direction=spec.direction, pruner=pruner,
                                load_if_exists=True)
    metric = study.user_attrs.get("metric")
    if metric is None:
        study.set_user_attr("metric", spec.metric)
        study.set_user_attr("project", project_name)
    elif metric != spec.metric or study.direction.name.lower() != spec.direction:
        raise SearchError(f"--study {name}: that study searches for {study.direction.name.lower()} {metric}, this "
                          f"design's search section for {spec.direction} {spec.metric}; choose another --study")
    return study


def counts(study: Any) -> dict[str, int]:
    """Trials of the whole study by state (COMPLETE, PRUNED, FAIL, RUNNING, ...)."""
    out: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        out[trial.state.name] = out.get(trial.state.name, 0) + 1
    return out


@dataclass(frozen=True)
class StoredStudy:
    """A study as its storage holds it: every trial, of every session and process, by number."""
    rows: list[TrialRow]
    metric: str | None
    direction: str


def stored_study(url: str, name: str) -> StoredStudy | None:
    """Study `name` read from storage `url` (nothing is made: None when there is no such study)."""
    optuna = optuna_module()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        return None
    try:
        study = optuna.load_study(study_name=name, storage=storage(url))
    except KeyError:
        return None
    rows = sorted((trial_row(t) for t in study.get_trials(deepcopy=False)), key=lambda r: r.number)
    return StoredStudy(rows, study.user_attrs.get("metric"), study.direction.name.lower())
