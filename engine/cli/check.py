"""`python main.py check FILE`: every node's output shape, parameters and MACs, then the totals."""
from __future__ import annotations

from engine.cli.common import load_project, report_problems
from graph.analysis import Analysis, analyse
from graph.project import Project
from graph.shape_text import node_shape_text


def _cell(value: object) -> str:
    """Text for a table cell; ids and types from a broken file are quoted if they could break the line."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def table(project: Project, analysis: Analysis) -> str:
    rows = [("node", "type", "output shape", "params", "MACs")]
    for node in project.graph.nodes:
        info = analysis.nodes.get(node.id) if isinstance(node.id, str) else None
        known = info is not None and info.outputs is not None
        rows.append((_cell(node.id), _cell(node.type), node_shape_text(info),
                     f"{info.params:,}" if known else "?", f"{info.macs:,}" if known else "?"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[c].ljust(widths[c]) if c < 3 else row[c].rjust(widths[c]) for c in range(5)]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"Total: {analysis.total_params:,} parameters, {analysis.total_macs:,} MACs per sample"
                 f" ({len(project.graph.nodes)} nodes)")
    return "\n".join(lines)


def run(path: str) -> int:
    project = load_project(path)
    analysis = analyse(project.graph)
    print(f"{project.name} ({path})")
    print(table(project, analysis))
    report_problems(analysis)
    if not analysis.valid:
        print(f"invalid: {len(analysis.errors)} problem(s)")
        return 1
    print("valid")
    return 0
