"""The trainer: events in order, stop/pause/resume from other threads, checkpoints and
resuming, failures as events with messages a user can act on, frozen layers, initial weights."""
import math
import threading
import time

import numpy as np
import pytest
import torch

from engine.training import (
    Activations,
    EpochEnded,
    Failed,
    Finished,
    GradientNorms,
    RunStarted,
    Step,
    Trainer,
    WeightStats,
)
from engine.training.events import Event, Note
from tests.engine.test_data_fit import graph_doc, mlp_doc, project

torch.set_num_threads(1)

EVERY_STEP = {"step_hz": 1e9, "every_steps": 1, "max_hz": 1e9}


def spiral(training=None, data=None, graph=None):
    base = {"epochs": 2, "batch_size": 32, "learning_rate": 0.01}
    return project({"dataset": "spiral", "samples": 320, **(data or {})}, {**base, **(training or {})}, graph=graph)


def run(p, **kw):
    events: list[Event] = []
    trainer = Trainer(p, on_event=events.append, **kw)
    result = trainer.run()
    return trainer, result, events


def kinds(events):
    return [e.kind for e in events]


def test_a_run_reports_in_order_and_learns():
    _trainer, result, events = run(spiral({"epochs": 6, "telemetry": EVERY_STEP}))
    assert isinstance(result, Finished) and result.reason == "completed" and result.epochs_done == 6
    assert isinstance(events[0], RunStarted) and events[-1] is result
    started = events[0]
    assert (started.train_samples, started.val_samples, started.steps_per_epoch) == (256, 64, 8)
    assert started.device == "cpu" and started.metrics == ("accuracy",)
    assert [layer.node for layer in started.layers] == ["x", "fc1", "act", "fc2", "y"]
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == list(range(1, 7))
    assert epochs[-1].val_loss < epochs[0].val_loss and 0 <= epochs[-1].val_metrics["accuracy"] <= 1
    steps = [e for e in events if isinstance(e, Step)]
    assert [s.step for s in steps] == list(range(1, 49)) and all(s.steps == 1 for s in steps)
    assert all(math.isfinite(s.loss) and s.lr == 0.01 and s.samples_per_s > 0 for s in steps)
    assert result.final["val_accuracy"] == epochs[-1].val_metrics["accuracy"]


def test_telemetry_events_cover_every_layer():
    _, _, events = run(spiral({"epochs": 1, "telemetry": EVERY_STEP}))
    grads = [e for e in events if isinstance(e, GradientNorms)]
    weights = [e for e in events if isinstance(e, WeightStats)]
    acts = [e for e in events if isinstance(e, Activations)]
    assert grads and weights and acts
    assert set(grads[0].norms) == {"fc1", "fc2"} and grads[0].total > 0
    hist = weights[0].layers["fc1"]
    assert hist.counts.sum() == 2 * 16 and hist.low <= hist.mean <= hist.high and hist.norm > 0
    sample = acts[0].nodes["act"]
    assert sample.shape == (16,) and sample.sample.shape == (16,) and 0 <= sample.dead_fraction <= 1
    assert sample.low >= 0 and "x" in acts[0].nodes  # the probe input itself


