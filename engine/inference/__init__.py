"""Prediction with a design's model (issue 15): one sample or a batch, every node's value on the
way, MC-dropout uncertainty and attention weights; Qt-free, for the `predict` command and the
window's Predict panel alike (docs/predict.md). Names are imported on first use (engine.lazy)."""
from engine.lazy import lazy_exports

_EXPORTS = {
    "engine.inference.predictor": ("MonteCarlo", "OutputResult", "PredictError", "Predictor", "Trace"),
    "engine.inference.stats": ("OutputKind", "Spread", "entropy", "probabilities", "spread", "summary"),
    "engine.inference.run": ("RunModel", "load_run"),
    "engine.inference.inputs": ("read_input", "validation_sample"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
