"""`python main.py check FILE [--expand]`: every node's output shape, parameters and MACs, then the totals;
blocks collapsed to one row each, or with `--expand` followed by the rows of their layers."""
from __future__ import annotations

from engine.cli.common import load_project, report_problems
from engine.memory import available_bytes
from graph.analysis import Analysis, analyse
from graph.blocks import repeat_of
from graph.footprint import footprint, node_memory, size_text
from graph.model import Graph
from graph.project import Project
from graph.shape_text import node_shape_text


def _cell(value: object) -> str:
    """Text for a table cell; ids and types from a broken file are quoted if they could break the line."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def table(project: Project, analysis: Analysis, expand: bool = False) -> str:
    """One row per node; a block node's row shows its block and the sums inside it, and with
    `expand` the rows of its layers follow, named by their path (`layer1_0.conv1`)."""
    rows = [("node", "type", "output shape", "params", "MACs", "weights", "act/sample")]
    _rows(project.graph, analysis, "", expand, rows)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[c].ljust(widths[c]) if c < 3 else row[c].rjust(widths[c]) for c in range(len(row))]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"Total: {analysis.total_params:,} parameters, {analysis.total_macs:,} MACs per sample"
                 f" ({len(project.graph.nodes)} nodes)")
    lines += memory_lines(analysis, available_bytes())
    return "\n".join(lines)


def memory_lines(analysis: Analysis, available: int | None) -> list[str]:
    """The memory totals (graph/footprint.py): weights, activations per sample, what training with Adam
    and inference need, and the largest batch that fits in `available` bytes (this machine's free RAM)."""
    total = footprint(analysis)
    lines = [f"Memory: {size_text(total.weights)} of weights, {size_text(total.per_sample)} of activations per sample",
             (f"  training (Adam): {size_text(total.fixed(True))} (weights, gradients, 2 optimiser states) + "
             f"{size_text(total.sample(True))} per sample (values and their gradients)"),
             f"  inference: {size_text(total.fixed(False))} + {size_text(total.sample(False))} per sample"]
    if available is not None:
        lines.append(f"  largest batch in {size_text(available)} of free RAM: training "
                     f"{total.largest_batch(available, True):,}, inference {total.largest_batch(available, False):,}")
    return lines


def _rows(graph: Graph, analysis: Analysis, prefix: str, expand: bool, rows: list[tuple[str, ...]]) -> None:
    for node in graph.nodes:
        if prefix and node.type in ("Input", "Output"):
            continue  # a block's ports repeat what the block node's row says
        info = analysis.nodes.get(node.id) if isinstance(node.id, str) else None
        known = info is not None and info.outputs is not None
        repeat = repeat_of(node)
        kind = f"{node.type} x{repeat}" if repeat != 1 else node.type
        memory = node_memory(info) if known else None
        rows.append((_cell(f"{prefix}{node.id}"), _cell(kind), node_shape_text(info),
                     f"{info.params:,}" if known else "?", f"{info.macs:,}" if known else "?",
                     size_text(memory.weights) if memory else "?", size_text(memory.activations) if memory else "?"))
        if expand and info is not None and info.inner is not None:
            _rows(info.inner.graph, info.inner.analysis, f"{prefix}{node.id}.", expand, rows)


def run(path: str, expand: bool = False) -> int:
    project = load_project(path)
    analysis = analyse(project.graph)
    print(f"{project.name} ({path})")
    print(table(project, analysis, expand))
    report_problems(analysis)
    if not analysis.valid:
        print(f"invalid: {len(analysis.errors)} problem(s)")
        return 1
    print("valid")
    return 0
