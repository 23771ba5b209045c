"""The `training` section of a `.loom` file: every key declared once, checked with messages
that name the key (`training.learning_rate is -1; expected a number >= 1e-12`).

The declarations (`TRAINING_KEYS`, `SCHEDULE_KEYS`, ...) are data, like the layer registry:
the GUI's training panel and docs/training.md read them. `parse_training(section)` returns
a `TrainingSettings` with every default filled in, or raises `TrainingError(reason="settings")`.

The tables are the one place a default is written: `TrainingSettings` has none of its own (it
is made by `parse_training`, so `parse_training({})` is the defaults), and `Telemetry` takes its
defaults from `TELEMETRY_KEYS`. This module needs no torch, so the designer reads it at start-up.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.data.registry import check_options
from engine.training.events import TrainingError
from graph.params import Param

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
PRECISIONS = ("off", "auto", "bf16", "fp16")
MODES = ("supervised", "gan")
GAN_LOSSES = ("bce", "hinge")
GAN_BETAS = (0.5, 0.999)    # the DCGAN paper's, the usual default for adversarial training
DEVICE_HELP = "auto, cpu, cuda, cuda:K (K = 0, 1, ...) or mps"
_SPEC = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")

TRAINING_KEYS: tuple[Param, ...] = (
    Param("mode", "choice", "supervised", "the training program: supervised (each Output learns its loss) or "
          "gan (a generator and a discriminator trained against each other)", choices=MODES),
    Param("epochs", "int", 20, "passes over the training data", minimum=1),
    Param("batch_size", "int", 32, "samples per optimiser step", minimum=1),
    Param("learning_rate", "float", 1e-3, "step size of the optimiser (the peak for one_cycle)", minimum=1e-12),
    Param("optimizer", "choice", "adam", "sgd, adam, adamw or rmsprop", choices=OPTIMIZERS),
    Param("momentum", "float", 0.0, "momentum for sgd and rmsprop", minimum=0.0, maximum=0.9999),
    Param("nesterov", "bool", False, "Nesterov momentum (sgd, needs momentum > 0)"),
    Param("betas", "str", None, "[beta1, beta2] for adam and adamw (default [0.9, 0.999]; [0.5, 0.999] for "
          "mode gan)", optional=True),
    Param("eps", "float", 1e-8, "added to the denominator of adam, adamw and rmsprop", minimum=0.0,
          advanced=True),
    Param("alpha", "float", 0.99, "smoothing constant of rmsprop", minimum=0.0, maximum=1.0, advanced=True),
    Param("weight_decay", "float", None, "L2 penalty on all trainable parameters (default 0; 0.01 for adamw)",
          minimum=0.0, optional=True),
    Param("l1_penalty", "float", 0.0, "adds this times the sum of absolute weights (all weight tensors) to the loss",
          minimum=0.0),
    Param("grad_clip_norm", "float", None, "clip the global gradient norm to this value", minimum=1e-12,
          optional=True),
    Param("label_smoothing", "float", 0.0, "label smoothing for cross_entropy outputs", minimum=0.0,
          maximum=0.999),
    Param("huber_delta", "float", 1.0, "where the huber loss turns from squared to linear", minimum=1e-12),
    Param("loss_weights", "str", None, "{output_id: weight}; several Outputs' losses are summed with these",
          optional=True),
    Param("schedule", "str", None, "learning-rate schedule: none, step, cosine, one_cycle, plateau, "
          "or an object with \"type\" and its options", optional=True),
    Param("early_stopping", "str", None, "stop when the validation loss stops improving: a patience in "
          "epochs, or {\"patience\", \"min_delta\", \"restore_best\"}", optional=True),
    Param("seed", "int", 0, "seed for weights, shuffling and augmentation (null: a random run)", optional=True),
    Param("device", "str", "auto", "auto, cpu, cuda, cuda:K or mps"),
    Param("processes", "int", 1, "processes the run takes with torch.distributed (train and the window), one GPU "
          "each on CUDA ('all N GPUs' in the device box; --nproc overrides)", minimum=1, maximum=4096, advanced=True),
    Param("threads", "int", None, "CPU threads for torch (default: 1 for small models, where more threads only "
          "add overhead; torch's default otherwise)", minimum=1, maximum=1024, optional=True, advanced=True),
    Param("mixed_precision", "choice", "off", "off, auto (bf16 or fp16 on CUDA), bf16 or fp16",
          choices=PRECISIONS),
    Param("channels_last", "bool", False, "store image tensors channels-last (faster convolutions on GPUs)",
          advanced=True),
    Param("compile", "bool", False, "run the model through torch.compile (slow start, faster steps)",
          advanced=True),
    Param("tf32", "bool", True, "on CUDA, float32 matrix products and convolutions in TensorFloat-32 (much "
          "faster on Ampere and later, about 3 significant digits); false for full float32", advanced=True),
    Param("initial_weights", "str", None, "a weights file (.safetensors or state-dict .pt) to start from; "
          "or {\"path\", \"nodes\"}", optional=True),
    Param("eval_batch_size", "int", None, "batch size for validation (default: 4 x batch_size)", minimum=1,
          optional=True),
    Param("checkpoint_every", "int", None, "save a checkpoint every this many epochs (default: at most every "
          "30 seconds); one is always saved when the run ends or stops", minimum=1, optional=True),
    Param("telemetry", "str", None, "live statistics: false to turn off, or an object of telemetry keys",
          optional=True),
    Param("tensorboard", "bool", False, "also write TensorBoard event files (losses, metrics, learning rate, "
          "weight and activation histograms) into the run folder's tensorboard/ (pip install tensorboard)"),
    # mode "gan" (DESIGN §9; engine.training.adversarial)
    Param("generator", "str", None, "mode gan: the id of the generator's Output (its Input is the noise)",
          optional=True),
    Param("discriminator", "str", None, "mode gan: the id of the discriminator's Output (one logit per "
          "sample; its Input takes the data)", optional=True),
    Param("gan_loss", "choice", "bce", "mode gan: bce (non-saturating) or hinge", choices=GAN_LOSSES),
    Param("d_steps", "int", 1, "mode gan: discriminator steps per generator step", minimum=1, maximum=100),
    Param("generator_learning_rate", "float", None, "mode gan: the generator's learning rate (default: "
          "learning_rate)", minimum=1e-12, optional=True),
    Param("discriminator_learning_rate", "float", None, "mode gan: the discriminator's learning rate "
          "(default: learning_rate)", minimum=1e-12, optional=True),
)
GAN_KEYS = ("generator", "discriminator", "gan_loss", "d_steps", "generator_learning_rate",
            "discriminator_learning_rate")

SCHEDULE_KEYS: dict[str, tuple[Param, ...]] = {
    "none": (),
    "step": (
        Param("step_size", "int", 10, "epochs between learning-rate drops", minimum=1),
        Param("gamma", "float", 0.1, "factor applied at each drop", minimum=0.0, maximum=1.0),
    ),
    "cosine": (
        Param("min_lr", "float", 0.0, "learning rate at the end of the run", minimum=0.0),
    ),
    "one_cycle": (
        Param("pct_start", "float", 0.3, "fraction of the run spent raising the rate", minimum=0.0, maximum=1.0),
        Param("div_factor", "float", 25.0, "the rate starts at learning_rate / div_factor", minimum=1.0),
        Param("final_div_factor", "float", 1e4, "the rate ends at the start rate / final_div_factor",
              minimum=1.0),
    ),
    "plateau": (
        Param("factor", "float", 0.1, "factor applied when the validation loss stalls", minimum=0.0, maximum=1.0),
        Param("patience", "int", 5, "epochs without improvement before lowering the rate", minimum=0),
        Param("min_lr", "float", 0.0, "lowest learning rate", minimum=0.0),
        Param("threshold", "float", 1e-4, "relative improvement that counts", minimum=0.0),
    ),
}

EARLY_STOPPING_KEYS: tuple[Param, ...] = (
    Param("patience", "int", 10, "epochs without a better validation loss before stopping", minimum=1),
    Param("min_delta", "float", 0.0, "an improvement smaller than this does not count", minimum=0.0),
    Param("restore_best", "bool", True, "end with the weights of the best epoch"),
)

TELEMETRY_KEYS: tuple[Param, ...] = (
    Param("enabled", "bool", True, "collect weight, gradient and activation statistics"),
    Param("every_steps", "int", 10, "at most one sample per this many steps", minimum=1),
    Param("max_hz", "float", 2.0, "at most this many samples per second", minimum=0.001),
    Param("step_hz", "float", 20.0, "at most this many step (loss) events per second", minimum=0.001),
    Param("bins", "int", 32, "histogram bins", minimum=2, maximum=1024),
    Param("probe_samples", "int", 16, "validation samples run through the model for activations", minimum=1,
          maximum=1024),
    Param("max_feature_maps", "int", 8, "feature maps kept per node for the activation view", minimum=0,
          maximum=256),
    Param("activations", "bool", True, "sample activations (one extra forward pass of the probe batch)"),
)


def parse_device_spec(spec: str) -> tuple[str, int | None] | None:
    """('cuda', 1) for 'cuda:1'; None when the text is not a device spec at all. Whether this
    machine has the device is engine.training.device's question (it needs torch)."""
    match = _SPEC.match(spec.strip().lower()) if isinstance(spec, str) else None
    if not match:
        return None
    kind, index = match.group(1), match.group(2)
    if index is not None and kind != "cuda":
        return None
    return kind, int(index) if index is not None else None


