"""Data sets for training: built-in generators, bundled digits, and the user's files
(CSV, .npz, MNIST IDX, image folders); fitted to the graph's Input and Output nodes.

Loading never executes code from a data file. The declarations (engine.data.registry: the
data sets, their options, `parse_section`) need no torch; the names below are imported on
first use (engine.lazy), so that importing the declarations does not load it.
"""
from engine.lazy import lazy_exports

_EXPORTS = {
    "engine.data.augment": ("Augment",),
    "engine.data.loader": ("BatchLoader", "Split"),
    "engine.data.prepare": ("Prepared", "TargetSpec", "prepare_data"),
    "engine.data.registry": ("COMMON_KEYS", "DataError", "DatasetType", "all_datasets", "get", "parse_section"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
