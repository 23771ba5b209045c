"""Data from the user's files: CSV, .npz, MNIST IDX and image folders; and the image decoders.
The tests write their own small files; nothing is downloaded."""
import gzip
import struct
import zlib

import numpy as np
import pytest

from engine.data import DataError
from engine.data.files import read_idx
from engine.data.images import decode_png, decode_pnm, read_image, to_channels
from tests.engine.test_data_fit import graph_doc, mlp_doc, prepare, project


# -- a PNG encoder with every filter type, for the decoder's tests ------------------------------
def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filter_row(kind: int, row: bytes, prior: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(row):
        left = row[i - bpp] if i >= bpp else 0
        up = prior[i]
        corner = prior[i - bpp] if i >= bpp else 0
        pred = {0: 0, 1: left, 2: up, 3: (left + up) // 2, 4: _paeth(left, up, corner)}[kind]
        out.append((value - pred) % 256)
    return bytes([kind]) + bytes(out)


def encode_png(rows: list[bytes], width: int, height: int, depth: int, color: int, palette: bytes | None = None,
               channels: int = 1) -> bytes:
    bpp = max(1, channels * depth // 8)
    prior = bytes(len(rows[0]))
    raw = b""
    for y, row in enumerate(rows):
        raw += _filter_row(y % 5, row, prior, bpp)
        prior = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", palette)
    half = len(raw) // 2  # two IDAT chunks, as real encoders write
    return out + chunk(b"IDAT", zlib.compress(raw)[:half]) + chunk(b"IDAT", zlib.compress(raw)[half:]) + \
        chunk(b"IEND", b"")


def png_of(pixels: np.ndarray) -> bytes:
    """uint8 (H, W, C) with C in 1, 2, 3, 4 as an 8-bit PNG."""
    h, w, c = pixels.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    return encode_png([pixels[y].tobytes() for y in range(h)], w, h, 8, color, channels=c)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_8_bit_every_colour_type_and_filter(channels):
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 256, (11, 7, channels), dtype=np.uint8)
    np.testing.assert_array_equal(decode_png(png_of(pixels)), pixels)


def test_png_16_bit_keeps_the_high_byte():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 65536, (5, 6, 3)).astype(">u2")
    data = encode_png([values[y].tobytes() for y in range(5)], 6, 5, 16, 2, channels=3)
    np.testing.assert_array_equal(decode_png(data), (values >> 8).astype(np.uint8))


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_png_low_bit_depth_grey_and_palette(depth):
    rng = np.random.default_rng(depth)
    width, height = 13, 4
    levels = rng.integers(0, 1 << depth, (height, width))
    rows = []
    for row in levels:
        bits = np.unpackbits(row.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:].reshape(-1)
        rows.append(np.packbits(bits).tobytes())
    grey = decode_png(encode_png(rows, width, height, depth, 0))
    np.testing.assert_array_equal(grey[:, :, 0], levels * 255 // ((1 << depth) - 1))
    palette = rng.integers(0, 256, (1 << depth, 3), dtype=np.uint8)
    coloured = decode_png(encode_png(rows, width, height, depth, 3, palette=palette.tobytes()))
    np.testing.assert_array_equal(coloured, palette[levels])


def test_png_refuses_interlacing_and_bad_data():
    data = bytearray(png_of(np.zeros((2, 2, 1), np.uint8)))
    data[8 + 8 + 12] = 1  # the interlace byte of IHDR
    with pytest.raises(DataError, match="interlaced"):
        decode_png(bytes(data))
    with pytest.raises(DataError, match="without image data"):
        decode_png(b"\x89PNG\r\n\x1a\n")


def test_pnm_binary_and_ascii():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    p5 = b"P5\n# a comment\n4 3\n255\n" + grey.tobytes()
    np.testing.assert_array_equal(decode_pnm(p5)[:, :, 0], grey)
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    np.testing.assert_array_equal(decode_pnm(b"P6 4 2 255\n" + rgb.tobytes()), rgb)
    p2 = b"P2\n2 2\n15\n0 15\n5 10\n"
    np.testing.assert_array_equal(decode_pnm(p2)[:, :, 0], [[0, 255], [85, 170]])
    p3 = b"P3 1 1 255 10 20 30"
    np.testing.assert_array_equal(decode_pnm(p3)[0, 0], [10, 20, 30])
    wide = np.array([[0, 65535]], dtype=">u2")
    np.testing.assert_array_equal(decode_pnm(b"P5 2 1 65535\n" + wide.tobytes())[0, :, 0], [0, 255])
    with pytest.raises(DataError, match="truncated"):
        decode_pnm(b"P5 4 4 255\n" + bytes(3))


def test_read_image_names_the_file(tmp_path):
    bad = tmp_path / "cat.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="cat.png"):
        read_image(bad)


def test_channel_conversion():
    rgb = np.array([[[255, 0, 0]]], dtype=np.uint8)
    assert to_channels(rgb, 1)[0, 0, 0] == 76
    np.testing.assert_array_equal(to_channels(np.full((1, 1, 1), 9, np.uint8), 3)[0, 0], [9, 9, 9])
    rgba = np.array([[[1, 2, 3, 4]]], dtype=np.uint8)
    np.testing.assert_array_equal(to_channels(rgba, 3)[0, 0], [1, 2, 3])


# -- CSV ---------------------------------------------------------------------------------------
def write(path, text):
    path.write_text(text)
    return path


def test_csv_classification_maps_text_labels(tmp_path):
    rows = ["a,b,kind"] + [f"{i},{i % 3},{['cat', 'dog', 'emu'][i % 3]}" for i in range(30)]
    write(tmp_path / "pets.csv", "\n".join(rows) + "\n")
    data = prepare(project({"dataset": "csv", "path": "pets.csv", "target": "kind", "validation_split": 0.0}),
                   tmp_path)
    assert data.classes == ["cat", "dog", "emu"]
    labels = data.train.targets[0].tolist()
    assert sorted(set(labels)) == [0, 1, 2]
    assert data.info["features"] == ["a", "b"] and data.info["task"] == "classification"


def test_csv_numeric_labels_sort_as_numbers_and_features_can_be_picked(tmp_path):
    rows = ["x,junk,y,label"] + [f"{i},zz,{-i},{[2, 10, 1][i % 3]}" for i in range(30)]
    write(tmp_path / "d.csv", "\n".join(rows))
    data = prepare(project({"dataset": "csv", "path": "d.csv", "features": ["x", "y"], "target": 3}), tmp_path)
    assert data.classes == ["1", "2", "10"]


def test_csv_errors_name_the_line_and_column(tmp_path):
    write(tmp_path / "d.csv", "a,b,c\n1,2,0\n3,oops,1\n")
    with pytest.raises(DataError) as info:
        prepare(project({"dataset": "csv", "path": "d.csv"}), tmp_path)
    assert "line 3, column 'b': 'oops' is not a number" in str(info.value)
    write(tmp_path / "e.csv", "a,b,c\n1,2\n")
    with pytest.raises(DataError, match="line 2: 2 fields"):
        prepare(project({"dataset": "csv", "path": "e.csv"}), tmp_path)
    with pytest.raises(DataError, match="no column named 'zz'"):
        prepare(project({"dataset": "csv", "path": "d.csv", "target": "zz"}), tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        prepare(project({"dataset": "csv", "path": "missing.csv"}), tmp_path)


def test_csv_regression(tmp_path):
    rows = ["x,y"] + [f"{i / 10},{2 * i / 10 + 1}" for i in range(40)]
    write(tmp_path / "r.csv", "\n".join(rows))
    data = prepare(project({"dataset": "csv", "path": "r.csv", "standardize": False},
                           graph=mlp_doc(inputs=1, classes=1, loss="mse")), tmp_path)
    assert data.targets[0].task == "regression" and data.classes is None
    x, y = data.train.inputs[0], data.train.targets[0]
    np.testing.assert_allclose(y.numpy(), 2 * x.numpy() + 1, rtol=1e-5)


# -- .npz ----------------------------------------------------------------------------------------
def test_npz_named_arrays(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", feats=rng.normal(size=(50, 2)), classes=rng.integers(0, 3, 50))
    data = prepare(project({"dataset": "npz", "path": "d.npz", "inputs": ["feats"], "targets": {"y": "classes"}}),
                   tmp_path)
    assert data.train.inputs[0].dtype.is_floating_point and len(data.train) == 40
    with pytest.raises(DataError, match=r"name the input array\(s\).*arrays: classes, feats"):
        prepare(project({"dataset": "npz", "path": "d.npz"}), tmp_path)
    with pytest.raises(DataError, match="has no array 'nope'"):
        prepare(project({"dataset": "npz", "path": "d.npz", "inputs": "nope", "targets": "classes"}), tmp_path)


def test_npz_never_unpickles(tmp_path):
    objects = np.empty(3, dtype=object)
    objects[:] = [{"a": 1}, None, "x"]
    np.savez(tmp_path / "evil.npz", x=objects, y=np.arange(3))
    with pytest.raises(DataError, match="pickle"):
        prepare(project({"dataset": "npz", "path": "evil.npz"}), tmp_path)


# -- IDX (MNIST format) ----------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def make_mnist(folder, n_train=40, n_test=10, gz=True, size=6):
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            data = idx_bytes(array)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
    return folder


def test_idx_reader(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), array)
    (tmp_path / "b").write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(tmp_path / "b"), array)
    (tmp_path / "c").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 9, 9, 9))
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "c")
    (tmp_path / "d").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="bad magic"):
        read_idx(tmp_path / "d")


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_folder_uses_the_test_files_for_validation(tmp_path, gz):
    make_mnist(tmp_path / "mnist", gz=gz)
    g = graph_doc([("img", "Input", {"shape": [1, 6, 6]}), ("flat", "Flatten", {}),
                   ("fc", "Linear", {"out_features": 10}), ("y", "Output", {})],
                  [("img", "flat"), ("flat", "fc"), ("fc", "y")])
    data = prepare(project({"dataset": "mnist", "path": "mnist"}, graph=g), tmp_path)
    assert len(data.train) == 40 and len(data.val) == 10
    assert float(data.train.inputs[0].max()) <= 1.0
    split = prepare(project({"dataset": "mnist", "path": "mnist", "use_test_set": False}, graph=g), tmp_path)
    assert len(split.train) == 32 and len(split.val) == 8
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        prepare(project({"dataset": "mnist", "path": "nothing"}, graph=g), tmp_path)


