"""Data sets read from the user's files: CSV, NumPy .npz, MNIST-format IDX files, image folders.

Nothing here executes code from a data file: CSV is parsed with `csv`, .npz is read with
`np.load(allow_pickle=False)`, IDX files are decoded byte by byte and images by Pillow.
Relative paths are taken from the folder of the .loom file.
"""
from __future__ import annotations

import csv
import gzip
import math
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.images import image_suffixes, load_image, load_images
from engine.data.registry import Context, DataError, DatasetType, Raw, register
from engine.memory import available_bytes
from graph.footprint import size_text
from graph.params import Param

FLOAT32_MAX = float(np.finfo(np.float32).max)
CSV_BLOCK_BYTES = 4 << 20   # values are parsed into float32 blocks of this size
CSV_COPIES = 4              # the parsed values, the split, standardisation and the tensors
LABEL_BYTES = 64            # a class label kept as text until the classes are known

_PATH = Param("path", "str", None, "the file or folder, relative to the .loom file")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def class_mapping(values: list[Any]) -> tuple[dict[Any, int], list[str]]:
    """Class labels (text or numbers) to 0..K-1, in numeric order when all are numbers, else by text."""
    unique = set(values)
    numeric = all(_number(str(v)) is not None for v in unique)
    ordered = sorted(unique, key=(lambda v: float(v)) if numeric else str)
    return {v: i for i, v in enumerate(ordered)}, [str(v) for v in ordered]


# -- CSV -------------------------------------------------------------------------------------
def _column(name: Any, header: list[str], key: str) -> int:
    if isinstance(name, int) and not isinstance(name, bool):
        if not -len(header) <= name < len(header):
            raise DataError(f"{key}: column {name} is out of range (the file has {len(header)} columns)")
        return name % len(header)
    if isinstance(name, str):
        if name not in header:
            raise DataError(f"{key}: no column named {name!r} (columns: {', '.join(header)})")
        return header.index(name)
    raise DataError(f"{key}: {name!r} is not a column name or number")


class _Counting:
    """A text file's lines, counting the characters read so far: how far into the file we are."""

    def __init__(self, handle):
        self.handle, self.read = handle, 0

    def __iter__(self):
        for line in self.handle:
            self.read += len(line)
            yield line


def _filled(row: list[str]) -> bool:
    return any(c.strip() for c in row)


def _value(text: str, path: Path, line: int, column: str, target: bool) -> float:
    value = _number(text.strip())
    if value is None:
        if target:
            raise DataError(f"{path}, line {line}, column {column!r}: {text!r} is not a number, but a regression "
                            "target must be (set data.task to classification for class labels)")
        raise DataError(f"{path}, line {line}, column {column!r}: {text!r} is not a number; features must be "
                        "numbers (pick columns with data.features)")
    if abs(value) > FLOAT32_MAX:
        raise DataError(f"{path}, line {line}, column {column!r}: {text.strip()} is beyond the float32 range "
                        f"(±{FLOAT32_MAX:.3g}) that training computes in; scale the column down (or leave it out "
                        "with data.features)")
    return value


