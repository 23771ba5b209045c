"""The model to import: `FILE.py:NAME` built with no arguments, its example inputs and its weights.

Running the user's file is the point of importing from Python (as `python FILE.py` would); every
error it raises is reported as a message naming the file's line, never as a traceback.
"""
from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.importer.problems import ImportFailure

DTYPES = {"float32": torch.float32, "int64": torch.int64}
BATCH = 2  # the batch of the traced example inputs; outputs are compared on another (CHECK_BATCH)


@dataclass
class Source:
    """A built module and where it came from."""

    module: nn.Module
    path: Path            # the .py file
    name: str             # NAME in FILE.py:NAME
    namespace: Any        # the file's module object (for example_inputs)


def split_source(text: str) -> tuple[Path, str]:
    """`FILE.py:NAME` -> (FILE.py, NAME); a message saying the expected form otherwise."""
    path, sep, name = text.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise ImportFailure(f"source {text!r}: expected FILE.py:NAME (a Python file and the nn.Module class or "
                            "function in it that builds the model), or a .pt2 file")
    return Path(path), name


def user_line(exc: BaseException, path: Path) -> str | None:
    """`file.py:LINE` of the deepest frame of `exc` in the user's file, if any."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if _same_file(frame.filename, path):
            found = f"{path.name}:{frame.lineno}"
    return found


def _same_file(filename: str, path: Path) -> bool:
    try:
        return os.path.abspath(filename) == os.path.abspath(path)
    except (OSError, ValueError):
        return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _module_name(path: Path) -> str:
    return f"layerloom_import_{abs(hash(str(path.resolve())))}"


@contextlib.contextmanager
def _beside(path: Path):
    """The file's folder first on sys.path: it may import its neighbours, as when run as a script."""
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path.remove(folder)


def _execute(path: Path) -> Any:
    """The file's module object, run as `python FILE.py` would run it (call inside `_beside`)."""
    spec = importlib.util.spec_from_file_location(_module_name(path), path)
    namespace = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(namespace)
    return namespace


def _module_classes(namespace: Any) -> list[str]:
    return sorted(k for k, v in vars(namespace).items()
                  if inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == namespace.__name__)


def _failure(exc: Exception, path: Path, doing: str) -> ImportFailure:
    if isinstance(exc, ImportFailure):
        return exc
    if isinstance(exc, SyntaxError):
        return ImportFailure(f"{path.name}:{exc.lineno}: the file is not valid Python: {exc.msg}")
    where = user_line(exc, path) or path.name
    return ImportFailure(f"{where}: {doing} failed: {_describe(exc)}")


def load_source(text: str) -> Source:
    """Run FILE.py and build NAME(); ImportFailure says what went wrong and where."""
    path, name = split_source(text)
    if not path.is_file():
        raise ImportFailure(f"source {path}: no such file")
    module_name = _module_name(path)
    try:
        with _beside(path):
            namespace = _execute(path)
            factory = getattr(namespace, name, None)
            if factory is None:
                found = _module_classes(namespace)
                raise ImportFailure(f"{path.name} has no {name!r}" + (f" (its nn.Module classes: {', '.join(found)})"
                                                                       if found else ""))
            if not callable(factory):
                raise ImportFailure(f"{path.name}: {name} is neither an nn.Module class nor a function")
            _record_arguments(namespace, module_name)
            built = factory()
    except Exception as exc:  # noqa: BLE001 -- any error in the user's file is theirs to fix
        raise _failure(exc, path, f"running the file and building {name}()") from None
    if not isinstance(built, nn.Module):
        raise ImportFailure(f"{path.name}: {name}() gave a {type(built).__name__}, not an nn.Module; name the "
                            "module class, or a function that returns the module")
    return Source(built.eval(), path, name, namespace)


ARGUMENTS = "_layerloom_arguments"


def _record_arguments(namespace: Any, module_name: str) -> None:
    """Have each module class of the file note the arguments it was built with (defaults filled),
    so that block parameters take the names the user gave them (`planes`, `stride`)."""
    for value in list(vars(namespace).values()):
        if inspect.isclass(value) and issubclass(value, nn.Module) and value.__module__ == module_name \
                and "__init__" in vars(value):
            value.__init__ = _recording(value.__init__)


def _recording(init):
    signature = inspect.signature(init)

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return
        bound.apply_defaults()
        defaults = {k: p.default for k, p in signature.parameters.items() if p.default is not p.empty}
        self.__dict__[ARGUMENTS] = ({k: v for k, v in list(bound.arguments.items())[1:]}, defaults)

    return __init__


