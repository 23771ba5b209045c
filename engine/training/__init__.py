"""Training: the Qt-free trainer, its settings and events, losses, optimisers, telemetry, checkpoints.

    from engine.training import Trainer
    trainer = Trainer(project, base_dir=folder_of_the_loom, out_dir="runs/x")
    trainer.subscribe(callback)   # receives the events of engine.training.events
    trainer.run()                 # -> Finished | Failed; stop()/pause()/resume() from any thread
"""
from engine.training.device import DeviceInfo, available_devices, resolve_device
from engine.training.events import (
    Activations,
    ActivationSample,
    CheckpointSaved,
    EpochEnded,
    Event,
    Failed,
    Finished,
    GradientNorms,
    Histogram,
    LayerSummary,
    Note,
    Paused,
    Resumed,
    RunStarted,
    Step,
    TrainingError,
    WeightStats,
)
from engine.training.outputs import RunWriter
from engine.training.settings import TrainingSettings, parse_training
from engine.training.trainer import Trainer

__all__ = [
    "ActivationSample", "Activations", "CheckpointSaved", "DeviceInfo", "EpochEnded", "Event", "Failed", "Finished",
    "GradientNorms", "Histogram", "LayerSummary", "Note", "Paused", "Resumed", "RunStarted", "RunWriter", "Step",
    "Trainer", "TrainingError", "TrainingSettings", "WeightStats", "available_devices", "parse_training",
    "resolve_device",
]