# -- image folders -----------------------------------------------------------------------------
def test_image_folder_reads_png_and_pnm_resized_to_the_input(tmp_path):
    root = tmp_path / "pics"
    rng = np.random.default_rng(0)
    for name in ("circle", "square"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
            (root / name / f"{i}.png").write_bytes(png_of(pixels))
        grey = rng.integers(0, 256, (5, 5), dtype=np.uint8)
        (root / name / "extra.pgm").write_bytes(b"P5 5 5 255\n" + grey.tobytes())
        (root / name / "notes.txt").write_text("not an image")
    g = graph_doc([("img", "Input", {"shape": [1, 8, 8]}), ("flat", "Flatten", {}),
                   ("fc", "Linear", {"out_features": 2}), ("y", "Output", {})],
                  [("img", "flat"), ("flat", "fc"), ("fc", "y")])
    data = prepare(project({"dataset": "image_folder", "path": "pics", "validation_split": 0.0}, graph=g), tmp_path)
    assert data.classes == ["circle", "square"] and len(data.train) == 8
    x = data.train.inputs[0]
    assert x.shape[1:] == (1, 8, 8) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert data.info["skipped_files"] == 2


def test_image_folder_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no subfolders"):
        prepare(project({"dataset": "image_folder", "path": "empty"}), tmp_path)
    (tmp_path / "empty" / "a").mkdir()
    with pytest.raises(DataError, match="no images"):
        prepare(project({"dataset": "image_folder", "path": "empty"}), tmp_path)