def test_events_hold_no_tensors_and_are_frozen():
    _, _, events = run(spiral({"epochs": 1, "telemetry": EVERY_STEP}))

    def check(value):
        assert not isinstance(value, torch.Tensor)
        if isinstance(value, dict):
            for v in value.values():
                check(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                check(v)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                check(getattr(value, name))

    for event in events:
        check(event)
    with pytest.raises(AttributeError):
        events[0].epochs = 3


def test_telemetry_is_rate_limited_and_can_be_turned_off():
    _, _, events = run(spiral({"epochs": 3, "telemetry": {"every_steps": 1000, "max_hz": 1e9}}))
    assert kinds(events).count("gradient_norms") == 1      # the first step only
    _, _, events = run(spiral({"epochs": 1, "telemetry": False}))
    assert not {"gradient_norms", "weight_stats", "activations"} & set(kinds(events))


def test_same_seed_same_run():
    a = run(spiral({"epochs": 2}))[1].final
    b = run(spiral({"epochs": 2}))[1].final
    c = run(spiral({"epochs": 2, "seed": 7}))[1].final
    assert a == b and a != c


def test_stop_is_honoured_within_one_step():
    trainer = Trainer(spiral({"epochs": 50, "telemetry": EVERY_STEP}))
    seen = []

    def on_event(e):
        if isinstance(e, Step):
            seen.append(e.step)
            if e.step == 5:
                trainer.stop()

    trainer.subscribe(on_event)
    result = trainer.run()
    assert isinstance(result, Finished) and result.reason == "stopped"
    assert result.steps == 5 and seen[-1] == 5



def test_a_stop_between_step_events_reports_every_step_trained():
    """Steps trained after the last Step event got none when a stop ended the epoch, so steps.csv
    (and a resumed run's loss curve) skipped them: a stop at step 41 left rows up to 30."""
    trainer = Trainer(spiral({"epochs": 50, "telemetry": {"step_hz": 0.001}}))
    steps = []
    trainer.subscribe(lambda e: steps.append(e) if isinstance(e, Step) else None)
    trainer.prepare()
    train_step = trainer.program.step

    def step_then_stop(*args):
        out = train_step(*args)
        if trainer.global_step == 7:
            trainer.stop()
        return out

    trainer.program.step = step_then_stop
    result = trainer.run()
    assert isinstance(result, Finished) and result.reason == "stopped" and result.steps == 7
    assert sum(e.steps for e in steps) == 7 and steps[-1].step == 7 and len(steps[-1].losses) == 7

def test_stop_and_pause_from_another_thread():
    trainer = Trainer(spiral({"epochs": 10_000, "telemetry": EVERY_STEP}))
    events = []
    trainer.subscribe(events.append)
    worker = threading.Thread(target=trainer.run)
    worker.start()
    deadline = time.monotonic() + 30
    while not any(isinstance(e, Step) for e in events) and time.monotonic() < deadline:
        time.sleep(0.01)
    trainer.pause()
    while "paused" not in kinds(events) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert trainer.paused
    steps_when_paused = sum(isinstance(e, Step) for e in events)
    time.sleep(0.3)
    assert sum(isinstance(e, Step) for e in events) == steps_when_paused  # no training while paused
    trainer.resume()
    while sum(isinstance(e, Step) for e in events) < steps_when_paused + 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    trainer.stop()
    worker.join(30)
    assert not worker.is_alive()
    assert "resumed" in kinds(events) and events[-1].kind == "finished" and events[-1].reason == "stopped"


def weights_of(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stop_at", [16, 20])  # an epoch boundary (8 steps per epoch), and mid-epoch
def test_resume_from_a_checkpoint_continues_the_same_run(tmp_path, stop_at):
    settings = {"epochs": 4, "telemetry": EVERY_STEP, "schedule": "cosine"}
    whole, result, _ = run(spiral(settings))
    trainer = Trainer(spiral(settings), out_dir=tmp_path)

    def on_event(e):
        if isinstance(e, Step) and e.step == stop_at:
            trainer.stop()

    trainer.subscribe(on_event)
    first = trainer.run()
    assert first.reason == "stopped" and (tmp_path / "checkpoint.pt").is_file()
    resumed, second, events = run(spiral(settings), out_dir=tmp_path, resume_from=tmp_path / "checkpoint.pt")
    assert isinstance(second, Finished) and second.reason == "completed", second
    assert second.steps == result.steps == 32
    assert events[0].start_epoch == (stop_at - 1) // 8  # the stop at step 16 came before epoch 2's validation
    assert [e.epoch for e in resumed.history] == [1, 2, 3, 4]
    assert_same_weights(weights_of(resumed), weights_of(whole))
    assert second.final["val_loss"] == pytest.approx(result.final["val_loss"], rel=1e-5)


def test_resume_errors(tmp_path):
    _, result, _ = run(spiral(), resume_from=tmp_path / "none.pt")
    assert isinstance(result, Failed) and "no checkpoint" in result.message
    (tmp_path / "bad.pt").write_bytes(b"junk")
    _, result, _ = run(spiral(), resume_from=tmp_path / "bad.pt")
    assert isinstance(result, Failed) and "not a readable checkpoint" in result.message
    run(spiral({"epochs": 1}), out_dir=tmp_path)
    other = graph_doc([("x", "Input", {"shape": [2]}), ("fc9", "Linear", {"out_features": 3}), ("y", "Output", {})],
                      [("x", "fc9"), ("fc9", "y")])
    _, result, _ = run(spiral(graph=other), resume_from=tmp_path / "checkpoint.pt")
    assert isinstance(result, Failed) and "different design" in result.message


def test_resume_when_all_epochs_are_done(tmp_path):
    run(spiral({"epochs": 1}), out_dir=tmp_path)
    _trainer, result, events = run(spiral({"epochs": 1}), out_dir=tmp_path, resume_from=tmp_path / "checkpoint.pt")
    assert result.reason == "completed" and result.epochs_done == 1
    assert any(e.kind == "note" and "already trained" in e.message for e in events)


def test_nan_loss_names_the_step_and_suggests_a_lower_rate():
    _, result, _ = run(spiral({"optimizer": "sgd", "learning_rate": 1e6, "epochs": 5}, data={"dataset": "sine"},
                              graph=mlp_doc(inputs=1, classes=1, loss="mse")))
    assert isinstance(result, Failed) and result.reason == "nan"
    assert "at step" in result.message and "lower training.learning_rate (now 1e+06)" in result.message
    assert "grad_clip_norm" in result.message


def test_out_of_memory_is_a_failure_with_advice(monkeypatch):
    import torch.nn.functional as F

    def no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(F, "cross_entropy", no_memory)
    _, result, _ = run(spiral())
    assert isinstance(result, Failed) and result.reason == "out_of_memory"
    assert "out of memory" in result.message and "lower training.batch_size (now 32)" in result.message


@pytest.mark.parametrize("p, reason, text", [
    (lambda: project({"dataset": "digits"}), "data", "Input 'x' takes (N, 2)"),
    (lambda: spiral({"device": "cuda:99"}), "device", "cuda"),
    (lambda: spiral({"learning_rate": -1}), "settings", "training.learning_rate is -1"),
    (lambda: spiral(graph=graph_doc([("x", "Input", {"shape": [2]}), ("y", "Output", {})], [])), "graph",
     "problem"),
    (lambda: spiral({"mixed_precision": "fp16"}), "settings", "fp16' needs a CUDA device"),
])
def test_setup_problems_are_failed_events(p, reason, text):
    _, result, events = run(p())
    assert isinstance(result, Failed) and result.reason == reason and text in result.message
    assert events == [result]


def test_a_bug_is_reported_with_its_traceback(monkeypatch):
    from engine.training import supervised as module

    def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(module, "build_optimizer", broken)
    _, result, _ = run(spiral())
    assert result.reason == "error" and "internal error: KeyError" in result.message and "Traceback" in result.details


def test_frozen_layers_keep_their_weights():
    p = spiral({"epochs": 1})
    p.graph.set_trainable("fc1", False)
    trainer = Trainer(p)
    trainer.prepare()
    before = weights_of(trainer)
    result = trainer.run()
    after = weights_of(trainer)
    assert result.reason == "completed"
    torch.testing.assert_close(before["fc1.weight"], after["fc1.weight"])
    assert not torch.equal(before["fc2.weight"], after["fc2.weight"])


def test_nothing_to_train():
    p = spiral()
    for node in ("fc1", "fc2"):
        p.graph.set_trainable(node, False)
    _, result, _ = run(p)
    assert result.reason == "settings" and "nothing to train" in result.message


def test_initial_weights_from_safetensors_and_pt(tmp_path):
    from safetensors.torch import save_file

    donor = Trainer(spiral())
    donor.prepare()
    state = {k: torch.full_like(v, 0.5) for k, v in donor.model.state_dict().items()}
    save_file(state, tmp_path / "w.safetensors")
    torch.save(state, tmp_path / "w.pt")
    for name, nodes in (("w.safetensors", ["fc1"]), ("w.pt", None)):
        init = {"path": name, "nodes": nodes} if nodes else name
        trainer = Trainer(spiral({"initial_weights": init}), base_dir=tmp_path)
        trainer.prepare()
        torch.testing.assert_close(trainer.model.fc1.weight, torch.full_like(trainer.model.fc1.weight, 0.5))
        same = torch.equal(trainer.model.fc2.weight, torch.full_like(trainer.model.fc2.weight, 0.5))
        assert same == (nodes is None)
    bad = {k: torch.zeros(5, 5) if k == "fc2.weight" else v for k, v in state.items()}
    save_file(bad, tmp_path / "bad.safetensors")
    _, result, _ = run(spiral({"initial_weights": "bad.safetensors"}), base_dir=tmp_path)
    assert result.reason == "weights" and "fc2.weight has shape (5, 5)" in result.message
    _, result, _ = run(spiral({"initial_weights": "missing.pt"}), base_dir=tmp_path)
    assert result.reason == "weights" and "does not exist" in result.message
    _, result, _ = run(spiral({"initial_weights": {"path": "w.pt", "nodes": ["zz"]}}), base_dir=tmp_path)
    assert result.reason == "weights" and "no node 'zz'" in result.message


@pytest.mark.parametrize("training", [
    {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "schedule": {"type": "step", "step_size": 1}},
    {"optimizer": "adamw", "schedule": "one_cycle", "weight_decay": 0.1},
    {"optimizer": "rmsprop", "schedule": "plateau", "l1_penalty": 1e-4, "grad_clip_norm": 0.5},
    {"optimizer": "adam", "schedule": "cosine", "label_smoothing": 0.1, "mixed_precision": "bf16"},
])
def test_optimisers_schedules_and_regularisers_train(training):
    _, result, events = run(spiral({"epochs": 3, **training}))
    assert isinstance(result, Finished), result
    lrs = [e.lr for e in events if isinstance(e, EpochEnded)]
    if "schedule" in training and training["schedule"] != "plateau":
        assert len(set(lrs)) > 1


def test_early_stopping_restores_the_best_weights():
    _, result, events = run(spiral({"epochs": 200, "learning_rate": 0.05, "early_stopping": 2}))
    assert result.reason == "early_stopping" and result.epochs_done < 200
    best = min((e for e in events if isinstance(e, EpochEnded)), key=lambda e: e.val_loss)
    assert result.best_epoch == best.epoch and result.final["val_loss"] == best.val_loss


def test_regression_metrics():
    g = mlp_doc(inputs=1, classes=1, loss="huber")
    _, result, events = run(project({"dataset": "sine", "samples": 200}, {"epochs": 2}, graph=g))
    assert events[0].metrics == ("mae", "r2")
    assert {"val_mae", "val_r2", "train_mae"} <= set(result.final)


def test_several_outputs_with_loss_weights():
    g = graph_doc([("x", "Input", {"shape": [2]}), ("fc", "Linear", {"out_features": 3}), ("y", "Output", {}),
                   ("aux", "Linear", {"out_features": 3}), ("z", "Output", {"loss": "none"})],
                  [("x", "fc"), ("fc", "y"), ("x", "aux"), ("aux", "z")])
    _, result, events = run(spiral({"loss_weights": {"y": 2.0}}, graph=g))
    assert isinstance(result, Finished) and events[0].metrics == ("accuracy",)
    _, result, _ = run(spiral({"loss_weights": {"q": 2.0}}, graph=g))
    assert result.reason == "settings" and "no Output node has this id" in result.message


def test_per_token_classification_and_channels_last_cnn():
    tokens = graph_doc([("t", "Input", {"shape": [6], "dtype": "int64"}),
                        ("emb", "Embedding", {"num_embeddings": 5, "embedding_dim": 8}),
                        ("head", "Linear", {"out_features": 5}), ("y", "Output", {})],
                       [("t", "emb"), ("emb", "head"), ("head", "y")])
    _, result, _ = run(project({"dataset": "tokens", "vocab": 5, "length": 6, "samples": 200}, {"epochs": 1},
                               graph=tokens))
    assert isinstance(result, Finished) and 0 <= result.final["val_accuracy"] <= 1
    cnn = graph_doc([("img", "Input", {"shape": [1, 8, 8]}), ("conv", "Conv2d", {"out_channels": 4}),
                     ("bn", "BatchNorm2d", {}), ("flat", "Flatten", {}), ("fc", "Linear", {"out_features": 10}),
                     ("y", "Output", {})],
                    [("img", "conv"), ("conv", "bn"), ("bn", "flat"), ("flat", "fc"), ("fc", "y")])
    _, result, events = run(project({"dataset": "digits", "max_samples": 200, "augment": {"crop_padding": 1}},
                                    {"epochs": 1, "channels_last": True, "telemetry": EVERY_STEP}, graph=cnn))
    assert isinstance(result, Finished), result
    maps = next(e for e in events if isinstance(e, Activations)).nodes["conv"]
    assert maps.shape == (4, 6, 6) and maps.sample.shape == (4, 6, 6)


def test_checkpoints_follow_checkpoint_every(tmp_path):
    _, _, events = run(spiral({"epochs": 4, "checkpoint_every": 2}), out_dir=tmp_path)
    assert [e.epoch for e in events if e.kind == "checkpoint_saved"] == [2, 4]
    _, _, events = run(spiral({"epochs": 3}))   # no out_dir: nothing written
    assert "checkpoint_saved" not in kinds(events)


def test_checkpoint_loads_with_weights_only(tmp_path):
    for schedule in ("step", "cosine", "one_cycle", "plateau"):
        run(spiral({"epochs": 1, "schedule": schedule}), out_dir=tmp_path / schedule)
        payload = torch.load(tmp_path / schedule / "checkpoint.pt", weights_only=True)
        assert payload["format"] == "layerloom-checkpoint" and payload["schedule_type"] == schedule
        assert isinstance(payload["history"][0]["train_loss"], float)


def test_available_devices_lists_the_cpu():
    from engine.training import available_devices, resolve_device

    devices = available_devices()
    assert devices[-1].type == "cpu"
    assert resolve_device("auto").device == devices[0].device
    assert np.isscalar(len(devices))


def test_step_events_carry_every_steps_loss():
    _, result, events = run(spiral({"epochs": 3, "telemetry": {"step_hz": 0.001}}))
    steps = [e for e in events if isinstance(e, Step)]
    assert len(steps) == 3  # only each epoch's last batch, at this rate
    assert sum(len(s.losses) for s in steps) == sum(s.steps for s in steps) == result.steps == 24
    for s in steps:
        assert s.loss == pytest.approx(sum(s.losses) / len(s.losses), rel=1e-6)
        assert len(s.lrs) == len(s.losses) and s.samples_per_s > 0
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert epochs[0].train_loss == pytest.approx(steps[0].loss, rel=1e-6)


def test_the_accelerator_way_of_reading_losses_gives_the_same_run():
    plain = run(spiral({"epochs": 2}))[1]
    trainer = Trainer(spiral({"epochs": 2}))
    trainer.defer_loss_reads = True
    deferred = trainer.run()
    assert deferred.final == pytest.approx(plain.final, rel=1e-6)
    nan = Trainer(spiral({"optimizer": "sgd", "learning_rate": 1e6, "epochs": 5}, data={"dataset": "sine"},
                         graph=mlp_doc(inputs=1, classes=1, loss="mse")))
    nan.defer_loss_reads = True
    failed = nan.run()
    assert failed.reason == "nan" and "at step" in failed.message


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("training", [
    {},
    {"mixed_precision": "fp16", "grad_clip_norm": 1.0},
    {"mixed_precision": "auto", "optimizer": "adamw", "schedule": "one_cycle"},
])
def test_cuda_runs(tmp_path, training):
    trainer, result, events = run(spiral({"device": "cuda", "epochs": 3, "telemetry": EVERY_STEP, **training}),
                                  out_dir=tmp_path)
    assert isinstance(result, Finished), result
    assert events[0].device.startswith("cuda") and trainer.train_split.inputs[0].is_cuda
    assert sum(len(e.losses) for e in events if isinstance(e, Step)) == result.steps
    _, again, _ = run(spiral({"device": "cuda", "epochs": 4, **training}), out_dir=tmp_path,
                      resume_from=tmp_path / "checkpoint.pt")
    assert again.reason == "completed" and again.epochs_done == 4


@pytest.mark.gpu
@needs_cuda
def test_cuda_convolutions_channels_last_and_nan():
    cnn = graph_doc([("img", "Input", {"shape": [1, 8, 8]}), ("conv", "Conv2d", {"out_channels": 4}),
                     ("flat", "Flatten", {}), ("fc", "Linear", {"out_features": 10}), ("y", "Output", {})],
                    [("img", "conv"), ("conv", "flat"), ("flat", "fc"), ("fc", "y")])
    _, result, _ = run(project({"dataset": "digits", "augment": {"flip": "horizontal", "crop_padding": 1}},
                               {"device": "cuda", "epochs": 1, "channels_last": True, "mixed_precision": "bf16"},
                               graph=cnn))
    assert isinstance(result, Finished), result
    _, result, _ = run(spiral({"device": "cuda", "optimizer": "sgd", "learning_rate": 1e6, "epochs": 5},
                              data={"dataset": "sine"}, graph=mlp_doc(inputs=1, classes=1, loss="mse")))
    assert result.reason == "nan" and "at step" in result.message


@pytest.mark.gpu
@needs_cuda
def test_cuda_host_data_gives_the_run_of_data_on_the_device(monkeypatch):
    """Data too big for the GPU (a share of its free memory) stay in host memory and reach the same figures;
    TF32 follows training.tf32."""
    import engine.training.device as placement

    training = {"device": "cuda", "epochs": 2, "tf32": False, "seed": 3}
    on_device, ours, _ = run(spiral(training))
    assert on_device.train_split.inputs[0].is_cuda and not torch.backends.cuda.matmul.allow_tf32
    monkeypatch.setattr(placement, "DEVICE_DATA_SHARE", 0.0)
    in_host, theirs, _ = run(spiral(training))
    assert not in_host.train_split.inputs[0].is_cuda
    assert theirs.final == pytest.approx(ours.final, rel=1e-4)
    run(spiral({"device": "cuda", "epochs": 1}))
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.benchmark


@pytest.mark.gpu
@needs_cuda
def test_cuda_compile_makes_one_graph_per_shape_and_never_falls_back():
    from torch._dynamo.utils import counters

    before = counters["stats"]["unique_graphs"]
    _, result, events = run(spiral({"device": "cuda", "epochs": 3, "compile": True}))
    assert isinstance(result, Finished), result
    assert not [e for e in events if isinstance(e, Note) and "compile" in e.message]
    # the training batch (the last partial one dropped), the validation batch and the validation's last part
    assert counters["stats"]["unique_graphs"] - before <= 3


def test_compile_traces_each_batch_shape_statically(monkeypatch):
    """torch.compile met the 16-sample telemetry probe first and then compiled the training graph for any
    batch size (automatic dynamic shapes), slower for all of them: every traced graph has fixed sizes now."""
    traced: list[tuple] = []

    def backend(gm, example_inputs):
        # a graph made for any batch size takes the size as a SymInt input
        traced.append(tuple(isinstance(t, torch.SymInt) for t in example_inputs))
        return gm.forward

    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda model, **kw: compile_(model, backend=backend, **kw))
    torch._dynamo.reset()
    _, result, events = run(spiral({"epochs": 2, "compile": True}))
    assert isinstance(result, Finished) and traced
    assert not any(any(dims) for dims in traced), traced
    assert not [e for e in events if isinstance(e, Note) and "compile" in e.message]