def _check_room(path: Path, size: int, lines: _Counting, cells: int, labels: int, columns: int) -> None:
    """Refuse a file whose values, projected from the part read so far, cannot fit in memory."""
    available = available_bytes()
    if available is None or not lines.read:
        return
    scale = size / lines.read
    need = (cells * 4 + labels * LABEL_BYTES) * scale * CSV_COPIES
    if need > available:
        rows = int((cells // max(columns, 1) or labels) * scale)
        raise DataError(f"data.path: {path} is {size_text(size)}: about {rows:,} rows of {columns:,} numeric "
                        f"column(s), which need about {size_text(need)} of memory to train on, more than the "
                        f"{size_text(available)} available; use fewer columns (data.features) or fewer rows")


def _csv(o: dict[str, Any], ctx: Context) -> Raw:
    """Rows are parsed one at a time into float32 blocks, never held as text: the memory a file
    needs is projected as it is read and refused before the bulk of it is allocated."""
    path = ctx.path(o["path"])
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _read_csv(o, ctx, path, handle)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"data.path: cannot read {path} as CSV ({exc})") from None


def _read_csv(o: dict[str, Any], ctx: Context, path: Path, handle) -> Raw:
    size = os.fstat(handle.fileno()).st_size
    lines = _Counting(handle)
    reader = csv.reader(lines, delimiter=o["delimiter"])
    first = next((r for r in reader if _filled(r)), None)
    if first is None:
        raise DataError(f"data.path: {path} is empty")
    if o["header"]:
        header, pending = [c.strip() for c in first], []
    else:
        header, pending = [str(i) for i in range(len(first))], [(reader.line_num, first)]
    targets = o["target"] if isinstance(o["target"], list) else [o["target"] if o["target"] is not None else -1]
    target_cols = [_column(t, header, "data.target") for t in targets]
    if o["features"] is None:
        feature_cols = [i for i in range(len(header)) if i not in target_cols]
    else:
        if not isinstance(o["features"], list) or not o["features"]:
            raise DataError("data.features: expected a list of column names or numbers")
        feature_cols = [_column(f, header, "data.features") for f in o["features"]]
    task = o["task"] if o["task"] != "auto" else ("classification" if ctx.wants_classes() else "regression")
    if task == "classification" and len(target_cols) != 1:
        raise DataError("data.target: a classification task takes one target column")
    numeric = feature_cols + (target_cols if task == "regression" else [])
    is_target = [False] * len(feature_cols) + [True] * (len(numeric) - len(feature_cols))
    labels: list[str] = []
    block_rows = max(1, CSV_BLOCK_BYTES // (4 * max(len(numeric), 1)))
    blocks: list[np.ndarray] = []
    block, filled, count = np.empty((block_rows, len(numeric)), dtype=np.float32), 0, 0

    def rows():
        yield from pending
        for row in reader:
            if _filled(row):
                yield reader.line_num, row

    for line, row in rows():
        if len(row) != len(header):
            raise DataError(f"{path}, line {line}: {len(row)} fields, but the file has {len(header)} columns")
        if filled == block_rows:
            blocks.append(block)
            _check_room(path, size, lines, len(blocks) * block.size, len(labels), len(numeric))
            block, filled = np.empty_like(block), 0
        block[filled] = [_value(row[c], path, line, header[c], t) for c, t in zip(numeric, is_target)]
        if task == "classification":
            labels.append(row[target_cols[0]].strip())
        filled += 1
        count += 1
    if not count:
        raise DataError(f"data.path: {path} has a header but no rows")
    values = np.concatenate(blocks + [block[:filled]]) if blocks else block[:filled]
    x = values[:, :len(feature_cols)]
    classes = None
    if task == "classification":
        mapping, classes = class_mapping(labels)
        y = np.asarray([mapping[v] for v in labels], dtype=np.int64)
    else:
        y = values[:, len(feature_cols):]
    info = {"features": [header[c] for c in feature_cols], "target": [header[c] for c in target_cols],
            "task": task}
    return Raw([x], [y], classes, info=info)


register(DatasetType(
    "csv", "file", "A CSV file: numeric feature columns and a target column (class labels of any text are "
    "mapped to 0..K-1).",
    "x (features,) float; label 0..K-1 (classification) or (targets,) float (regression)", _csv,
    (_PATH,
     Param("target", "str", None, "target column name or number (default: the last column); a list for "
           "several regression targets", optional=True),
     Param("features", "str", None, "feature columns (default: every other column)", optional=True),
     Param("header", "bool", True, "the first row names the columns"),
     Param("delimiter", "str", ",", "field separator"),
     Param("task", "choice", "auto", "classification, regression, or auto (from the Output's loss)",
           choices=("auto", "classification", "regression")),
     Param("standardize", "bool", True, "scale each feature to mean 0 and standard deviation 1 (training "
           "statistics)")),
))


# -- .npz --------------------------------------------------------------------------------------
def _names(value: Any, key: str, nodes: list[str]) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if isinstance(value, dict):
        missing = [n for n in nodes if n not in value]
        unknown = [k for k in value if k not in nodes]
        if unknown:
            raise DataError(f"{key}: {unknown[0]!r} is not one of the graph's nodes here ({', '.join(nodes)})")
        if missing:
            raise DataError(f"{key}: no array named for node {missing[0]!r}")
        value = [value[n] for n in nodes]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(f"{key}: expected a list of array names, or an object {{node_id: array name}}")
    return value


def _npz(o: dict[str, Any], ctx: Context) -> Raw:
    path = ctx.path(o["path"])
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as exc:
        raise DataError(f"data.path: {path} holds an array that needs pickle (object arrays are refused "
                        f"for safety): {exc}") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"data.path: cannot read {path} as .npz ({exc})") from None
    available = ", ".join(sorted(arrays)) or "none"
    inputs = _names(o["inputs"], "data.inputs", [i.node for i in ctx.inputs])
    targets = _names(o["targets"], "data.targets", [t.node for t in ctx.trained_outputs])
    for default_x, default_y in (("x", "y"), ("X", "y"), ("inputs", "targets"), ("images", "labels")):
        if inputs is None and default_x in arrays:
            inputs = [default_x]
        if targets is None and default_y in arrays and not o["reconstruct"]:
            targets = [default_y]
    if inputs is None:
        raise DataError(f"data.inputs: name the input array(s) of {path} (arrays: {available})")
    if targets is None and not o["reconstruct"]:
        raise DataError(f"data.targets: name the target array(s) of {path} (arrays: {available})")
    out = []
    for key, names in (("data.inputs", inputs), ("data.targets", targets or [])):
        group = []
        for name in names:
            if name not in arrays:
                raise DataError(f"{key}: {path} has no array {name!r} (arrays: {available})")
            array = arrays[name]
            if array.dtype.kind not in "biuf":
                raise DataError(f"{key}: array {name!r} has dtype {array.dtype}; expected numbers")
            if array.ndim == 0:
                raise DataError(f"{key}: array {name!r} is a single value; expected samples along its first axis")
            group.append(array)
        out.append(group)
    sizes = {len(a) for group in out for a in group}
    if len(sizes) > 1:
        raise DataError(f"{path}: the arrays have different numbers of samples ({', '.join(map(str, sorted(sizes)))})")
    return Raw(out[0], out[1], info={"inputs": inputs, "targets": targets or []})


register(DatasetType(
    "npz", "file", "A NumPy .npz archive: named arrays, samples along the first axis (no pickled objects).",
    "whatever the arrays hold; inputs and targets named by data.inputs / data.targets", _npz,
    (_PATH,
     Param("inputs", "str", None, "array name(s) for the Input nodes, in file order, or {node_id: name} "
           "(default: x, X, inputs or images)", optional=True),
     Param("targets", "str", None, "array name(s) for the trained Output nodes (default: y, targets or labels)",
           optional=True),
     Param("standardize", "bool", False, "scale each float input feature to mean 0 and standard deviation 1")),
))


# -- MNIST IDX ---------------------------------------------------------------------------------
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format), raw or gzip-compressed."""
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read the file ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    dims = data[3]
    if len(data) < 4 + 4 * dims:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    count = int(np.prod(shape))
    if len(data) < 4 + 4 * dims + count * dtype.itemsize:
        raise DataError(f"{path}: truncated: the header promises {shape} values")
    return np.frombuffer(data, dtype=dtype, count=count, offset=4 + 4 * dims).reshape(shape)


def _find_idx(folder: Path, prefix: str, kind: str) -> Path | None:
    for stem in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte",
                 f"{prefix}-{kind}.idx{3 if kind == 'images' else 1}-ubyte"):
        for suffix in ("", ".gz"):
            candidate = folder / (stem + suffix)
            if candidate.is_file():
                return candidate
    return None


def _mnist(o: dict[str, Any], ctx: Context) -> Raw:
    folder = ctx.path(o["path"])
    if not folder.is_dir():
        raise DataError(f"data.path: {folder} is not a folder; expected the folder holding "
                        "train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz)")
    sets = {}
    for prefix in ("train", "t10k"):
        images, labels = _find_idx(folder, prefix, "images"), _find_idx(folder, prefix, "labels")
        if images and labels:
            x, y = read_idx(images), read_idx(labels)
            if len(x) != len(y):
                raise DataError(f"{images.name} has {len(x)} images but {labels.name} has {len(y)} labels")
            if x.ndim != 3:
                raise DataError(f"{images.name}: expected images (N, H, W), got {x.shape}")
            sets[prefix] = (x[:, None], y.astype(np.int64))   # pixels 0..255, read as 0..1 (scales)
    if "train" not in sets:
        raise DataError(f"data.path: {folder} has no train-images-idx3-ubyte(.gz) and "
                        "train-labels-idx1-ubyte(.gz) pair")
    x, y = sets["train"]
    classes = [str(i) for i in range(int(max(y.max(), 9)) + 1)]
    val = None
    if o["use_test_set"] and "t10k" in sets:
        vx, vy = sets["t10k"]
        val = ([vx], [vy])
    return Raw([x], [y], classes, val=val, info={"folder": str(folder), "test_set": val is not None},
               scales=[1 / 255])


register(DatasetType(
    "mnist", "file", "MNIST-format IDX files in a folder (MNIST, Fashion-MNIST, KMNIST): train-* and, when "
    "present, t10k-* files, raw or .gz.",
    "x (1, 28, 28) float 0..1; label 0..9", _mnist,
    (_PATH, Param("use_test_set", "bool", True, "validate on the t10k files when present (otherwise split)")),
))


# -- image folder ------------------------------------------------------------------------------
def _image_folder(o: dict[str, Any], ctx: Context) -> Raw:
    folder = ctx.path(o["path"])
    if not folder.is_dir():
        raise DataError(f"data.path: {folder} is not a folder of class subfolders")
    class_dirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        raise DataError(f"data.path: {folder} has no subfolders; put each class's images in its own subfolder")
    spec = ctx.inputs[0] if ctx.inputs else None
    channels, size = o["channels"], o["size"]
    if spec is not None and len(spec.shape) == 3:
        channels = channels or spec.shape[0]
        size = size or list(spec.shape[1:])
    channels = channels or 3
    if channels not in (1, 3):
        raise DataError(f"data.channels: images can be read with 1 (grey) or 3 (RGB) channels, not {channels}")
    suffixes = image_suffixes()
    files, labels, skipped = [], [], 0
    for label, class_dir in enumerate(class_dirs):
        for file in sorted(class_dir.rglob("*")):
            if not file.is_file():
                continue
            if file.suffix.lower() not in suffixes:
                skipped += 1
                continue
            files.append(file)
            labels.append(label)
    if not files:
        raise DataError(f"data.path: no images in the subfolders of {folder} (read: {', '.join(suffixes)})")
    if size is None:
        size = list(load_image(files[0], channels, None).shape[1:])
    info = {"folder": str(folder), "size": list(size), "channels": channels}
    if skipped:
        info["skipped_files"] = skipped
    return Raw([load_images(files, channels, size)], [np.asarray(labels, dtype=np.int64)],
               [d.name for d in class_dirs], info=info, scales=[1 / 255])


register(DatasetType(
    "image_folder", "file", "A folder with one subfolder of images per class (PNG, JPEG, BMP, GIF, TIFF, WebP, "
    "PGM, PPM), read with Pillow; images are resized to the Input's size.",
    "x (channels, H, W) float 0..1; label 0..K-1 (classes in subfolder name order)", _image_folder,
    (_PATH,
     Param("size", "ints", None, "[height, width] to resize to (default: the Input node's)", minimum=1,
           min_len=2, max_len=2, optional=True),
     Param("channels", "int", None, "1 (grey) or 3 (RGB) (default: the Input node's)", minimum=1, maximum=3,
           optional=True)),
))
