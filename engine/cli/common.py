"""What every subcommand shares: loading a project and reporting its problems."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

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


def check_folder_writable(folder: Path, flag: str) -> None:
    """Refuse, before any long work, a results folder that cannot be made or written (DESIGN §8).

    A missing folder is judged by its nearest existing parent, which is where it would be made;
    writing is tried with a probe file, since permission bits do not tell the whole story
    (read-only mounts, root, ACLs).
    """
    existing = Path(os.path.abspath(folder))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"{flag} {folder}: {existing} is a file, not a folder; choose another {flag}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".layerloom-probe-", dir=existing)
    except OSError as exc:
        raise CommandError(f"{flag} {folder}: cannot write in {existing} ({exc.strerror or exc}); choose a "
                           f"folder you can write to with {flag}") from None
    os.close(fd)
    os.unlink(probe)


def check_not_input(out: str, source: str, flag: str = "-o") -> None:
    """Refuse to write a command's results over its own input (DESIGN §8), however it is spelled."""
    try:
        same = Path(out).exists() and Path(out).samefile(source)
    except OSError:
        same = False
    if same:
        raise CommandError(f"{flag} {out} is the design being exported; writing there would replace it: "
                           "choose another file")
