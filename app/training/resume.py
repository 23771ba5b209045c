"""Going on with a kept run in the window, as `python main.py train FILE --out RUN --resume` does (Qt-free).

The run continues its own copy of the design (the run folder's design.loom), whatever the window
shows now: its checkpoint fits that model and no other, and the run folder must describe one
training. It trains to that copy's own epochs, into the same folder. A run that
`python main.py train` made has no copy; it goes on with the design file it was trained from, as
the command line would.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.training.runs import RunInfo
from graph.project import LoomFileError, Project, load, to_dict

SECTIONS = ("graph", "data", "training")   # what a run trains; the name, layout and view are not part of it


class ResumeRefused(Exception):
    """The run cannot go on; the message says why, for the status bar."""


@dataclass
class ResumePlan:
    run: RunInfo
    project: Project       # the run's own design
    base_dir: Path         # where its data paths are relative to: the folder of the design it was trained from
    changed: bool          # the design in the window differs from it (nodes moved aside)

    def note(self) -> str:
        """The status line's word on which design trains."""
        if not self.changed:
            return ""
        return "it goes on with its own copy of the design; the design here has changed since the run"


def _trained_part(project: Project) -> dict:
    """The sections of a design that a run trains, node positions left out (moving a node changes nothing)."""
    doc = to_dict(project)

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not (k == "pos" and "id" in value and "type" in value)}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {key: strip(doc.get(key)) for key in SECTIONS}


def plan_resume(run: RunInfo, current: Project, current_base: Path) -> ResumePlan:
    """What resuming `run` trains, or ResumeRefused with the reason."""
    problem = run.resume_problem()
    if problem is not None:
        raise ResumeRefused(f"{run.name} cannot go on: {problem}")
    design = run.design
    base_dir = Path(run.project_file).parent if run.project_file else current_base
    if not design.is_file():
        if not run.project_file:
            raise ResumeRefused(f"{run.name} cannot go on: it has no copy of its design ({design.name})")
        design = Path(run.project_file)
    try:
        project = load(design)
    except LoomFileError as exc:
        raise ResumeRefused(f"{run.name} cannot go on: its design does not load: {exc}") from None
    return ResumePlan(run, project, base_dir, _trained_part(project) != _trained_part(current))
