"""What prediction is fed: a validation sample of the design's data set, or one input file.

`validation_sample(prepared, k)` is sample k (from 0) of the validation split that training used
(engine.data.prepare_data with the project's data section gives the same split). `read_input`
reads `.npy`, an image (PNG/PGM/PPM, more with Pillow: engine.data.images) or one CSV row and
fits it to the Input node as the data sets do: pixels scaled to 0..1 and resized, values
standardized with the training set's statistics when the data section says `standardize`.
Anything that does not fit raises PredictError naming the file, the Input and both shapes.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.images import IMAGE_SUFFIXES, image_suffixes, load_image
from engine.data.prepare import Prepared
from engine.data.registry import DataError
from engine.inference.predictor import PredictError
from engine.inference.stats import OutputKind

MAX_INPUT_BYTES = 256 * 1024 * 1024


def output_kinds(prepared: Prepared) -> dict[str, OutputKind]:
    """How to read each trained Output, as the data set's targets decided in training."""
    classes = tuple(prepared.classes) if prepared.classes else None
    return {t.node: OutputKind(t.node, t.loss, tuple(t.shape), t.class_dim,
                               classes if t.task == "classification" else None) for t in prepared.targets}


def validation_sample(prepared: Prepared, k: int) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    """Sample k of the validation split: one (1, ...) tensor per Input, and its target per trained Output."""
    count = len(prepared.val) if prepared.val is not None else 0
    if count == 0:
        raise PredictError("--sample: the data set has no validation samples; set data.validation_split above 0, "
                           "or give a file with --input")
    if not 0 <= k < count:
        raise PredictError(f"--sample {k}: the validation split has {count} samples, numbered 0 to {count - 1}")
    inputs = [t[k:k + 1] for t in prepared.val.inputs]
    targets = {spec.node: t[k] for spec, t in zip(prepared.targets, prepared.val.targets)}
    return inputs, targets


def read_input(path: str | Path, spec: tuple[str, tuple[int, ...], str], prepared: Prepared | None = None,
               vocabulary: int | None = None) -> torch.Tensor:
    """The file at `path` as a batch of one for the Input `spec` = (id, shape, dtype); `vocabulary`:
    how many token ids the Embeddings an int64 Input feeds know (Predictor.vocabulary)."""
    path = Path(path)
    node, shape, dtype = spec
    if not path.is_file():
        raise PredictError(f"--input {path}: there is no such file" if not path.exists()
                           else f"--input {path}: not a file")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise PredictError(f"--input {path}: {path.stat().st_size:,} bytes is too large for one sample")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = _read_npy(path)
    elif suffix in (".csv", ".txt"):
        array = _read_csv_row(path)
    elif suffix in IMAGE_SUFFIXES:
        array = _read_image(path, node, shape)
    else:
        raise PredictError(f"--input {path}: not a .npy, .csv or image file ({', '.join(image_suffixes())})")
    array = _fit(array, path, node, shape, dtype)
    if dtype == "float32" and prepared is not None:
        array = _standardized(array, prepared)
    elif vocabulary is not None and array.size and array.max() >= vocabulary:
        raise PredictError(f"--input {path}: holds token id {int(array.max())}, but the Embedding Input '{node}' "
                           f"feeds knows ids 0 to {vocabulary - 1}")
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor.to(torch.int64 if dtype == "int64" else torch.float32)[None]


def _dims(shape: tuple[int, ...]) -> str:
    """A sample's shape as written in messages here: the file's own array, no batch dimension."""
    return "(" + ", ".join(map(str, shape)) + ")"


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise PredictError(f"--input {path}: not a readable .npy array ({exc})") from None


def _read_csv_row(path: Path) -> np.ndarray:
    """The one row of numbers in a CSV file; a first line without any number is a header."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PredictError(f"--input {path}: not a readable text file ({exc})") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if rows and all(_number(c) is None for c in rows[0]):
        rows = rows[1:]
    if len(rows) != 1:
        raise PredictError(f"--input {path}: holds {len(rows)} rows of values; predict takes one sample, one row")
    values = _numbers(rows[0])
    if values is None:
        bad = next(c for c in rows[0] if _number(c) is None)
        raise PredictError(f"--input {path}: {bad.strip()!r} is not a number")
    return np.asarray(values, dtype=np.float64)


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _numbers(row: list[str]) -> list[float] | None:
    values = [_number(c) for c in row if c.strip()]
    return None if any(v is None for v in values) else values


def _read_image(path: Path, node: str, shape: tuple[int, ...]) -> np.ndarray:
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise PredictError(f"--input {path}: an image, but Input '{node}' takes {_dims(shape)}, not images "
                           "(channels, height, width) with 1 or 3 channels")
    try:  # exactly as an image folder's images are read for training
        pixels = load_image(path, shape[0], shape[1:])
    except DataError as exc:
        raise PredictError(f"--input {exc}") from None
    return pixels.astype(np.float32) * np.float32(1 / 255)


def _fit(array: np.ndarray, path: Path, node: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """The array checked against the Input: its shape, or a batch of one of it; its element type."""
    if array.dtype.kind not in "biuf":
        raise PredictError(f"--input {path}: holds {array.dtype} values; Input '{node}' takes "
                           f"{'int64 token ids' if dtype == 'int64' else 'numbers'}")
    sample = tuple(array.shape)
    if sample == (1, *shape):
        array = array[0]
    elif sample != shape:
        if array.ndim <= 1 and array.size == math.prod(shape):
            array = array.reshape(shape)
        else:
            raise PredictError(f"--input {path}: holds {_dims(sample)} values, but Input '{node}' takes "
                               f"{_dims(shape)} ({math.prod(shape)} values) per sample")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise PredictError(f"--input {path}: holds NaN or infinite values")
    if dtype == "int64":
        if array.dtype.kind == "f" and not np.all(array == np.round(array)):
            raise PredictError(f"--input {path}: holds fractional values, but Input '{node}' takes int64 token ids")
        if array.size and array.min() < 0:
            raise PredictError(f"--input {path}: holds {int(array.min())}, but token ids start at 0")
    return array


def _standardized(array: np.ndarray, prepared: Prepared) -> np.ndarray:
    stats: dict[str, Any] = prepared.info.get("standardize", {}).get("input0") or {}
    if not stats:
        return array
    mean = np.asarray(stats["mean"], dtype=np.float64).reshape(array.shape)
    std = np.asarray(stats["std"], dtype=np.float64).reshape(array.shape)
    return ((array - mean) / std).astype(np.float32)