def design_processes(section: dict[str, Any] | None) -> int | None:
    """The design's own `training.processes` (the device box's 'all N GPUs') when it asks for more than one;
    read before the settings are parsed, to start the processes (a bad value is the parse's to report)."""
    wanted = (section or {}).get("processes")
    return wanted if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > 1 else None


_TELEMETRY = {p.name: p.default for p in TELEMETRY_KEYS}


@dataclass(frozen=True)
class Schedule:
    type: str = "none"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EarlyStopping:
    """Made from EARLY_STOPPING_KEYS by `parse_training`, defaults filled in there."""

    patience: int
    min_delta: float
    restore_best: bool


@dataclass(frozen=True)
class Telemetry:
    """The telemetry settings; the defaults are TELEMETRY_KEYS' (the trainer's tests make these
    directly)."""

    enabled: bool = _TELEMETRY["enabled"]
    every_steps: int = _TELEMETRY["every_steps"]
    max_hz: float = _TELEMETRY["max_hz"]
    step_hz: float = _TELEMETRY["step_hz"]
    bins: int = _TELEMETRY["bins"]
    probe_samples: int = _TELEMETRY["probe_samples"]
    max_feature_maps: int = _TELEMETRY["max_feature_maps"]
    activations: bool = _TELEMETRY["activations"]


