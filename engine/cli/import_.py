"""`python main.py import SOURCE -o OUT.loom [--weights W] [--input-shape S ...]` (DESIGN §4).

Writes OUT.loom and, beside it, OUT.safetensors (named in `training.initial_weights`), both only
after the import has been checked (engine.importer.write); on failure nothing is written."""
from __future__ import annotations

from pathlib import Path

from engine.cli.common import CommandError, check_folder_writable
from engine.importer import ImportFailure
from engine.importer.write import check_target, import_to


def run(source: str, out: str, weights: str | None = None, shapes: list[str] | None = None) -> int:
    try:
        target = check_target(out)
        check_folder_writable(target.parent if str(target.parent) else Path("."), "-o")
        result = import_to(source, target, weights, shapes)
    except ImportFailure as exc:
        raise CommandError(str(exc)) from None
    print(f"wrote {target}")
    print(f"wrote {target.with_suffix('.safetensors')}")
    for note in result.notes:
        print(f"  {note}")
    return 0
