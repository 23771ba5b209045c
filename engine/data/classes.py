"""How many classes a project's data set has: the output size "Replace head" gives the last layer
(docs/training.md, "Transfer learning"). The data set is read as training would read it (its
options, the graph's Inputs and Outputs), its labels counted without splitting or checking them
against the design, since the design is what is about to change."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.data.registry import Context, DataError, parse_section
from graph.analysis import Analysis
from graph.model import Graph


def class_count(section: Any, graph: Graph, analysis: Analysis, base_dir: str | Path = ".") -> int:
    """The number of classes of the data set in `section`; DataError when its targets are not classes."""
    from engine.data.prepare import graph_specs

    dataset, options = parse_section(section)
    inputs, outputs = graph_specs(graph, analysis)
    raw = dataset.load(options, Context(Path(base_dir), inputs, outputs, options["seed"]))
    if raw.classes:
        return len(raw.classes)
    targets = raw.targets[0] if raw.targets else None
    if targets is None or not np.issubdtype(targets.dtype, np.integer) or options["reconstruct"]:
        raise DataError(f"data.dataset: {dataset.name} gives no class labels, so there is no class count for "
                        "the head; Replace head is for classification data")
    return int(targets.max()) + 1