@dataclass(frozen=True)
class InitialWeights:
    path: str
    nodes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TrainingSettings:
    """A checked `training` section, one field per TRAINING_KEYS entry; made by `parse_training`,
    which fills the defaults from the table (`parse_training({})` is the default settings)."""

    mode: str
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str
    momentum: float
    nesterov: bool
    betas: tuple[float, float]
    eps: float
    alpha: float
    weight_decay: float
    l1_penalty: float
    grad_clip_norm: float | None
    label_smoothing: float
    huber_delta: float
    loss_weights: dict[str, float]
    schedule: Schedule
    early_stopping: EarlyStopping | None
    seed: int | None
    device: str
    processes: int
    threads: int | None
    mixed_precision: str
    channels_last: bool
    compile: bool
    tf32: bool
    initial_weights: InitialWeights | None
    eval_batch_size: int | None
    checkpoint_every: int | None
    telemetry: Telemetry
    tensorboard: bool
    generator: str | None
    discriminator: str | None
    gan_loss: str
    d_steps: int
    generator_learning_rate: float | None
    discriminator_learning_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (for run.json and the RunStarted event)."""
        return json.loads(json.dumps(asdict(self)))

    def replace(self, **changes: Any) -> TrainingSettings:
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        values.update(changes)
        return TrainingSettings(**values)


def _fail(where: str, message: str) -> TrainingError:
    joint = " " if message.startswith("is ") else ": "
    return TrainingError(f"{where}{joint}{message}", reason="settings")


def _unknown(where: str, key: str, known: list[str]) -> TrainingError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(known)
    return _fail(f"{where}.{key}", f"unknown key ({hint})")


def check_values(section: Any, params: tuple[Param, ...], where: str,
                 skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check an object against declared params (see engine.data.registry.check_options)."""

    def error(message: str) -> TrainingError:
        return TrainingError(message, reason="settings")

    return check_options(section, params, where, skip, error=error)


_OBJECT_KEYS = ("betas", "loss_weights", "schedule", "early_stopping", "initial_weights", "telemetry",
                "device")


def parse_training(section: Any, output_ids: list[str] | None = None) -> TrainingSettings:
    """Check a `training` section; `output_ids` (the graph's Output nodes) checks loss_weights."""
    where = "training"
    values = check_values(section if section is not None else {}, TRAINING_KEYS, where, skip=_OBJECT_KEYS)
    values["device"] = _device(values["device"])
    values["betas"] = _betas(values["betas"], GAN_BETAS if values["mode"] == "gan" else (0.9, 0.999))
    values["loss_weights"] = _loss_weights(values["loss_weights"], output_ids)
    values["schedule"] = _schedule(values["schedule"])
    values["early_stopping"] = _early_stopping(values["early_stopping"])
    values["initial_weights"] = _initial_weights(values["initial_weights"])
    values["telemetry"] = _telemetry(values["telemetry"])
    if values["weight_decay"] is None:
        values["weight_decay"] = 0.01 if values["optimizer"] == "adamw" else 0.0
    if values["nesterov"] and (values["optimizer"] != "sgd" or values["momentum"] <= 0):
        raise _fail("training.nesterov", "needs optimizer 'sgd' and a momentum above 0")
    if values["mode"] == "gan":
        _gan(values, output_ids)
    return TrainingSettings(**values)


