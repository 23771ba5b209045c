"""Data sets for training: built-in generators, bundled digits, and the user's files
(CSV, .npz, MNIST IDX, image folders); fitted to the graph's Input and Output nodes.

Loading never executes code from a data file.
"""
from engine.data.augment import Augment
from engine.data.loader import BatchLoader, Split
from engine.data.prepare import Prepared, TargetSpec, prepare_data
from engine.data.registry import COMMON_KEYS, DataError, DatasetType, all_datasets, get

__all__ = [
    "COMMON_KEYS", "Augment", "BatchLoader", "DataError", "DatasetType", "Prepared", "Split", "TargetSpec",
    "all_datasets", "get", "prepare_data",
]
