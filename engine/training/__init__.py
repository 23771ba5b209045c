"""Training: the Qt-free trainer, its settings and events, losses, optimisers, telemetry, checkpoints.

    from engine.training import Trainer
    trainer = Trainer(project, base_dir=folder_of_the_loom, out_dir="runs/x")
    trainer.subscribe(callback)   # receives the events of engine.training.events
    trainer.run()                 # -> Finished | Failed; stop()/pause()/resume() from any thread

The names below are imported on first use (engine.lazy): the declarations in
engine.training.settings and the events need no torch, and importing them does not load it.
"""
from engine.lazy import lazy_exports

_EXPORTS = {
    "engine.training.device": ("DeviceInfo", "available_devices", "resolve_device"),
    "engine.training.events": (
        "ActivationSample", "Activations", "CheckpointSaved", "EpochEnded", "Event", "Failed", "Finished",
        "GradientNorms", "Histogram", "LayerSummary", "Note", "Paused", "Resumed", "RunStarted", "Samples", "Step",
        "TrainingError", "WeightStats",
    ),
    "engine.training.outputs": ("RunWriter",),
    "engine.training.settings": ("TrainingSettings", "parse_training"),
    "engine.training.trainer": ("Trainer",),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
