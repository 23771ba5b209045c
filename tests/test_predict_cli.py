"""`python main.py predict`: a trained run on one sample, the `--json` contract (DESIGN §4), and
exit 1 with a message naming what does not fit (never a traceback) for every bad input."""
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import main
from engine.data import prepare_data
from graph.analysis import analyse
from graph.project import load, save
from tests.conftest import EXAMPLES

torch.set_num_threads(1)


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main.main([*map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """The spiral example trained for 2 epochs: (design file, run folder)."""
    folder = tmp_path_factory.mktemp("spiral")
    design = folder / "spiral.loom"
    shutil.copy(EXAMPLES / "spiral_mlp.loom", design)
    assert main.main(["train", str(design), "--epochs", "2", "--out", str(folder / "run"), "--quiet"]) == 0
    return design, folder / "run"


def predict_json(capsys, design, *args) -> dict:
    code, out, err = cli(capsys, "predict", design, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_sample_zero_prints_the_probabilities_and_the_class(capsys, trained):
    design, run = trained
    code, out, err = cli(capsys, "predict", design, "--run", run, "--sample", 0)
    assert code == 0, err
    assert "validation sample 0 of" in out and "y: class" in out and "arm 0" in out
    assert "random weights" not in out


def test_json_follows_the_contract(capsys, trained):
    design, run = trained
    doc = predict_json(capsys, design, "--run", run, "--sample", 0)
    assert doc["input"]["sample"] == 0 and doc["input"]["split"] == "validation"
    y = doc["outputs"]["y"]
    assert len(y["probabilities"]) == 3 and math.isclose(sum(y["probabilities"]), 1.0, abs_tol=1e-4)
    assert y["predicted"] == int(np.argmax(y["probabilities"]))
    assert "trace" not in doc and "mean" not in y
    # the same sample as training's validation split
    p = load(design)
    val = prepare_data(p.data, p.graph, analyse(p.graph), design.parent).val
    assert doc["input"]["target"]["y"] == int(val.targets[0][0])

    doc = predict_json(capsys, design, "--run", run, "--sample", 4, "--mc-samples", 5, "--trace")
    y = doc["outputs"]["y"]
    assert {"mean", "std", "entropy", "mutual_information", "note"} <= set(y)
    assert y["std"] == [0.0, 0.0, 0.0] and y["mutual_information"] == 0.0  # the spiral has no dropout
    assert y["mean"] == pytest.approx(y["probabilities"], abs=1e-5)
    assert y["entropy"] == pytest.approx(-sum(q * math.log(q) for q in y["probabilities"]), abs=1e-4)
    assert "no dropout" in y["note"] and "no dropout" in doc["note"]
    assert list(doc["trace"]) == ["x", "fc1", "act1", "fc2", "act2", "fc3", "y"]
    for row in doc["trace"].values():
        assert set(row) == {"shape", "mean", "std", "min", "max"}
    assert doc["trace"]["fc1"]["shape"] == [64] and doc["trace"]["y"]["shape"] == [3]


def test_mc_samples_with_dropout_spread(capsys, tmp_path):
    doc = json.loads((EXAMPLES / "spiral_mlp.loom").read_text())
    nodes = doc["graph"]["nodes"]
    nodes.insert(3, {"id": "drop", "type": "Dropout", "params": {"p": 0.3}})
    doc["graph"]["edges"] = [e for e in doc["graph"]["edges"] if e["from"] != "act1"] + [
        {"from": "act1", "to": "drop"}, {"from": "drop", "to": "fc2"}]
    design = tmp_path / "dropout.loom"
    design.write_text(json.dumps(doc))
    code, out, err = cli(capsys, "predict", design, "--mc-samples", 20)
    assert code == 0, err
    assert "20 MC passes" in out and "random weights" in out and "mutual information" in out
    y = predict_json(capsys, design, "--mc-samples", 20)["outputs"]["y"]
    assert max(y["std"]) > 0 and y["mutual_information"] > 0 and "note" not in y


def test_input_npy_and_csv_row(capsys, trained, tmp_path):
    design, run = trained
    np.save(tmp_path / "point.npy", np.array([0.5, -0.25], dtype=np.float32))
    a = predict_json(capsys, design, "--run", run, "--input", tmp_path / "point.npy")
    assert a["input"] == {"file": str(tmp_path / "point.npy")}
    (tmp_path / "point.csv").write_text("x0,x1\n0.5,-0.25\n")
    b = predict_json(capsys, design, "--run", run, "--input", tmp_path / "point.csv")
    assert a["outputs"] == b["outputs"]
    np.save(tmp_path / "batch1.npy", np.array([[0.5, -0.25]]))  # a batch of one, float64
    c = predict_json(capsys, design, "--run", run, "--input", tmp_path / "batch1.npy")
    assert c["outputs"] == a["outputs"]


def test_an_image_input(capsys, tmp_path):
    from tests.engine.test_data_files import png_of  # the project's own PNG writer for tests

    design = tmp_path / "digits.loom"
    shutil.copy(EXAMPLES / "digits_cnn.loom", design)
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)  # colour, twice the size
    (tmp_path / "digit.png").write_bytes(png_of(rgb))
    doc = predict_json(capsys, design, "--input", tmp_path / "digit.png", "--trace")
    assert len(doc["outputs"]["digit"]["probabilities"]) == 10 and doc["trace"]["image"]["shape"] == [1, 8, 8]
    assert 0.0 <= doc["trace"]["image"]["min"] and doc["trace"]["image"]["max"] <= 1.0


@pytest.mark.parametrize("make, args, message", [
    (lambda d: d / "wide.npy", ("--input",), "holds (3) values, but Input 'x' takes (2)"),
    (lambda d: d / "text.npy", ("--input",), "holds <U3 values"),
    (lambda d: d / "garbage.npy", ("--input",), "not a readable .npy array"),
    (lambda d: d / "rows.csv", ("--input",), "holds 2 rows"),
    (lambda d: d / "word.csv", ("--input",), "'abc' is not a number"),
    (lambda d: d / "missing.npy", ("--input",), "there is no such file"),
    (lambda d: d / "notes.docx", ("--input",), "not a .npy, .csv or image file"),
    (lambda d: d / "pic.png", ("--input",), "Input 'x' takes (2), not images"),
    (lambda d: d / "nan.npy", ("--input",), "NaN"),
    (lambda d: None, ("--sample", "100000"), "--sample 100000: the validation split has 600 samples"),
])
def test_bad_input_names_what_does_not_fit(capsys, trained, tmp_path, make, args, message):
    design, run = trained
    np.save(tmp_path / "wide.npy", np.zeros(3, dtype=np.float32))
    np.save(tmp_path / "text.npy", np.array(["abc", "def"]))
    np.save(tmp_path / "nan.npy", np.array([np.nan, 1.0]))
    (tmp_path / "garbage.npy").write_bytes(b"not numpy at all")
    (tmp_path / "rows.csv").write_text("1,2\n3,4\n")
    (tmp_path / "word.csv").write_text("1,abc\n")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    (tmp_path / "pic.png").write_bytes((EXAMPLES.parent.parent / "docs" / "screenshot-designer.png").read_bytes())
    path = make(tmp_path)
    code, out, err = cli(capsys, "predict", design, "--run", run, *args, *([path] if path else []))
    assert code == 1 and out == ""
    assert message in err, err


def test_a_run_of_another_design_is_refused(capsys, trained, tmp_path):
    design, run = trained
    doc = json.loads(design.read_text())
    for node in doc["graph"]["nodes"]:
        if node["id"] == "act2":
            node["type"] = "Tanh"
    other = tmp_path / "other.loom"
    other.write_text(json.dumps(doc))
    code, out, err = cli(capsys, "predict", other, "--run", run)
    assert code == 1 and out == "" and "trained from another design" in err and "self.act2 = nn.ReLU()" in err
    wider = load(EXAMPLES / "sine_regression.loom")
    save(wider, tmp_path / "sine.loom")
    code, _out, err = cli(capsys, "predict", tmp_path / "sine.loom", "--run", run)
    assert code == 1 and "another design" in err


def test_a_renamed_design_is_still_the_same_model(capsys, trained, tmp_path):
    design, run = trained
    doc = json.loads(design.read_text())
    doc["name"] = "My spiral"
    renamed = tmp_path / "renamed.loom"
    renamed.write_text(json.dumps(doc))
    assert predict_json(capsys, renamed, "--run", run)["outputs"]["y"]["predicted"] in (0, 1, 2)


@pytest.mark.parametrize("case", ["missing", "file", "no_record", "no_weights", "bad_weights"])
def test_bad_run_folders(capsys, trained, tmp_path, case):
    design, run = trained
    target = tmp_path / "run"
    if case == "file":
        target.write_text("x")
    elif case != "missing":
        shutil.copytree(run, target)
        if case == "no_record":
            (target / "run.json").unlink()
        elif case == "no_weights":
            (target / "weights.safetensors").unlink()
        elif case == "bad_weights":
            (target / "weights.safetensors").write_bytes(b"\x00" * 20)
    code, _out, err = cli(capsys, "predict", design, "--run", target)
    assert code == 1 and err.startswith("error: ") and str(target) in err


def test_bad_options(capsys, trained):
    design, run = trained
    code, out, err = cli(capsys, "predict", design, "--run", run, "--mc-samples", 0)
    assert code == 1 and out == "" and "--mc-samples must be 1 or more" in err
    code, _out, err = cli(capsys, "predict", design.parent / "nothing.loom")
    assert code == 1 and "error:" in err
