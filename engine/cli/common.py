"""What every subcommand shares: loading a project and reporting its problems."""
from __future__ import annotations

import sys

from graph.analysis import Analysis, analyse
from graph.project import LoomFileError, Project, load


class CommandError(Exception):
    """A user mistake that ends a command: printed as `error: message`, exit code attached."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def load_project(path: str) -> Project:
    try:
        return load(path)
    except LoomFileError as exc:
        raise CommandError(str(exc), code=2) from None


def report_problems(analysis: Analysis) -> None:
    """One `error: NODE_ID: message` (or `warning: ...`) line per problem, on stderr."""
    for d in analysis.diagnostics:
        print(f"{d.severity}: {d}", file=sys.stderr)


def analysed(project: Project) -> Analysis:
    """The analysis of a project that must be valid; problems are printed and end the command."""
    analysis = analyse(project.graph)
    report_problems(analysis)
    if not analysis.valid:
        raise CommandError(f"the design has {len(analysis.errors)} problem(s); run `check` for details")
    return analysis
