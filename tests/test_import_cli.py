"""`python main.py import` as a user runs it: files written on success (the weights named in
training.initial_weights, and the design trains from them), exit 1 with a message and nothing
written on failure, never a traceback."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "tests" / "engine" / "import_models"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=240, check=False)


def test_import_writes_the_design_and_its_weights(tmp_path):
    done = _run("import", f"{MODELS / 'lstm_tagger.py'}:LSTMTagger", "--input-shape", "9:int64", "-o",
                "tagger.loom", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote tagger.loom" in done.stdout and "wrote tagger.safetensors" in done.stdout
    doc = json.loads((tmp_path / "tagger.loom").read_text())
    assert doc["training"]["initial_weights"] == "tagger.safetensors"
    assert [n["type"] for n in doc["graph"]["nodes"]] == ["Input", "Embedding", "LSTM", "Linear", "LogSoftmax",
                                                           "Output"]
    check = _run("check", "tagger.loom", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    exported = _run("export", "tagger.loom", "-o", "tagger.py", "--weights", "tagger.safetensors", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr


@pytest.mark.parametrize(("source", "extra", "needle"), [
    ("refused.py:DataDependent", ["--input-shape", "4"], "refused.py:12"),
    ("refused.py:Unsupported", ["--input-shape", "1,5,5,5"], "Hardshrink"),
    ("missing.py:Model", [], "no such file"),
    ("model.pt2", [], "model.pt2: no such file"),
])
def test_a_refused_import_exits_1_with_a_message_and_writes_nothing(tmp_path, source, extra, needle):
    done = _run("import", str(MODELS / source) if ".py" in source else source, *extra, "-o", "out.loom",
                cwd=tmp_path)
    assert done.returncode == 1
    assert needle in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "out.loom").exists() and not (tmp_path / "out.safetensors").exists()


def test_output_must_be_a_loom_file_that_is_not_a_folder(tmp_path):
    done = _run("import", f"{MODELS / 'residual_cnn.py'}:ResidualCNN", "-o", "out.py", cwd=tmp_path)
    assert done.returncode == 1 and ".loom" in done.stderr
    assert not (tmp_path / "out.py").exists()
    (tmp_path / "dir.loom").mkdir()
    done = _run("import", f"{MODELS / 'residual_cnn.py'}:ResidualCNN", "-o", "dir.loom", cwd=tmp_path)
    assert done.returncode == 1 and "is a folder" in done.stderr and "Traceback" not in done.stderr


def test_a_torch_export_program_imports_and_a_file_that_is_not_one_is_refused(tmp_path):
    """DESIGN §4: a .pt2 program comes in as a design with its weights, as a FILE.py:NAME does; a .pt2
    that is not a program (or a garbled one) is refused with its own message, without torch's logged
    traceback."""
    import torch
    from torch import nn

    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(256, 3)).eval()
    torch.export.save(torch.export.export(model, (torch.randn(2, 1, 8, 8),)), str(tmp_path / "model.pt2"))
    done = _run("import", "model.pt2", "-o", "out.loom", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote out.loom" in done.stdout and "wrote out.safetensors" in done.stdout
    doc = json.loads((tmp_path / "out.loom").read_text())
    assert [n["type"] for n in doc["graph"]["nodes"]] == ["Input", "Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear",
                                                           "Output"]
    assert doc["training"]["initial_weights"] == "out.safetensors"
    (tmp_path / "junk.pt2").write_text("not a zip")
    done = _run("import", "junk.pt2", "-o", "junk.loom", cwd=tmp_path)
    assert done.returncode == 1 and "junk.pt2: not a torch.export program that loads" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "junk.loom").exists()
