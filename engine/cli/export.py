"""`python main.py export FILE -o OUT [--format py|onnx|pt|pt2] [--weights W]` and
`export FILE --training-script -o train.py` (DESIGN §4)."""
from __future__ import annotations

from pathlib import Path

from engine.cli.common import CommandError, analysed, check_not_input, load_project
from engine.export import ExportError, export, format_for


def run(path: str, out: str, fmt: str | None = None, weights: str | None = None,
        training_script: bool = False) -> int:
    try:  # DESIGN §4: export exits 0, or 1 with a message
        project = load_project(path)
    except CommandError as exc:
        raise CommandError(str(exc), code=1) from None
    check_not_input(out, path)
    analysis = analysed(project)  # an invalid design prints the same problems as `check`, then stops
    if training_script:
        return _training_script(project, path, out, fmt, weights, analysis)
    try:
        fmt = format_for(out, fmt)
        result = export(project, out, fmt, weights, analysis=analysis)
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    _say_written(result.paths, result.notes, "")
    return 0


def _training_script(project, path: str, out: str, fmt: str | None, weights: str | None, analysis) -> int:
    from engine.training_script import ScriptError, write_training_script

    if fmt is not None or weights is not None:
        raise CommandError("--training-script writes a Python training program; leave out "
                           + ("--format" if fmt is not None else "--weights"))
    if Path(out).is_dir():
        raise CommandError(f"-o {out} is a folder; give the script's file name, e.g. {Path(out) / 'train.py'}")
    try:
        result = write_training_script(project, out, Path(path).resolve().parent, analysis)
    except ScriptError as exc:
        raise CommandError(str(exc)) from None
    _say_written(result.paths, result.notes, "note: ")
    print(f"  run it with: python {out}   (or: torchrun --nproc_per_node 2 {out})")
    return 0


def _say_written(paths, notes, note_prefix: str) -> None:
    for written in paths:
        print(f"wrote {written}")
    for note in notes:
        print(f"  {note_prefix}{note}")
