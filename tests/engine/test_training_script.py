"""`export FILE --training-script -o train.py` (issue 18 item 3, DESIGN §4): a standalone script that runs
as `python train.py` and under torchrun with 2 processes, writes weights keyed like build_model()'s
state_dict, and reaches what `train` reaches on the same settings."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import main
from graph.project import save
from tests.engine.test_data_fit import project

STDLIB = set(sys.stdlib_module_names)


def _spiral(tmp_path: Path, **training) -> Path:
    p = project({"dataset": "spiral", "samples": 600},
                {"epochs": 8, "batch_size": 32, "learning_rate": 0.02, "schedule": "cosine", **training})
    path = tmp_path / "spiral.loom"
    save(p, path)
    return path


def _export(path: Path, out: Path, capsys) -> str:
    code = main.main(["export", str(path), "--training-script", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-s", *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)


def _last_accuracy(stdout: str) -> float:
    return float(re.findall(r"val accuracy ([\d.]+)%", stdout)[-1]) / 100


@pytest.mark.slow
def test_the_script_trains_alone_to_what_train_reaches(tmp_path, capsys):
    path = _spiral(tmp_path)
    folder = tmp_path / "script"
    folder.mkdir()
    printed = _export(path, folder / "train.py", capsys)
    assert "train.npz" in printed and (folder / "train.npz").is_file()
    # only torch, numpy and the standard library (safetensors imported where installed, inside save())
    tree = ast.parse((folder / "train.py").read_text())
    top = {(n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
           for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert top - STDLIB == {"numpy", "torch"}, top
    alone = _run(["train.py", "--out", "out"], folder)
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.count("epoch ") == 8 and "Traceback" not in alone.stderr
    assert main.main(["train", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    capsys.readouterr()
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert _last_accuracy(alone.stdout) == pytest.approx(run["final"]["val_accuracy"], abs=0.02)
    # the weights load into the exported model as the run's do
    from safetensors.torch import load_file

    weights = load_file(folder / "out" / "weights.safetensors")
    assert set(weights) == set(load_file(tmp_path / "run" / "weights.safetensors"))


@pytest.mark.slow
def test_the_script_runs_under_torchrun_on_two_processes(tmp_path, capsys):
    path = _spiral(tmp_path)
    _export(path, tmp_path / "train.py", capsys)
    alone = _run(["train.py", "--out", "one", "--device", "cpu"], tmp_path)
    two = _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "train.py",
                "--out", "two", "--device", "cpu"], tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("epoch 8/8") == 1                        # rank 0 alone prints
    assert _last_accuracy(two.stdout) == pytest.approx(_last_accuracy(alone.stdout), abs=0.02)
    assert (tmp_path / "two" / "weights.safetensors").is_file()


def test_every_setting_the_script_writes_out_runs(tmp_path, capsys):
    """Early stopping, a plateau schedule, clipping, L1, label smoothing, weight decay, bf16 autocast and a
    frozen layer: the script compiles, passes ruff's default rules and trains."""
    path = _spiral(tmp_path, epochs=3, optimizer="sgd", momentum=0.9, nesterov=True, weight_decay=1e-4,
                   grad_clip_norm=1.0, l1_penalty=1e-5, label_smoothing=0.1, mixed_precision="bf16",
                   schedule={"type": "plateau", "patience": 0}, early_stopping={"patience": 1})
    doc = json.loads(path.read_text())
    doc["graph"]["nodes"][1]["trainable"] = False
    path.write_text(json.dumps(doc))
    _export(path, tmp_path / "train.py", capsys)
    text = (tmp_path / "train.py").read_text()
    for expected in ("nesterov=True", "GRAD_CLIP_NORM = 1.0", "L1_PENALTY", "label_smoothing=0.1", "PATIENCE = 1",
                     "ReduceLROnPlateau", "torch.autocast", "FROZEN = ["):
        assert expected in text, expected
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "train.py"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout
    done = _run(["train.py", "--epochs", "2"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "epoch 2/2" in done.stdout or "early stopping" in done.stdout


def test_mistakes_exit_1_with_a_message(tmp_path, capsys):
    path = _spiral(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "train.npz").write_bytes(b"the user's own file")
    for args, message in (
            (["-o", str(tmp_path / "mine" / "train.py")], "LayerLoom did not write it"),
            (["-o", str(tmp_path / "t.py"), "--weights", "w.pt"], "leave out --weights"),
            (["-o", str(tmp_path)], "is a folder"),
    ):
        code = main.main(["export", str(path), "--training-script", *args])
        err = capsys.readouterr().err
        assert code == 1 and message in err, err
    assert (tmp_path / "mine" / "train.npz").read_bytes() == b"the user's own file"
    gan = json.loads(path.read_text())
    gan["training"] = {"mode": "gan", "generator": "y", "discriminator": "y"}
    (tmp_path / "gan.loom").write_text(json.dumps(gan))
    code = main.main(["export", str(tmp_path / "gan.loom"), "--training-script", "-o", str(tmp_path / "g.py")])
    err = capsys.readouterr().err
    assert code == 1 and "supervised training only" in err and "Traceback" not in err
