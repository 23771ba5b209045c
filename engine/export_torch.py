"""The exporters that need the built model: trained weights, TorchScript, ONNX and torch.export
programs (DESIGN §4).

engine.export is the entry point and writes `.py` text alone; it imports this module (and with
it torch) only for weights or a binary format. Every format builds the model from the same
generated source, so all are the same program.
"""
from __future__ import annotations

import importlib.util
import io
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.codegen import graph_inputs, graph_outputs, load_generated
from engine.export import ExportError, ExportResult, generated_source, write_text
from graph.analysis import Analysis, analyse
from graph.files import write_atomic_with
from graph.project import Project

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")
# Exported files are checked on a batch size other than the one they were traced with,
# so that a batch size baked in by mistake shows up here rather than for the user.
TRACE_BATCH, CHECK_BATCH = 2, 3
RTOL, ATOL = 1e-4, 1e-5


# -- the model and its weights ----------------------------------------------------------------
def load_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A state_dict from `.safetensors`, or from `.pt`/`.pth` (loaded with weights_only=True).

    A checkpoint dict holding the state_dict under "state_dict" or "model" is accepted too.
    """
    path = Path(path)
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise ExportError(f"weights {str(path)!r}: expected a .safetensors, .pt or .pth file")
    if not path.is_file():
        raise ExportError(f"weights {str(path)!r}: no such file")
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except ImportError:
        raise ExportError("reading .safetensors needs the safetensors package: pip install safetensors") from None
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is a user mistake
        raise ExportError(f"weights {str(path)!r} cannot be read as a state_dict: {_first_line(exc)}") from None
    if isinstance(state, dict):
        for key in ("state_dict", "model"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise ExportError(f"weights {str(path)!r} is not a state_dict (a mapping from names to tensors)")
    return state


def apply_weights(model: nn.Module, state: dict[str, torch.Tensor], source: str = "the weights") -> None:
    """Load `state` into `model`, or say which nodes do not fit and why."""
    expected = model.state_dict()
    problems, nodes = [], []
    for key, tensor in expected.items():
        if key not in state:
            problems.append(f"{_node_of(key)}: {source} have no '{key}'")
            nodes.append(_node_of(key))
        elif tuple(state[key].shape) != tuple(tensor.shape):
            problems.append(f"{_node_of(key)}: '{key}' is {tuple(state[key].shape)} in {source}, "
                            f"but the design needs {tuple(tensor.shape)}")
            nodes.append(_node_of(key))
    extra = [k for k in state if k not in expected]
    if extra:
        problems.append(f"{source} have entries the design does not: {', '.join(extra[:5])}"
                        + (" ..." if len(extra) > 5 else ""))
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ExportError("; ".join(problems[:3]) + more + " (the weights do not fit this design: "
                          "were they saved from another version of it?)", nodes[0] if nodes else None)
    model.load_state_dict(state)


def _node_of(key: str) -> str:
    return key.split(".", 1)[0].split(":", 1)[0]


def _model(source: str, weights: str | os.PathLike | None):
    """The module compiled from `source` and its model, with `weights` loaded, in eval mode."""
    module = load_generated(source)
    model = module.build_model()
    if weights is not None:
        apply_weights(model, load_weights(weights), f"the weights in {Path(weights).name}")
    return module, model.eval()


def _inputs(module, batch_size: int) -> tuple[torch.Tensor, ...]:
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(0)
        return tuple(module.example_inputs(batch_size))
    finally:
        torch.random.set_rng_state(generator_state)


def _as_tuple(outputs: Any) -> tuple[torch.Tensor, ...]:
    return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)


def _compare(names: list[str], got: tuple, want: tuple, what: str) -> float:
    worst = 0.0
    for name, g, w in zip(names, got, want, strict=True):
        g = torch.as_tensor(g)
        if tuple(g.shape) != tuple(w.shape):
            raise ExportError(f"{name}: {what} gives shape {tuple(g.shape)}, torch gives {tuple(w.shape)}", name)
        if not torch.allclose(g.to(w.dtype), w, rtol=RTOL, atol=ATOL):
            diff = (g.to(w.dtype) - w).abs().max().item()
            raise ExportError(f"{name}: {what} differs from torch by up to {diff:.3g}", name)
        if w.numel():
            worst = max(worst, (g.to(w.dtype) - w).abs().max().item())
    return worst


def _write_binary(out: Path, write: Callable[[str], None]) -> None:
    """Write atomically (graph.files), turning OS errors into an ExportError naming the file."""
    try:
        write_atomic_with(out, write)
    except OSError as exc:
        raise ExportError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None


def _first_line(exc: BaseException) -> str:
    """The gist of an exception from torch: its first sentence or line, without the boilerplate."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    text = text.split(" Please feel free to request support")[0]
    return text if len(text) <= 240 else text[:237] + "..."


