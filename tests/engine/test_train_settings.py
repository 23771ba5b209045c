"""The `training` section: defaults, every key checked with a message naming it; devices;
optimisers and schedules built from it."""
import json

import pytest
import torch

from engine.training import TrainingError, parse_training
from engine.training.device import autocast_dtype, parse_device_spec, resolve_device
from engine.training.optim import build_optimizer, build_schedule
from engine.training.settings import SCHEDULE_KEYS, TELEMETRY_KEYS, TRAINING_KEYS


def test_defaults():
    s = parse_training({})
    assert (s.epochs, s.batch_size, s.learning_rate, s.optimizer, s.device) == (20, 32, 1e-3, "adam", "auto")
    assert s.schedule.type == "none" and s.early_stopping is None and s.telemetry.enabled
    json.dumps(s.as_dict())
    assert parse_training({"optimizer": "adamw"}).weight_decay == 0.01
    assert parse_training(None) == parse_training({})


def test_shorthands():
    s = parse_training({"schedule": "cosine", "early_stopping": 5, "telemetry": False,
                        "initial_weights": "w.safetensors", "betas": [0.8, 0.9]})
    assert s.schedule.type == "cosine" and s.schedule.options == {"min_lr": 0.0}
    assert s.early_stopping.patience == 5 and s.early_stopping.restore_best
    assert not s.telemetry.enabled and s.initial_weights.path == "w.safetensors" and s.betas == (0.8, 0.9)


@pytest.mark.parametrize("section, message", [
    ({"learning_rate": -1}, "training.learning_rate is -1; expected a number >= 1e-12"),
    ({"learnig_rate": 0.1}, "training.learnig_rate: unknown key (did you mean 'learning_rate'?)"),
    ({"optimizer": "adagrad"}, "training.optimizer is \"adagrad\"; expected one of 'sgd', 'adam'"),
    ({"epochs": 0}, "training.epochs is 0"),
    ({"batch_size": 2.5}, "training.batch_size is 2.5"),
    ({"device": "gpu"}, "training.device is \"gpu\"; expected auto, cpu, cuda, cuda:K"),
    ({"betas": [0.9]}, "training.betas is [0.9]"),
    ({"schedule": "linear"}, "training.schedule.type is \"linear\""),
    ({"schedule": {"type": "step", "step": 3}}, "training.schedule (step).step: unknown key (did you mean 'step_size'?)"),
    ({"schedule": {"type": "plateau", "factor": 2}}, "training.schedule (plateau).factor is 2"),
    ({"early_stopping": {"patience": 0}}, "training.early_stopping.patience is 0"),
    ({"early_stopping": "soon"}, "training.early_stopping: must be an object"),
    ({"nesterov": True}, "training.nesterov: needs optimizer 'sgd' and a momentum above 0"),
    ({"loss_weights": {"y": -1}}, "training.loss_weights.y is -1"),
    ({"loss_weights": [1, 2]}, "training.loss_weights is [1, 2]"),
    ({"telemetry": {"max_hz": 0}}, "training.telemetry.max_hz is 0"),
    ({"initial_weights": {"file": "x"}}, "training.initial_weights.file: unknown key"),
    ({"initial_weights": {"path": ""}}, "training.initial_weights.path: needs the path"),
    ({"mixed_precision": "fp8"}, "training.mixed_precision is \"fp8\""),
    ([1, 2], "training: must be an object"),
])
def test_bad_values_name_the_key(section, message):
    with pytest.raises(TrainingError) as info:
        parse_training(section)
    assert message in info.value.message and info.value.reason == "settings"


def test_loss_weights_must_name_outputs():
    with pytest.raises(TrainingError, match="no Output node has this id"):
        parse_training({"loss_weights": {"z": 1}}, output_ids=["y"])
    assert parse_training({"loss_weights": {"y": 2}}, output_ids=["y"]).loss_weights == {"y": 2.0}


def test_every_key_is_declared_with_help():
    for params in (TRAINING_KEYS, TELEMETRY_KEYS, *SCHEDULE_KEYS.values()):
        for p in params:
            assert p.help, p.name


def test_device_specs():
    assert parse_device_spec("cuda:1") == ("cuda", 1)
    assert parse_device_spec("CPU") == ("cpu", None)
    assert parse_device_spec("mps:0") is None and parse_device_spec("tpu") is None
    assert resolve_device("cpu").type == "cpu" and "CPU" in resolve_device("cpu").name
    with pytest.raises(TrainingError) as info:
        resolve_device("cuda:99")
    assert info.value.reason == "device" and "cuda" in info.value.message
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="use --device cpu or auto"):
            resolve_device("cuda")
    if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        with pytest.raises(TrainingError, match="MPS is not available"):
            resolve_device("mps")


def test_mixed_precision_choices_on_the_cpu():
    cpu = resolve_device("cpu")
    assert autocast_dtype("off", cpu) is None and autocast_dtype("auto", cpu) is None
    assert autocast_dtype("bf16", cpu) == torch.bfloat16
    with pytest.raises(TrainingError, match="needs a CUDA device"):
        autocast_dtype("fp16", cpu)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop"])
@pytest.mark.parametrize("schedule", ["none", "step", "cosine", "one_cycle", "plateau"])
def test_optimisers_and_schedules_step(optimizer, schedule):
    model = torch.nn.Linear(2, 1)
    spec = {"type": "step", "step_size": 1} if schedule == "step" else schedule
    s = parse_training({"optimizer": optimizer, "schedule": spec, "epochs": 3, "learning_rate": 0.1,
                        "momentum": 0.5})
    opt = build_optimizer(list(model.parameters()), s, torch.device("cpu"))
    sched = build_schedule(opt, s, steps_per_epoch=4)
    rates = []
    for _ in range(3):
        for _ in range(4):
            model(torch.ones(1, 2)).sum().backward()
            opt.step()
            sched.step_batch()
        sched.step_epoch(1.0)
        rates.append(opt.param_groups[0]["lr"])
    if schedule == "none":
        assert rates == [0.1] * 3
    elif schedule == "one_cycle":
        assert max(rates) <= 0.1 and rates[-1] < 0.01
    elif schedule == "plateau":
        assert rates[-1] <= 0.1
    else:
        assert rates[-1] < 0.1
    state = sched.state_dict()
    sched.load_state_dict(state)


def test_docs_cover_every_key():
    from engine.data.registry import AUGMENT_KEYS, COMMON_KEYS, all_datasets
    from engine.training.settings import EARLY_STOPPING_KEYS
    from tests.conftest import ROOT

    training = (ROOT / "docs" / "training.md").read_text()
    for p in (*TRAINING_KEYS, *TELEMETRY_KEYS, *EARLY_STOPPING_KEYS, *(q for v in SCHEDULE_KEYS.values() for q in v)):
        assert f"`{p.name}`" in training, p.name
    data = (ROOT / "docs" / "data.md").read_text()
    for p in (*COMMON_KEYS, *AUGMENT_KEYS):
        assert f"`{p.name}`" in data, p.name
    for dataset in all_datasets():
        row = next((line for line in data.splitlines() if line.startswith(f"| `{dataset.name}` |")), None)
        assert row is not None, dataset.name
        for option in dataset.options:
            assert f"`{option.name}`" in row, (dataset.name, option.name)
