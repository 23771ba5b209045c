"""An import written to disk: OUT.loom and, beside it, OUT.safetensors named in the project's
`training.initial_weights` (DESIGN §4). One function for the command line and the window, so that
both refuse the same targets and write the same files; nothing is written unless the import
succeeded."""
from __future__ import annotations

from pathlib import Path

from engine.importer.problems import ImportFailure
from engine.importer.run import ImportResult, import_model
from graph.project import save


def check_target(out: str | Path) -> Path:
    """The .loom to write, refused before any work when it cannot be one."""
    target = Path(out)
    if target.suffix != ".loom":
        raise ImportFailure(f"-o {out}: the design is written as a .loom file; name one (e.g. model.loom)")
    if target.is_dir():
        raise ImportFailure(f"-o {out} is a folder; name the .loom file to write")
    return target


def import_to(source: str, out: str | Path, weights: str | None = None,
              shapes: list[str] | None = None) -> ImportResult:
    """Import SOURCE and write OUT.loom and OUT.safetensors; ImportFailure lists what stops it."""
    target = check_target(out)
    if source.endswith(".pt2"):
        from engine.importer.program import import_program

        result = import_program(source, shapes, weights)
    else:
        result = import_model(source, shapes, weights)
    weights_out = target.with_suffix(".safetensors")
    if weights is not None and weights_out.exists() and Path(weights).exists() and weights_out.samefile(weights):
        raise ImportFailure(f"-o {out} would write its weights to {weights_out}, the --weights file being read; "
                            "choose another -o")
    result.project.training["initial_weights"] = weights_out.name
    from engine.training.checkpoint import save_weights

    try:
        save_weights(weights_out, result.state)
        save(result.project, target)
    except OSError as exc:
        raise ImportFailure(f"-o {out}: cannot write ({exc.strerror or exc})") from None
    return result
