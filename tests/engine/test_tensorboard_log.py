"""`training.tensorboard` (issue 18 item 4; engine.training.tensorboard_log): TensorBoard event files in the
run folder, readable by TensorBoard's own reader, and a clear refusal before any work where the optional
`tensorboard` package is absent (CLI: exit 1 with a message)."""
from __future__ import annotations

import json
import sys

import pytest

from engine.training import RunWriter, Trainer
from engine.training.events import Failed, Finished
from tests.engine.test_data_fit import mlp_doc, project

SPIRAL = {"dataset": "spiral", "samples": 300}
TRAINING = {"epochs": 3, "batch_size": 32, "learning_rate": 0.01, "tensorboard": True,
            "telemetry": {"every_steps": 1, "max_hz": 1000}}


def _absent(monkeypatch) -> None:
    """As where `pip install tensorboard` was never run (None in sys.modules makes `import` fail)."""
    for name in ("tensorboard", "torch.utils.tensorboard"):
        monkeypatch.setitem(sys.modules, name, None)


def test_a_run_writes_scalars_and_histograms_that_tensorboard_reads(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trainer = Trainer(project(SPIRAL, TRAINING), out_dir=tmp_path)
    RunWriter(tmp_path, trainer)
    result = trainer.run()
    assert isinstance(result, Finished), result
    log = tmp_path / "tensorboard"
    assert any(p.name.startswith("events.out.tfevents") for p in log.iterdir())
    events = EventAccumulator(str(log), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    for tag in ("loss/train", "loss/val", "accuracy/train", "accuracy/val", "epoch/lr", "step/loss", "step/lr",
                "gradient_norm/total", "gradient_norm/fc1"):
        assert tag in tags["scalars"], tag
    val_loss = events.Scalars("loss/val")
    assert [e.step for e in val_loss] == [1, 2, 3]
    assert [round(e.value, 5) for e in val_loss] == [round(h.val_loss, 5) for h in trainer.history]
    assert len(events.Scalars("step/loss")) == trainer.global_step        # one point per optimiser step
    assert {"weights/fc1", "activations/fc1"} <= set(tags["histograms"])
    hist = events.Histograms("weights/fc1")[0].histogram_value
    assert hist.num > 0 and hist.min < hist.max and sum(hist.bucket) == hist.num
    assert json.loads((tmp_path / "run.json").read_text())["files"]["tensorboard"] == "tensorboard"


def test_off_by_default_writes_no_event_files(tmp_path):
    trainer = Trainer(project(SPIRAL, {"epochs": 1}), out_dir=tmp_path)
    RunWriter(tmp_path, trainer)
    assert isinstance(trainer.run(), Finished)
    assert trainer.settings.tensorboard is False and not (tmp_path / "tensorboard").exists()


def test_without_the_package_the_run_stops_before_training_saying_how_to_install_it(tmp_path, monkeypatch):
    _absent(monkeypatch)
    trainer = Trainer(project(SPIRAL, TRAINING), out_dir=tmp_path / "run")
    RunWriter(tmp_path / "run", trainer)
    seen = []
    trainer.subscribe(seen.append)
    result = trainer.run()
    assert isinstance(result, Failed) and result.reason == "settings" and not result.details
    assert result.message.startswith("training.tensorboard") and "pip install tensorboard" in result.message
    assert [e.kind for e in seen] == ["failed"] and not (tmp_path / "run").exists()   # before any work


def test_the_command_says_it_and_exits_1(tmp_path, monkeypatch, capsys):
    import main

    _absent(monkeypatch)
    path = tmp_path / "t.loom"
    path.write_text(json.dumps({"format": "layerloom", "version": 1, "name": "T", "graph": mlp_doc(), "data": SPIRAL,
                                "training": TRAINING}))
    assert main.main(["train", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: training.tensorboard") and 'pip install -e ".[tensorboard]"' in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
