"""Exporters: a design becomes a `.py` file, an ONNX model, a TorchScript archive or a torch.export
program (`.pt2`) (DESIGN §4).

    export(project, "model.py")                      # the generated code
    export(project, "model.onnx", weights="w.pt")    # checked with onnxruntime when installed
    export(project, "model.pt", weights="w.safetensors")
    export(project, "model.pt2")                     # torch.export, batch size free; reloaded and checked

Every format starts from the one generated source (engine.codegen), so all of them are the
same program. Weights are a state_dict, read from `.safetensors` or from a `.pt`/`.pth` file
with `torch.load(..., weights_only=True)` (DESIGN §8). A `.py` export with weights writes them
beside the code as `<stem>.safetensors`.

Writing `.py` without weights is text only: the design is validated by graph analysis, as
`check` does, and neither torch nor the model is needed, so it costs about what `check` costs.
Everything that needs the built model (weights, ONNX, TorchScript, .pt2) is in engine.export_torch,
imported only when asked for.

Every user mistake raises `ExportError` with a message that names the node or file at fault.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.codegen import CodegenError, generate_code
from graph.analysis import Analysis
from graph.files import write_atomic
from graph.project import Project

FORMATS = ("py", "onnx", "pt", "pt2")
SUFFIXES = {".py": "py", ".onnx": "onnx", ".pt": "pt", ".pt2": "pt2"}
# The names engine.export_torch defines, reachable from here without importing torch up front.
_WITH_TORCH = ("apply_weights", "load_weights", "export_onnx", "export_torchscript", "export_program")


class ExportError(ValueError):
    """An export that cannot be done; `node` is the id at fault when one is known."""

    def __init__(self, message: str, node: str | None = None):
        super().__init__(message)
        self.node = node


@dataclass
class ExportResult:
    """What an export wrote and what it checked, as lines to show the user."""

    format: str
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def format_for(out: str | os.PathLike, fmt: str | None = None) -> str:
    """The format named by `fmt`, or else by OUT's suffix."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise ExportError(f"cannot tell the format from {str(out)!r}: name it .py, .onnx, .pt or .pt2, "
                          "or give --format py|onnx|pt|pt2")
    return SUFFIXES[suffix]


def export(project: Project, out: str | os.PathLike, fmt: str | None = None,
           weights: str | os.PathLike | None = None, verify: bool = True,
           analysis: Analysis | None = None) -> ExportResult:
    """Write `project` to `out` in `fmt` (default: from the suffix), with trained `weights` if given.
    `analysis`: the design's analysis when the caller has made it already (the CLI has)."""
    fmt = format_for(out, fmt)
    if fmt != "py" or weights is not None:  # these build the model: refuse one that cannot fit first
        refuse_if_too_large(project, analysis, f"building the model to export it as {fmt}")
    if fmt == "py":
        return export_python(project, Path(out), weights, analysis)
    from engine import export_torch

    exporter = {"onnx": export_torch.export_onnx, "pt": export_torch.export_torchscript,
                "pt2": export_torch.export_program}[fmt]
    return exporter(project, Path(out), weights, verify, analysis)


export_project = export  # the name the designer's Export action calls


def refuse_if_too_large(project: Project, analysis: Analysis | None, purpose: str) -> None:
    """An ExportError naming the node, before allocating, when the model cannot fit in memory (DESIGN §8);
    the weights twice (tracing copies them), the activations of a small batch."""
    from engine.memory import available_bytes
    from graph.analysis import analyse
    from graph.footprint import too_large

    problem = too_large(analysis or analyse(project.graph), available_bytes(), batch=4, weight_copies=2,
                        purpose=purpose)
    if problem:
        raise ExportError(f"{problem[0]}: {problem[1]}", problem[0])


def generated_source(project: Project, analysis: Analysis | None = None) -> str:
    """The code of `project`, or an ExportError naming the node that stops it."""
    try:
        return generate_code(project, analysis=analysis)
    except CodegenError as exc:
        raise ExportError(str(exc), exc.node) from None


def write_text(out: Path, text: str) -> None:
    """Write atomically (graph.files), turning OS errors into an ExportError naming the file."""
    try:
        write_atomic(out, text)
    except OSError as exc:
        raise ExportError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None


def export_python(project: Project, out: Path, weights: str | os.PathLike | None = None,
                  analysis: Analysis | None = None) -> ExportResult:
    """The generated code; with weights, also `<stem>.safetensors` beside it (engine.export_torch)."""
    source = generated_source(project, analysis)
    if weights is not None:
        from engine.export_torch import export_python_with_weights

        return export_python_with_weights(source, out, weights)
    write_text(out, source)
    return ExportResult("py", [out])


def __getattr__(name: str) -> Any:
    """PEP 562: `from engine.export import load_weights` works, importing torch only then."""
    if name in _WITH_TORCH:
        from engine import export_torch

        return getattr(export_torch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