# -- .py with weights ------------------------------------------------------------------------
def export_python_with_weights(source: str, out: Path, weights: str | os.PathLike) -> ExportResult:
    """The code and, beside it, the weights (checked against the model first, so that weights
    that do not fit write nothing) as `<stem>.safetensors`, or `<stem>.weights.pt` without safetensors."""
    _, model = _model(source, weights)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    write_text(out, source)
    result = ExportResult("py", [out])
    try:
        from safetensors.torch import save_file
    except ImportError:
        target = out.with_suffix(".weights.pt")
        _write_binary(target, lambda tmp: torch.save(state, tmp))
        result.notes.append(f"load the weights with model.load_state_dict(torch.load({target.name!r}, "
                            "weights_only=True))")
    else:
        target = out.with_suffix(".safetensors")
        _write_binary(target, lambda tmp: save_file(state, tmp))
        result.notes.append("load the weights with "
                            f"model.load_state_dict(safetensors.torch.load_file({target.name!r}))")
    result.paths.append(target)
    return result


# -- TorchScript ---------------------------------------------------------------------------
def export_torchscript(project: Project, out: Path, weights=None, verify: bool = True,
                       analysis: Analysis | None = None) -> ExportResult:
    """`torch.jit.trace` of the model in eval mode, saved, reloaded and compared with torch."""
    module, model = _model(generated_source(project, analysis), weights)
    outputs = _output_ids(project)
    example = _inputs(module, TRACE_BATCH)

    def trace(target: nn.Module, args: tuple) -> torch.jit.ScriptModule:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            return torch.jit.trace(target, args, check_trace=False)

    try:
        traced = trace(model, example)
    except Exception as exc:  # noqa: BLE001 -- reported with the node that fails
        raise _culprit(project, module, model, "TorchScript", trace, exc) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.save/load: deprecated, still supported
        _write_binary(out, lambda tmp: torch.jit.save(traced, tmp))
        reloaded = torch.jit.load(str(out), map_location="cpu") if verify else None
    result = ExportResult("pt", [out])
    if reloaded is not None:
        check = _inputs(module, CHECK_BATCH)
        with torch.no_grad():
            diff = _compare(outputs, _as_tuple(reloaded(*check)), _as_tuple(model(*check)), "the TorchScript file")
        result.notes.append(f"reloaded and compared with the PyTorch model: max difference {diff:.2g}")
    return result