def _gan(values: dict[str, Any], output_ids: list[str] | None) -> None:
    """Mode gan names its two Outputs (engine.training.gan_design checks the networks behind them);
    a learning-rate schedule and early stopping watch one loss, which a GAN does not have."""
    known = ", ".join(output_ids or []) or "none"
    for key in ("generator", "discriminator"):
        name = values[key]
        if not isinstance(name, str) or not name:
            raise _fail(f"training.{key}", f"mode gan needs the id of the {key}'s Output node (Outputs: {known})")
        if output_ids is not None and name not in output_ids:
            raise _fail(f"training.{key}", f"is {json.dumps(name)}, which is not an Output node (Outputs: {known})")
    for key, off in (("schedule", values["schedule"].type == "none"), ("early_stopping", values["early_stopping"]
                                                                        is None)):
        if not off:
            raise _fail(f"training.{key}", "is not used by mode gan; remove it")


def _device(value: Any) -> str:
    if not isinstance(value, str) or parse_device_spec(value) is None:
        raise _fail("training.device", f"is {json.dumps(value)}; expected {DEVICE_HELP}")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _betas(value: Any, default: tuple[float, float]) -> tuple[float, float]:
    if value is None:
        return default
    if (not isinstance(value, list) or len(value) != 2 or not all(_number(v) and 0 <= v < 1 for v in value)):
        raise _fail("training.betas", f"is {json.dumps(value)}; expected two numbers from 0 to below 1, "
                    "e.g. [0.9, 0.999]")
    return (float(value[0]), float(value[1]))


def _loss_weights(value: Any, output_ids: list[str] | None) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("training.loss_weights", f"is {json.dumps(value)}; expected an object "
                    "{\"output_id\": weight}")
    out = {}
    for key, weight in value.items():
        if output_ids is not None and key not in output_ids:
            known = ", ".join(output_ids) or "none"
            raise _fail(f"training.loss_weights.{key}", f"no Output node has this id (Outputs: {known})")
        if not _number(weight) or weight < 0:
            raise _fail(f"training.loss_weights.{key}", f"is {json.dumps(weight)}; expected a number >= 0")
        out[key] = float(weight)
    return out


def _schedule(value: Any) -> Schedule:
    if value is None:
        return Schedule()
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict):
        raise _fail("training.schedule", f"is {json.dumps(value)}; expected one of {', '.join(SCHEDULES)} "
                    "or an object with \"type\"")
    kind = value.get("type", "none")
    if kind not in SCHEDULES:
        raise _fail("training.schedule.type", f"is {json.dumps(kind)}; expected one of {', '.join(SCHEDULES)}")
    options = {k: v for k, v in value.items() if k != "type"}
    return Schedule(kind, check_values(options, SCHEDULE_KEYS[kind], f"training.schedule ({kind})"))


def _early_stopping(value: Any) -> EarlyStopping | None:
    if value is None or value is False:
        return None
    if _number(value) and not isinstance(value, float):
        value = {"patience": value}
    values = check_values(value, EARLY_STOPPING_KEYS, "training.early_stopping")
    return EarlyStopping(**values)


def _initial_weights(value: Any) -> InitialWeights | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        raise _fail("training.initial_weights", f"is {json.dumps(value)}; expected a file path or "
                    "{\"path\": ..., \"nodes\": [...]}")
    unknown = set(value) - {"path", "nodes"}
    if unknown:
        raise _unknown("training.initial_weights", min(unknown), ["path", "nodes"])
    path, nodes = value.get("path"), value.get("nodes")
    if not isinstance(path, str) or not path:
        raise _fail("training.initial_weights.path", "needs the path of a .safetensors or .pt weights file")
    if nodes is not None and (not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes)):
        raise _fail("training.initial_weights.nodes", f"is {json.dumps(nodes)}; expected a list of node ids")
    return InitialWeights(path, tuple(nodes) if nodes is not None else None)


def _telemetry(value: Any) -> Telemetry:
    if value is None or value is True:
        return Telemetry()
    if value is False:
        return Telemetry(enabled=False)
    return Telemetry(**check_values(value, TELEMETRY_KEYS, "training.telemetry"))
