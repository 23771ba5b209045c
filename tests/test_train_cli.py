"""`python main.py train`: the run folder it leaves, and exit 1 with a message (never a
traceback) for every user mistake (DESIGN §4)."""
import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import main
from engine.data import prepare_data
from graph.analysis import analyse
from graph.project import load, save
from tests.conftest import EXAMPLES, ROOT
from tests.engine.test_data_fit import mlp_doc, project

torch.set_num_threads(1)


def spiral_file(tmp_path: Path, training=None, data=None, graph=None, name="spiral.loom") -> Path:
    p = project({"dataset": "spiral", "samples": 400, **(data or {})},
                {"epochs": 3, "batch_size": 32, "learning_rate": 0.02, **(training or {})}, graph=graph)
    save(p, tmp_path / name)
    return tmp_path / name


def train(capsys, *args) -> tuple[int, str, str]:
    code = main.main(["train", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def reload_model(run_dir: Path):
    """The trained model as a user gets it: model.py imported, weights.safetensors loaded."""
    from safetensors.torch import load_file

    spec = importlib.util.spec_from_file_location(f"trained_{abs(hash(run_dir))}", run_dir / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    model.load_state_dict(load_file(run_dir / "weights.safetensors"))
    return model.eval()


@torch.no_grad()
def evaluate(model, project_path: Path) -> dict[str, float]:
    """Validation figures of a model on the project's validation split, computed by hand."""
    p = load(project_path)
    data = prepare_data(p.data, p.graph, analyse(p.graph), project_path.parent)
    (spec,) = data.targets
    out = model(*data.val.inputs)
    (y,) = data.val.targets
    if spec.task == "classification":
        if spec.loss == "bce_with_logits":
            hits = (out > 0) == (y > 0.5)
        else:
            scores = out.movedim(-1, 1) if spec.class_dim == "last" else out
            hits = scores.argmax(1) == y
        return {"val_accuracy": hits.double().mean().item()}
    err = (out - y).double()
    return {"val_mae": err.abs().mean().item(), "val_loss": (err * err).mean().item()}


def test_train_writes_the_run_folder_and_the_model_reloads(tmp_path, capsys):
    loom = spiral_file(tmp_path)
    out_dir = tmp_path / "run"
    code, out, err = train(capsys, loom, "--out", out_dir, "--epochs", 2)
    assert code == 0
    assert "Training Test on CPU" in out and "epoch 1/2  train loss" in out and "epoch 2/2" in out
    assert "epoch 1/2" in err and "loss" in err  # the progress bar, on stderr
    names = {p.name for p in out_dir.iterdir()}
    assert {"metrics.csv", "steps.csv", "weights.safetensors", "model.py", "run.json", "checkpoint.pt"} <= names
    rows = list(csv.DictReader((out_dir / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"] and {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(rows[0])
    steps = list(csv.DictReader((out_dir / "steps.csv").open()))
    assert [int(r["step"]) for r in steps] == list(range(1, 21)) and steps[-1]["batch"] == "10"
    assert all(float(r["loss"]) > 0 and float(r["lr"]) == 0.02 for r in steps)
    run = json.loads((out_dir / "run.json").read_text())
    assert run["status"] == "finished" and run["reason"] == "completed" and run["device"] == "cpu"
    assert run["versions"]["torch"] == torch.__version__ and run["settings"]["epochs"] == 2
    assert run["final"]["val_accuracy"] == float(rows[-1]["val_accuracy"])
    model = reload_model(out_dir)
    assert evaluate(model, loom)["val_accuracy"] == pytest.approx(run["final"]["val_accuracy"], abs=1e-9)
    from engine.codegen import generate_code

    assert (out_dir / "model.py").read_text() == generate_code(load(loom))


def test_a_second_run_into_the_same_folder_needs_resume_or_overwrite(tmp_path, capsys):
    loom = spiral_file(tmp_path)
    assert train(capsys, loom, "--out", tmp_path / "r", "--epochs", 1, "--quiet")[0] == 0
    code, _, err = train(capsys, loom, "--out", tmp_path / "r", "--epochs", 1)
    assert code == 1 and "already holds a run; pass --resume" in err
    assert train(capsys, loom, "--out", tmp_path / "r", "--epochs", 1, "--overwrite", "--quiet")[0] == 0
    code, out, _ = train(capsys, loom, "--out", tmp_path / "r", "--epochs", 2, "--resume", "--quiet")
    assert code == 0 and "resumed from" in out
    rows = list(csv.DictReader((tmp_path / "r" / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    code, _, err = train(capsys, loom, "--out", tmp_path / "fresh", "--resume")
    assert code == 1 and "no checkpoint.pt" in err


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file"),
    ("not_json", "not valid JSON"),
    ("bad_graph", "problem"),
    ("bad_data", "Input 'x' takes (N, 2), but the data set 'digits' gives inputs of shape (N, 1, 8, 8)"),
    ("no_device", "device 'cuda:99'"),
    ("bad_settings", "training.optimizer is \"adagrad\""),
    ("nan", "the loss became"),
    ("zero_epochs", "--epochs must be 1 or more"),
])
def test_user_mistakes_exit_1_with_a_message(tmp_path, capsys, case, message):
    args = ["--out", tmp_path / "out", "--quiet"]
    if case == "missing":
        loom = tmp_path / "nope.loom"
    elif case == "not_json":
        loom = tmp_path / "broken.loom"
        loom.write_text("{ not json")
    elif case == "bad_graph":
        doc = mlp_doc()
        doc["edges"] = doc["edges"][:-1]
        loom = spiral_file(tmp_path, graph=doc)
    elif case == "bad_data":
        loom = spiral_file(tmp_path, data={"dataset": "digits", "samples": None})
        raw = json.loads(loom.read_text())
        raw["data"] = {"dataset": "digits"}
        loom.write_text(json.dumps(raw))
    elif case == "no_device":
        loom = spiral_file(tmp_path)
        args += ["--device", "cuda:99"]
    elif case == "bad_settings":
        loom = spiral_file(tmp_path, training={"optimizer": "adagrad"})
    elif case == "nan":
        loom = spiral_file(tmp_path, training={"optimizer": "sgd", "learning_rate": 1e6}, data={"dataset": "sine"},
                           graph=mlp_doc(inputs=1, classes=1, loss="mse"))
    else:
        loom = spiral_file(tmp_path)
        args += ["--epochs", 0]
    code, _, err = train(capsys, loom, *args)
    assert code == 1 and "error: " in err and message in err, err
    if case == "nan":
        assert "at step" in err and "lower training.learning_rate" in err


def test_out_of_memory_exits_1(tmp_path, capsys, monkeypatch):
    import torch.nn.functional as F

    def no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(F, "cross_entropy", no_memory)
    code, _, err = train(capsys, spiral_file(tmp_path), "--out", tmp_path / "o", "--quiet")
    assert code == 1 and "out of memory" in err and "training.batch_size" in err


def test_help_lists_train():
    result = subprocess.run([sys.executable, "main.py", "train", "--help"], check=False, cwd=ROOT,
                            capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "--epochs" in result.stdout and "--device" in result.stdout


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(tmp_path):
    loom = spiral_file(tmp_path, training={"epochs": 100_000}, data={"samples": 3000})
    out_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    err_file = (tmp_path / "stderr.txt").open("w+")  # a file, not a pipe: the progress bar must never block
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", str(loom), "--out", str(out_dir)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=err_file, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line or line.split()[:2] == ["epoch", "2/100000"]:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    err_file.seek(0)
    err = err_file.read()
    assert proc.returncode == 1, err
    assert "Traceback" not in out + err and "checkpoint saved" in err and "--resume" in err
    run = json.loads((out_dir / "run.json").read_text())
    assert run["reason"] == "interrupted" and (out_dir / "checkpoint.pt").is_file()
    done = run["epochs_done"]
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", str(loom), "--out", str(out_dir),
                             "--resume", "--epochs", str(done + 1), "--quiet"], check=False, cwd=tmp_path,
                            capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    run = json.loads((out_dir / "run.json").read_text())
    assert run["reason"] == "completed" and run["epochs_done"] == done + 1


def test_examples_folder_has_trainable_examples():
    trainable = [p for p in EXAMPLES.glob("*.loom") if json.loads(p.read_text()).get("data")]
    assert len(trainable) >= 7


def test_a_run_that_fails_to_start_leaves_nothing_and_a_failed_run_can_be_redone(tmp_path, capsys):
    loom = spiral_file(tmp_path, training={"device": "cuda:99"})
    assert train(capsys, loom, "--out", tmp_path / "r", "--quiet")[0] == 1
    assert not (tmp_path / "r").exists()
    nan = spiral_file(tmp_path, training={"optimizer": "sgd", "learning_rate": 1e6}, data={"dataset": "sine"},
                      graph=mlp_doc(inputs=1, classes=1, loss="mse"), name="nan.loom")
    assert train(capsys, nan, "--out", tmp_path / "n", "--quiet")[0] == 1
    run = json.loads((tmp_path / "n" / "run.json").read_text())
    assert run["status"] == "failed" and run["reason"] == "nan" and "at step" in run["error"]
    fixed = spiral_file(tmp_path, data={"dataset": "sine"}, graph=mlp_doc(inputs=1, classes=1, loss="mse"),
                        name="nan.loom")
    assert train(capsys, fixed, "--out", tmp_path / "n", "--quiet", "--epochs", 1)[0] == 0


# -- several processes (issue 18 item 2: `train --nproc N`, engine.training.distributed) -------------------
@pytest.mark.parametrize("args, env, message", [
    (["--nproc", "0"], {}, "--nproc must be 1 or more, got 0"),
    (["--nproc", "2", "--device", "mps"], {}, "--nproc does not work on Apple's MPS"),
    (["--nproc", "2", "--device", "cuda:1"], {}, "--device cuda:1 names one GPU"),
    (["--nproc", "2"], {"RANK": "0", "WORLD_SIZE": "2"}, "under torchrun (which sets RANK and WORLD_SIZE) leave it"),
])
def test_nproc_mistakes_exit_1_before_any_process_starts(tmp_path, capsys, monkeypatch, args, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, _, err = train(capsys, spiral_file(tmp_path), "--out", tmp_path / "run", *args)
    assert code == 1 and message in err
    assert not (tmp_path / "run").exists()


def test_nproc_more_than_the_gpus_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    code, _, err = train(capsys, spiral_file(tmp_path), "--nproc", "3", "--device", "cuda")
    assert code == 1 and "--nproc 3 needs 3 CUDA devices, one per process, but this machine has 2" in err


def test_a_gan_is_refused_on_several_processes(tmp_path, capsys):
    path = spiral_file(tmp_path, training={"mode": "gan"})
    code, _, err = train(capsys, path, "--nproc", "2", "--device", "cpu")
    assert code == 1 and "mode gan trains on one process" in err


def _run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.mark.slow
def test_two_processes_reach_what_one_process_reaches(tmp_path):
    """The spiral example on 2 CPU processes (gloo): the same validation accuracy as 1 process, within noise,
    one run folder written by rank 0, and its weights reload into model.py."""
    example = EXAMPLES / "spiral_mlp.loom"
    one = _run_cli("train", example, "--out", tmp_path / "one", "--quiet", cwd=tmp_path)
    two = _run_cli("train", example, "--out", tmp_path / "two", "--quiet", "--nproc", "2", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert "Traceback" not in two.stderr and "2 processes (gloo)" in two.stdout
    assert two.stdout.count("epoch 40/40") == 1                       # rank 0 alone prints
    runs = {name: json.loads((tmp_path / name / "run.json").read_text()) for name in ("one", "two")}
    assert runs["two"]["distributed"] == {"processes": 2, "backend": "gloo"}
    assert runs["two"]["steps"] == runs["one"]["steps"]               # a step is the same batch
    accuracy = {name: run["final"]["val_accuracy"] for name, run in runs.items()}
    assert accuracy["two"] == pytest.approx(accuracy["one"], abs=0.01), accuracy
    assert accuracy["two"] > 0.95
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    figures = evaluate(reload_model(tmp_path / "two"), example)
    assert figures["val_accuracy"] == pytest.approx(accuracy["two"], abs=1e-6)


@pytest.mark.slow
def test_two_processes_resume_from_their_checkpoint(tmp_path):
    path = spiral_file(tmp_path, training={"epochs": 2})
    first = _run_cli("train", path, "--out", tmp_path / "run", "--quiet", "--nproc", "2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = _run_cli("train", path, "--out", tmp_path / "run", "--quiet", "--nproc", "2", "--resume",
                     "--epochs", "3", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resumed from" in again.stdout and "epoch 3/3" in again.stdout and "epoch 2/3" not in again.stdout
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["1", "2", "3"]
