"""`python main.py import SOURCE -o OUT.loom [--weights W] [--input-shape S ...]` (DESIGN §4).

Writes OUT.loom and, beside it, OUT.safetensors (named in `training.initial_weights`), both only
after the import has been checked; on failure nothing is written."""
from __future__ import annotations

from pathlib import Path

from engine.cli.common import CommandError, check_folder_writable
from engine.importer import ImportFailure, import_model
from graph.project import save


def run(source: str, out: str, weights: str | None = None, shapes: list[str] | None = None) -> int:
    target = Path(out)
    if target.suffix != ".loom":
        raise CommandError(f"-o {out}: the design is written as a .loom file; name one (e.g. model.loom)")
    if source.endswith(".pt2"):
        raise CommandError(f"{source}: importing a torch.export program (.pt2) is not supported yet; import the "
                           "Python file that defines the model instead (FILE.py:NAME)")
    if target.is_dir():
        raise CommandError(f"-o {out} is a folder; name the .loom file to write")
    check_folder_writable(target.parent if str(target.parent) else Path("."), "-o")
    try:
        result = import_model(source, shapes, weights)
    except ImportFailure as exc:
        raise CommandError(str(exc)) from None
    weights_out = target.with_suffix(".safetensors")
    if weights is not None and weights_out.exists() and Path(weights).exists() and weights_out.samefile(weights):
        raise CommandError(f"-o {out} would write its weights to {weights_out}, the --weights file being read; "
                           "choose another -o")
    result.project.training["initial_weights"] = weights_out.name
    from engine.training.checkpoint import save_weights

    try:
        save_weights(weights_out, result.state)
        save(result.project, target)
    except OSError as exc:
        raise CommandError(f"-o {out}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {target}")
    print(f"wrote {weights_out}")
    for note in result.notes:
        print(f"  {note}")
    return 0
