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
    ("model.pt2", [], ".pt2"),
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


def test_a_torch_export_program_is_refused_saying_what_it_holds_and_what_works(tmp_path):
    """DESIGN §4 names .pt2 as a source; reading layers back from ATen operations is not done yet
    (docs/import.md), so a program is refused with what it holds and the way that works, and a .pt2
    that is not a program (or a garbled one) with its own message, without torch's logged traceback."""
    import torch
    from torch import nn

    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 3))
    torch.export.save(torch.export.export(model, (torch.randn(2, 1, 8, 8),)), str(tmp_path / "model.pt2"))
    done = _run("import", "model.pt2", "-o", "out.loom", cwd=tmp_path)
    assert done.returncode == 1
    assert "4 ATen operation(s) (conv2d, relu, flatten, linear) from 4 torch.nn module(s)" in done.stderr
    assert "FILE.py:NAME" in done.stderr and "--weights" in done.stderr
    (tmp_path / "junk.pt2").write_text("not a zip")
    done = _run("import", "junk.pt2", "-o", "out.loom", cwd=tmp_path)
    assert done.returncode == 1 and "junk.pt2: not a torch.export program that loads" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out.loom").exists()