def parse_shape(text: str) -> tuple[tuple[int, ...], str]:
    """`3,224,224` -> ((3, 224, 224), "float32"); `16:int64` -> ((16,), "int64")."""
    body, _, dtype = text.partition(":")
    dtype = dtype or "float32"
    if dtype not in DTYPES:
        raise ImportFailure(f"--input-shape {text}: the element type must be float32 or int64, not {dtype!r}")
    try:
        shape = tuple(int(part) for part in body.split(","))
    except ValueError:
        raise ImportFailure(f"--input-shape {text}: expected sizes separated by commas, batch left out "
                            "(e.g. 3,224,224 or 16:int64)") from None
    if not shape or any(n < 1 for n in shape):
        raise ImportFailure(f"--input-shape {text}: each size must be a whole number >= 1")
    return shape, dtype


def vocabulary(module: nn.Module) -> int:
    """The largest token id every embedding takes, plus one (token inputs are drawn below it)."""
    sizes = [m.num_embeddings for m in module.modules() if isinstance(m, nn.Embedding)]
    return min(sizes) if sizes else 2


def example_inputs(source: Source, shapes: list[str] | None) -> list[tuple[tuple[int, ...], str]]:
    """(shape without batch, dtype) per forward argument: from --input-shape, else from the file's
    `example_inputs()`."""
    if shapes:
        return [parse_shape(s) for s in shapes]
    make = getattr(source.namespace, "example_inputs", None)
    if not callable(make):
        raise ImportFailure(f"give the input shapes: --input-shape S per forward argument (e.g. 3,224,224, or "
                            f"16:int64 for token ids), or define example_inputs() in {source.path.name}")
    return _specs_from(make, source.path)


def _specs_from(make, path: Path) -> list[tuple[tuple[int, ...], str]]:
    try:
        made = make()
    except Exception as exc:  # noqa: BLE001
        where = user_line(exc, path) or path.name
        raise ImportFailure(f"{where}: example_inputs() failed: {_describe(exc)}") from None
    made = made if isinstance(made, (tuple, list)) else (made,)
    found = []
    for i, tensor in enumerate(made):
        if not isinstance(tensor, torch.Tensor) or tensor.dim() < 1:
            raise ImportFailure(f"{path.name}: example_inputs() item {i} is not a batched tensor")
        dtype = "int64" if not tensor.is_floating_point() else "float32"
        found.append((tuple(tensor.shape[1:]), dtype))
    return found


def shape_text(spec: tuple[tuple[int, ...], str]) -> str:
    """The --input-shape form of a spec: ((3, 32, 32), "float32") -> `3,32,32`; token ids `16:int64`."""
    shape, dtype = spec
    return ",".join(str(n) for n in shape) + ("" if dtype == "float32" else f":{dtype}")


@dataclass
class Outline:
    """What a file offers to import, for the window's import dialog: its nn.Module classes and its
    functions (any may build the model), and the input shapes its `example_inputs()` gives."""

    names: list[str]           # in the file's order: its module classes, then its functions
    classes: int               # how many of `names` are classes (the last of them is usually the model)
    shapes: list[str] | None


def outline(path: Path) -> Outline:
    """Run the file and list what it offers; ImportFailure names the line where running it fails."""
    path = Path(path)
    if path.suffix != ".py" or not path.is_file():
        raise ImportFailure(f"source {path}: " + ("no such file" if not path.is_file() else "not a Python file"))
    try:
        with _beside(path):
            namespace = _execute(path)
            own = {k: v for k, v in vars(namespace).items()
                   if getattr(v, "__module__", None) == namespace.__name__ and not k.startswith("_")}
            classes = [k for k, v in own.items() if inspect.isclass(v) and issubclass(v, nn.Module)]
            functions = [k for k, v in own.items() if inspect.isfunction(v) and k != "example_inputs"]
            make = getattr(namespace, "example_inputs", None)
            specs = _specs_from(make, path) if callable(make) else None
    except Exception as exc:  # noqa: BLE001 -- any error in the user's file is theirs to fix
        raise _failure(exc, path, "running the file") from None
    return Outline(classes + functions, len(classes),
                   [shape_text(s) for s in specs] if specs is not None else None)


def make_inputs(specs: list[tuple[tuple[int, ...], str]], batch: int, vocab: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    tensors = []
    for shape, dtype in specs:
        if dtype == "int64":
            tensors.append(torch.randint(0, vocab, (batch, *shape), generator=generator))
        else:
            tensors.append(torch.randn((batch, *shape), generator=generator))
    return tuple(tensors)
