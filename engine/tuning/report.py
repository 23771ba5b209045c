"""What a search shows on the terminal: one table row per trial as it finishes, then the study's
best trial, its values and the parameters' importances.

Rows are plain data (`TrialRow`), made from Optuna's FrozenTrial where the trial ran, so that
parallel workers can send them to the process that prints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.tuning.space import SearchSpec

STATES = {"COMPLETE": "done", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}
MIN_FOR_IMPORTANCE = 2


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str                  # done, pruned, failed
    value: float | None         # the metric: the final one, or the last reported for a pruned trial
    epochs: int | None
    seconds: float | None
    params: dict[str, Any]
    error: str | None = None


def trial_row(trial: Any) -> TrialRow:
    value = trial.value
    if value is None and trial.intermediate_values:
        value = trial.intermediate_values[max(trial.intermediate_values)]
    epochs = trial.user_attrs.get("epochs")
    if epochs is None and trial.intermediate_values:
        epochs = max(trial.intermediate_values)
    return TrialRow(trial.number, STATES.get(trial.state.name, trial.state.name.lower()), value, epochs,
                    trial.user_attrs.get("seconds"), dict(trial.params), trial.user_attrs.get("error"))


def best_row(rows: list[TrialRow], direction: str) -> TrialRow | None:
    """The best finished trial of `rows` (as Optuna's best_trial picks among complete trials)."""
    done = [r for r in rows if r.state == "done" and r.value is not None and math.isfinite(r.value)]
    if not done:
        return None
    return (max if direction == "maximize" else min)(done, key=lambda r: r.value)


def format_value(metric: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if metric.endswith("accuracy") and math.isfinite(value):
            return f"{value * 100:.2f}%"
        return f"{value:.4g}"
    return str(value)


class Table:
    """The trial table: a header, then `row(r)` lines as trials finish, best so far starred."""

    def __init__(self, spec: SearchSpec, best: float | None = None):
        self.spec = spec
        self.widths = [max(len(d.short), 8) for d in spec.dimensions]
        self.best = best   # the study's best before these rows (a joined study has one)

    def header(self) -> str:
        cells = [f"{'trial':>5}", f"{'state':<7}", f"{self.spec.metric:>12}", f"{'epochs':>6}", f"{'time':>7}"]
        cells += [f"{d.short:>{w}}" for d, w in zip(self.spec.dimensions, self.widths)]
        return "  ".join(cells)

    def row(self, r: TrialRow) -> str:
        better = r.state == "done" and r.value is not None and (
            self.best is None or (r.value > self.best if self.spec.direction == "maximize" else r.value < self.best))
        if better:
            self.best = r.value
        seconds = f"{r.seconds:.1f}s" if r.seconds is not None else "-"
        cells = [f"{r.number:>5}", f"{r.state:<7}", f"{format_value(self.spec.metric, r.value):>12}",
                 f"{r.epochs if r.epochs is not None else '-':>6}", f"{seconds:>7}"]
        cells += [f"{format_value('', r.params.get(d.key)):>{w}}" for d, w in zip(self.spec.dimensions, self.widths)]
        line = "  ".join(cells) + ("  *" if better else "")
        return line + (f"  ({r.error})" if r.error else "")


def importances(study: Any) -> tuple[dict[str, float], str | None]:
    """Optuna's parameter importances (fANOVA), or ({}, why not) when the study cannot tell yet."""
    from engine.tuning.study import optuna_module

    optuna = optuna_module()
    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(done) < MIN_FOR_IMPORTANCE:
        return {}, f"importances need at least {MIN_FOR_IMPORTANCE} finished trials ({len(done)} so far)"
    try:
        return optuna.importance.get_param_importances(study), None
    except (RuntimeError, ValueError) as exc:
        return {}, f"importances unavailable ({exc})"


def summary(study: Any, spec: SearchSpec, ran: list[TrialRow]) -> list[str]:
    """The closing lines: the study's counts, what was pruned, the best trial and the importances."""
    from engine.tuning.study import counts

    by_state = counts(study)
    total = sum(by_state.values())
    parts = ", ".join(f"{n} {STATES.get(s, s.lower())}" for s, n in sorted(by_state.items()))
    lines = [f"study {study.study_name}: {total} trial(s) ({parts}); this command ran {len(ran)}"]
    pruned = [str(r.number) for r in ran if r.state == "pruned"]
    if pruned:
        lines.append(f"pruned (stopped early by the median rule): trial {', '.join(pruned)}")
    best = best_trial(study)
    if best is None:
        lines.append("no trial has finished yet: nothing to call best")
        return lines
    lines.append(f"best: trial {best.number}, {spec.metric} {format_value(spec.metric, best.value)}")
    lines += [f"  {key} = {format_value('', value)}" for key, value in best.params.items()]
    found, why = importances(study)
    if found:
        lines.append("importance: " + ", ".join(f"{k} {v:.2f}" for k, v in found.items()))
    else:
        lines.append(why)
    return lines


def best_trial(study: Any) -> Any | None:
    """Optuna's best_trial (DESIGN §10), or None before any trial has finished."""
    try:
        return study.best_trial
    except ValueError:
        return None
