"""Crashes at random points (SIGKILL, or a write that fails part-way) never leave a design or a
checkpoint half-written: the previous file stays whole, and a later `--resume` works (DESIGN §8)."""
import csv
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import graph.files
from graph.project import load
from tests.conftest import ROOT
from tests.test_train_cli import spiral_file, train

SAVER = textwrap.dedent("""
    import itertools, sys
    sys.path.insert(0, sys.argv[1])
    from graph.project import load, save
    small = load(sys.argv[2])
    big = load(sys.argv[2])
    big.name = "big"
    for i in range(400):
        big.graph.add_node("ReLU", f"act_extra{i}", pos=(float(i), 0.0))
    print("ready", flush=True)
    for i in itertools.count():
        save(big if i % 2 else small, sys.argv[3])
""")


@pytest.mark.parametrize("seed", range(6))
def test_a_save_killed_at_a_random_moment_leaves_a_whole_design(tmp_path, seed):
    rng = random.Random(seed)
    source = ROOT / "resources" / "examples" / "spiral_mlp.loom"
    target = tmp_path / "design.loom"
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(ROOT), str(source), str(target)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.2))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    project = load(target)   # whole: one of the two versions, never a mixture
    assert project.name in ("Spiral classifier", "big")
    assert len(project.graph.nodes) == (407 if project.name == "big" else 7)


@pytest.mark.parametrize("point", ["write", "fsync", "chmod", "replace"])
def test_a_checkpoint_write_that_fails_part_way_keeps_the_previous_one_and_resume_works(tmp_path, capsys,
                                                                                      monkeypatch, point):
    loom = spiral_file(tmp_path, training={"epochs": 3, "checkpoint_every": 1})
    out = tmp_path / "run"
    calls = {"n": 0}
    failing = {"write": None, "fsync": "fsync", "chmod": "chmod", "replace": "replace"}[point]
    real = {name: getattr(os, name) for name in ("fsync", "chmod", "replace")}

    def fault(name):
        def call(*args, **kwargs):
            if str(out) in str(args[0]) or name == "fsync":
                calls["n"] += 1
                if calls["n"] == 2:   # the second checkpoint: the first is on disk by now
                    raise OSError(28, "No space left on device")
            return real[name](*args, **kwargs)
        return call

    if failing:
        monkeypatch.setattr(graph.files.os, failing, fault(failing))
    else:
        real_save = torch.save

        def half_then_fail(obj, f, *args, **kwargs):
            if str(out) in str(f):
                calls["n"] += 1
                if calls["n"] == 2:
                    with open(f, "wb") as handle:
                        handle.write(b"PK\x03\x04 half a checkpoint")
                    raise OSError(28, "No space left on device")
            return real_save(obj, f, *args, **kwargs)

        monkeypatch.setattr(torch, "save", half_then_fail)
    code, _, err = train(capsys, loom, "--out", out, "--quiet")
    assert code == 1 and "No space left on device" in err and "internal error" not in err, err
    monkeypatch.undo()
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 1
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    code, out_text, err = train(capsys, loom, "--out", out, "--resume", "--quiet")
    assert code == 0 and "resumed from" in out_text, err
    with (out / "metrics.csv").open(newline="") as handle:
        assert [r["epoch"] for r in csv.DictReader(handle)] == ["1", "2", "3"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2))
def test_a_training_run_killed_at_a_random_moment_resumes(tmp_path, seed):
    rng = random.Random(seed)
    loom = spiral_file(tmp_path, training={"epochs": 10_000, "checkpoint_every": 1})
    out = tmp_path / "run"
    command = [sys.executable, str(ROOT / "main.py"), "train", str(loom), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.0))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    done = torch.load(out / "checkpoint.pt", weights_only=True)["epoch"]
    result = subprocess.run([*command, "--resume", "--epochs", str(done + 1)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    with (out / "metrics.csv").open(newline="") as handle:
        table = list(csv.reader(handle))
    assert [r[0] for r in table[1:]] == [str(e) for e in range(1, done + 2)]
    assert all(len(r) == len(table[0]) for r in table)
