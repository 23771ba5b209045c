"""`python main.py export FILE -o OUT [--format py|onnx|pt|pt2] [--weights W]` (DESIGN §4)."""
from __future__ import annotations

from engine.cli.common import CommandError, analysed, check_not_input, load_project
from engine.export import ExportError, export, format_for


def run(path: str, out: str, fmt: str | None = None, weights: str | None = None) -> int:
    try:  # DESIGN §4: export exits 0, or 1 with a message
        project = load_project(path)
    except CommandError as exc:
        raise CommandError(str(exc), code=1) from None
    check_not_input(out, path)
    analysis = analysed(project)  # an invalid design prints the same problems as `check`, then stops
    try:
        fmt = format_for(out, fmt)
        result = export(project, out, fmt, weights, analysis=analysis)
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    for written in result.paths:
        print(f"wrote {written}")
    for note in result.notes:
        print(f"  {note}")
    return 0
