"""Data from the user's files: CSV, .npz, MNIST IDX and image folders (read with Pillow).
The tests write their own small files; nothing is downloaded."""
import gzip
import io
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data import BatchLoader, DataError
from engine.data.files import read_idx
from engine.data.images import load_image, load_images
from engine.data.prepare import prepare_data
from graph.analysis import analyse
from tests.engine.test_data_fit import graph_doc, mlp_doc, prepare, project


# -- images, written with Pillow ----------------------------------------------------------------
def png_of(pixels: np.ndarray) -> bytes:
    """uint8 (H, W, C) with C in 1, 2, 3, 4 as a PNG (Pillow's encoder)."""
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_every_png_colour_type_read_as_grey_or_rgb(tmp_path, channels):
    pixels = np.random.default_rng(channels).integers(0, 256, (11, 7, channels), dtype=np.uint8)
    (tmp_path / "a.png").write_bytes(png_of(pixels))
    colour = pixels[:, :, :3] if channels >= 3 else pixels[:, :, :1]   # alpha dropped
    np.testing.assert_array_equal(load_image(tmp_path / "a.png", colour.shape[2], None), colour.transpose(2, 0, 1))


def test_netpbm_palette_and_channel_conversion(tmp_path):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (tmp_path / "g.pgm").write_bytes(b"P5\n# a comment\n4 3\n255\n" + grey.tobytes())
    np.testing.assert_array_equal(load_image(tmp_path / "g.pgm", 1, None)[0], grey)
    np.testing.assert_array_equal(load_image(tmp_path / "g.pgm", 3, None), np.stack([grey] * 3))
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    (tmp_path / "c.ppm").write_bytes(b"P6 4 2 255\n" + rgb.tobytes())
    np.testing.assert_array_equal(load_image(tmp_path / "c.ppm", 3, None), rgb.transpose(2, 0, 1))
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE)
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(load_image(tmp_path / "p.png", 3, None),
                                  np.asarray(palette.convert("RGB")).transpose(2, 0, 1))
    (tmp_path / "red.png").write_bytes(png_of(np.array([[[255, 0, 0]]], dtype=np.uint8)))
    assert load_image(tmp_path / "red.png", 1, None)[0, 0, 0] == 76   # ITU-R 601 luma


def test_an_unreadable_image_is_named(tmp_path):
    bad = tmp_path / "cat.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="cat.png"):
        load_image(bad, 3, None)


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


# -- stored dtypes: uint8 pixels stay uint8 for a GPU run --------------------------------------------
def _kept(p, base_dir):
    return prepare_data(p.data, p.graph, analyse(p.graph), base_dir, keep_stored=True)


def test_pixels_stay_uint8_for_a_gpu_run_and_decode_to_the_same_floats(tmp_path):
    make_mnist(tmp_path / "mnist")
    g = graph_doc([("img", "Input", {"shape": [1, 6, 6]}), ("flat", "Flatten", {}),
                   ("fc", "Linear", {"out_features": 10}), ("y", "Output", {})],
                  [("img", "flat"), ("flat", "fc"), ("fc", "y")])
    p = project({"dataset": "mnist", "path": "mnist"}, graph=g)
    floats, kept = prepare(p, tmp_path), _kept(p, tmp_path)
    assert floats.train.inputs[0].dtype == torch.float32 and floats.train.scales == ()
    assert kept.train.inputs[0].dtype == torch.uint8 and kept.train.scales == (1 / 255,) == kept.val.scales
    for ours, theirs in ((kept.train, floats.train), (kept.val, floats.val)):
        torch.testing.assert_close(ours.decoded().inputs[0], theirs.inputs[0])
        torch.testing.assert_close(ours.head(3).decode(ours.inputs)[0][:3], theirs.inputs[0][:3])
    loader = BatchLoader(kept.train, 8, shuffle=False, device=torch.device("cpu"))
    first = next(iter(loader))[0][0]
    assert first.dtype == torch.float32 and torch.equal(first, floats.train.inputs[0][:8])
    # an autoencoder's targets are the scaled images, whether kept or not
    auto = project({"dataset": "mnist", "path": "mnist", "reconstruct": True}, graph=graph_doc(
        [("img", "Input", {"shape": [1, 6, 6]}), ("id", "Identity", {}), ("y", "Output", {"loss": "mse"})],
        [("img", "id"), ("id", "y")]))
    for data in (prepare(auto, tmp_path), _kept(auto, tmp_path)):
        torch.testing.assert_close(data.train.targets[0], floats.train.inputs[0])


def test_npz_uint8_kept_without_scaling(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (20, 4), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=(np.arange(20) % 3))
    p = project({"dataset": "npz", "path": "d.npz", "validation_split": 0.0}, graph=mlp_doc(inputs=4))
    floats, kept = prepare(p, tmp_path), _kept(p, tmp_path)
    assert kept.train.inputs[0].dtype == torch.uint8 and kept.train.scales == (1.0,)
    torch.testing.assert_close(kept.train.decoded().inputs[0], floats.train.inputs[0])
    assert float(floats.train.inputs[0].max()) > 1  # the values themselves, as before


def test_image_folder_decoded_by_pillow_in_threads_equals_one_by_one(tmp_path):
    root = tmp_path / "pics"
    rng = np.random.default_rng(1)
    files = []
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(6):
            path = root / name / f"{i}.png"
            path.write_bytes(png_of(rng.integers(0, 256, (20, 14, 3), dtype=np.uint8)))
            files.append(path)
    g = graph_doc([("img", "Input", {"shape": [3, 8, 8]}), ("flat", "Flatten", {}),
                   ("fc", "Linear", {"out_features": 2}), ("y", "Output", {})],
                  [("img", "flat"), ("flat", "fc"), ("fc", "y")])
    p = project({"dataset": "image_folder", "path": "pics", "validation_split": 0.0}, graph=g)
    one_by_one = np.stack([load_image(f, 3, (8, 8)) for f in files])
    np.testing.assert_array_equal(load_images(files, 3, (8, 8)), one_by_one)
    kept, floats = _kept(p, tmp_path), prepare(p, tmp_path)
    assert kept.train.inputs[0].dtype == torch.uint8 and kept.train.inputs[0].shape == (12, 3, 8, 8)
    torch.testing.assert_close(kept.train.decoded().inputs[0], floats.train.inputs[0])
    assert torch.equal(kept.train.targets[0], floats.train.targets[0])
