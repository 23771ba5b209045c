"""`train --resume` goes on from whatever a crash or a stranger left in the run folder: a step log
that is not text is set aside (never overwritten), a row cut short is dropped, and a per-step
schedule is re-planned when the run is resumed with more epochs (docs/training.md)."""
import csv

import pytest
import torch

from tests.test_train_cli import spiral_file, train


def rows(path):
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def finished_run(tmp_path, capsys, training=None, epochs=2):
    loom = spiral_file(tmp_path, training={"epochs": epochs, **(training or {})})
    out = tmp_path / "run"
    code, _, err = train(capsys, loom, "--out", out, "--quiet")
    assert code == 0, err
    return loom, out


def test_resume_with_a_binary_step_log_sets_it_aside_and_goes_on(tmp_path, capsys):
    loom, out = finished_run(tmp_path, capsys)
    junk = bytes(range(256)) * 4
    (out / "steps.csv").write_bytes(junk)
    code, _, err = train(capsys, loom, "--out", out, "--resume", "--epochs", 3, "--quiet")
    assert code == 0 and "internal error" not in err, err
    assert (out / "steps.csv.damaged").read_bytes() == junk
    table = rows(out / "steps.csv")
    assert table[0][:2] == ["epoch", "step"] and {r[0] for r in table[1:]} == {"3"}


def test_a_torn_last_row_is_not_kept_after_resume(tmp_path, capsys):
    loom, out = finished_run(tmp_path, capsys)
    metrics, steps = out / "metrics.csv", out / "steps.csv"
    metrics.write_text(metrics.read_text()[:-12])   # the last row cut mid-number, no newline
    steps.write_text(steps.read_text()[:-7])
    code, _, err = train(capsys, loom, "--out", out, "--resume", "--epochs", 3, "--quiet")
    assert code == 0, err
    table = rows(metrics)
    assert [r[0] for r in table[1:]] == ["1", "2", "3"]
    assert all(len(r) == len(table[0]) for r in table)
    step_rows = rows(steps)
    assert all(len(r) == len(step_rows[0]) for r in step_rows)
    numbers = [int(r[1]) for r in step_rows[1:]]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))


def test_a_one_cycle_run_resumed_with_more_epochs_is_replanned_for_the_new_total(tmp_path, capsys):
    loom, out = finished_run(tmp_path, capsys, training={"schedule": "one_cycle", "learning_rate": 0.01})
    first = rows(out / "steps.csv")
    per_epoch = sum(1 for r in first[1:] if r[0] == "1")
    code, _, err = train(capsys, loom, "--out", out, "--resume", "--epochs", 4, "--quiet")
    assert code == 0 and "internal error" not in err, err
    table = rows(out / "steps.csv")
    assert [int(r[1]) for r in table[1:]] == list(range(1, 4 * per_epoch + 1))
    # the learning rate of the resumed steps is that of a one-cycle plan over all 4 epochs
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    plan = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=4 * per_epoch)
    expected = []
    for _ in range(4 * per_epoch):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        plan.step()
    resumed = [float(r[4]) for r in table[1:] if int(r[0]) > 2]
    assert resumed == pytest.approx(expected[2 * per_epoch:], rel=1e-6)