# -- torch.export (.pt2) ------------------------------------------------------------------
def export_program(project: Project, out: Path, weights=None, verify: bool = True,
                   analysis: Analysis | None = None) -> ExportResult:
    """`torch.export.export` of the model in eval mode with the batch dimension free (one `Dim` shared
    by every input), saved with `torch.export.save`, reloaded with `torch.export.load` and compared
    with torch on another batch size. TorchScript's successor upstream, and what `import` reads back."""
    module, model = _model(generated_source(project, analysis), weights)
    outputs = _output_ids(project)
    example = _inputs(module, TRACE_BATCH)

    def to_program(target: nn.Module, args: tuple):
        batch = torch.export.Dim("batch", min=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.export.export(target, args, dynamic_shapes=tuple({0: batch} for _ in args))

    try:
        program = to_program(model, example)
    except Exception as exc:  # noqa: BLE001 -- reported with the node that fails
        raise _culprit(project, module, model, "a torch.export program", to_program, exc) from None
    def save(tmp: str) -> None:
        with open(tmp, "wb") as file:  # a buffer: torch warns about a path whose name does not end in .pt2
            torch.export.save(program, file)

    _write_binary(out, save)
    result = ExportResult("pt2", [out])
    if verify:
        reloaded = torch.export.load(str(out)).module()
        check = _inputs(module, CHECK_BATCH)
        with torch.no_grad():
            diff = _compare(outputs, _as_tuple(reloaded(*check)), _as_tuple(model(*check)), "the .pt2 program")
        result.notes.append(f"reloaded with torch.export.load and compared on a batch of {CHECK_BATCH}: "
                            f"max difference {diff:.2g}")
    return result


# -- ONNX ----------------------------------------------------------------------------------
def export_onnx(project: Project, out: Path, weights=None, verify: bool = True,
                analysis: Analysis | None = None) -> ExportResult:
    """`torch.onnx.export` (the TorchScript-based exporter) with a dynamic batch dimension,
    then, when onnxruntime is installed, run and compared with torch."""
    if importlib.util.find_spec("onnx") is None:
        raise ExportError("ONNX export needs the onnx package: pip install 'layerloom[onnx]' "
                          "(onnx and onnxruntime)")
    module, model = _model(generated_source(project, analysis), weights)
    inputs = graph_inputs(project.graph)
    outputs = _output_ids(project)
    example = _inputs(module, TRACE_BATCH)

    def to_onnx(target: nn.Module, args: tuple, path: str | None = None, names=None) -> None:
        in_names, out_names = names or ([f"in{i}" for i in range(len(args))], None)
        axes = {name: {0: "batch"} for name in [*in_names, *(out_names or [])]}
        # Not under no_grad: there attention layers take fused fast paths that ONNX cannot express.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(target, args, path if path is not None else io.BytesIO(), dynamo=False,
                              input_names=in_names, output_names=out_names, dynamic_axes=axes)

    try:
        _write_binary(out, lambda tmp: to_onnx(model, example, tmp, (inputs, outputs)))
    except ExportError:
        raise
    except ImportError as exc:
        raise ExportError(f"ONNX export needs the onnx packages ({_first_line(exc)}): "
                          "pip install 'layerloom[onnx]'") from None
    except Exception as exc:  # noqa: BLE001 -- reported with the node that fails
        raise _culprit(project, module, model, "ONNX", to_onnx, exc) from None
    result = ExportResult("onnx", [out])
    if not verify:
        return result
    try:
        import onnxruntime
    except ImportError:
        result.notes.append("not checked: onnxruntime is not installed (pip install 'layerloom[onnx]')")
        return result
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    check = _inputs(module, CHECK_BATCH)
    kept = {i.name for i in session.get_inputs()}  # an Input nothing uses is not in the ONNX graph
    dropped = [name for name in inputs if name not in kept]
    if dropped:
        result.notes.append(f"unused Input(s) {', '.join(dropped)}: not inputs of the ONNX file")
    got = session.run(outputs, {name: t.numpy() for name, t in zip(inputs, check, strict=True) if name in kept})
    with torch.no_grad():
        want = _as_tuple(model(*check))
    diff = _compare(outputs, tuple(torch.from_numpy(g) for g in got), want, "onnxruntime")
    result.notes.append(f"checked with onnxruntime: max difference from PyTorch {diff:.2g}")
    return result


def _output_ids(project: Project) -> list[str]:
    return graph_outputs(project.graph)


def _culprit(project: Project, module, model: nn.Module, what: str, convert, exc: Exception) -> ExportError:
    """Find the first node whose submodule alone cannot be converted, to name it in the error."""
    reason = _first_line(exc)
    analysis = analyse(project.graph)
    for node_id in analysis.order:
        sub = getattr(model, node_id, None)
        info = analysis.nodes[node_id]
        if not isinstance(sub, nn.Module) or not info.inputs:
            continue
        args = tuple(torch.randint(0, 2, (TRACE_BATCH, *shape)) if dtype == "int64"
                     else torch.randn(TRACE_BATCH, *shape)
                     for shape, dtype in zip(info.inputs, _input_dtypes(project, analysis, node_id)))
        try:
            convert(sub, args)
        except Exception as sub_exc:  # noqa: BLE001
            node = project.graph[node_id]
            return ExportError(f"{node_id}: {node.type} cannot be exported to {what}: {_first_line(sub_exc)}",
                               node_id)
    return ExportError(f"the model cannot be exported to {what}: {reason}")


def _input_dtypes(project: Project, analysis, node_id: str) -> list[str]:
    incoming = sorted((e for e in project.graph.edges if e.dst == node_id), key=lambda e: e.dst_port)
    return [analysis.nodes[e.src].dtypes[e.src_port] for e in incoming]
