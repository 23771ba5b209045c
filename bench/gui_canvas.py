"""Designer responsiveness on a 1,000-node design (issue 6; DESIGN §7: ratios side by side).

    QT_QPA_PLATFORM=offscreen python bench/gui_canvas.py [--nodes 1000] [--repeats 40] [--open-sizes 1000,5000]

Measures, in one run on one machine:

* open: `graph.project.load` + `analyse` (headless baseline) against opening the same file in
  the designer window: to the first paint (the nodes in view are built; the rest stream in
  between event-loop turns, the window answering meanwhile) and until every node is built;
* edit-to-repaint: `Graph.set_param` + `analyse` (headless baseline) against the same edit made
  as the user makes it (an undo command through the Editor, then the canvas, problems,
  summary and status bar updated and the viewport repainted, at the zoom a design opens with), for
  - a heavy edit: a width change that breaks half the network and back (hundreds of nodes
    change their annotation), and
  - a light edit: one node frozen and unfrozen (one annotation changes);
* move: dragging one node (command + repaint);
* code view: regenerating the code panel's text (runs 250 ms after the last edit, not per key);
* then big designs opened each in a fresh process beside an empty design (bench/gui_open.py:
  first paint, usable, every node built, the longest event-loop turn, peak memory), for flat
  designs of `--open-sizes` nodes and the block ResNet-18.

Prints medians and p99 in milliseconds, the ratios, the core count and library versions.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6 import QtCore, QtWidgets

from graph.analysis import analyse
from graph.model import Graph
from graph.project import Project, load, save


def residual_mlp(nodes: int) -> Project:
    """Input, then blocks Linear -> ReLU -> Linear -> Add(skip), then Output: about `nodes` nodes,
    laid out in rows of 10 blocks so that the scene is a realistic rectangle."""
    g = Graph()
    g.add_node("Input", "x", {"shape": [64]}, (0.0, 0.0))
    prev = "x"
    blocks = max(1, (nodes - 2) // 4)
    for b in range(blocks):
        row, col = divmod(b, 10)
        x0, y0 = 250.0 + col * 4 * 230.0, row * 260.0
        fc1, act, fc2, add = f"b{b}_fc1", f"b{b}_act", f"b{b}_fc2", f"b{b}_add"
        g.add_node("Linear", fc1, {"out_features": 64}, (x0, y0))
        g.add_node("ReLU", act, {}, (x0 + 230, y0))
        g.add_node("Linear", fc2, {"out_features": 64}, (x0 + 460, y0))
        g.add_node("Add", add, {}, (x0 + 690, y0 + 110))
        for src, dst, port in ((prev, fc1, 0), (fc1, act, 0), (act, fc2, 0), (fc2, add, 0), (prev, add, 1)):
            g.connect(src, dst, 0, port)
        prev = add
    g.add_node("Output", "y", {"loss": "mse"}, (0.0, (blocks // 10 + 1) * 260.0))
    g.connect(prev, "y")
    return Project(f"Residual MLP ({len(g.nodes)} nodes)", g)


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=40, help="edits per kind (each edit is done and undone)")
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--open-sizes", default="1000,5000", help="flat designs opened in their own process ('' skips)")
    args = parser.parse_args()

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from app.main_window import MainWindow
    from app.theme import apply_dark_theme

    apply_dark_theme(app)
    tmp = Path(tempfile.mkdtemp(prefix="layerloom-bench-"))
    path = tmp / "big.loom"
    project = residual_mlp(args.nodes)
    save(project, path)
    n = len(project.graph.nodes)

    settings = QtCore.QSettings(str(tmp / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(None, settings=settings, recovery_dir=tmp / "recovery")
    window.resize(1600, 950)
    window.show()
    app.processEvents()
    viewer = window.canvas.viewer

    def repaint() -> None:
        window.code._timer.stop()  # deferred code regeneration is measured on its own, below
        app.processEvents()
        viewer.viewport().repaint()

    # -- open -------------------------------------------------------------------------
    headless_open, first_paint, complete, close, pauses = [], [], [], [], []
    for _ in range(args.opens):
        headless_open.append(timed(lambda: analyse(load(path).graph)))
        start = time.perf_counter()
        window.open_path(path, ask=False)  # builds the nodes nearest the view, then returns
        repaint()
        first_paint.append(time.perf_counter() - start)
        while window.canvas.loading:  # the rest streams in between event-loop turns
            pauses.append(timed(app.processEvents))
        repaint()
        complete.append(time.perf_counter() - start)
        if len(close) < args.opens - 1:
            close.append(timed(lambda: (window.doc.replace(Project(), None), repaint())))
    assert len(window.doc.graph.nodes) == n and window.doc.analysis.valid

    full_view = []
    window.canvas.fit_view()
    for _ in range(5):
        full_view.append(timed(viewer.viewport().repaint))
    window._restore_view()  # back to the view a user gets on opening
    repaint()

    # -- edits ------------------------------------------------------------------------
    graph, editor = window.doc.graph, window.editor
    middle = n // 8  # a block early in the chain: the heavy edit breaks everything after it
    heavy_node = f"b{middle // 4}_fc2"
    light_node = f"b{(n // 4) // 2}_fc1"

    def heavy(value: int, gui: bool) -> None:
        if gui:
            editor.set_param(heavy_node, "out_features", value)
            repaint()
        else:
            graph.set_param(heavy_node, "out_features", value)
            analyse(graph)

    def light(value: bool, gui: bool) -> None:
        if gui:
            editor.set_trainable(light_node, value)
            repaint()
        else:
            graph.set_trainable(light_node, value)
            analyse(graph)

    results: dict[str, tuple[list[float], list[float]]] = {}
    for name, edit, values, current in (
        ("heavy edit (width breaks ~7/8 of the net, and back)", heavy, (32, 64), 64),
        ("light edit (freeze one node, and back)", light, (False, True), True),
    ):
        h, g = [], []
        for _ in range(args.repeats):
            for value in values:
                h.append(timed(lambda value=value, edit=edit: edit(value, False)))
                edit(current, False)  # put it back (untimed) so that the designer makes the same edit
                g.append(timed(lambda value=value, edit=edit: edit(value, True)))
                current = value
        results[name] = (h, g)
    editor.set_param(heavy_node, "out_features", 32)
    changed = sum(1 for node in graph.nodes if window.canvas.annotation(node.id).shape == "?")
    editor.set_param(heavy_node, "out_features", 64)

    moves = []
    item = window.canvas.item(light_node).view
    for i in range(args.repeats):
        old = tuple(graph[light_node].pos)
        new = (old[0] + (5 if i % 2 == 0 else -5), old[1])

        def drag(old=old, new=new):
            item.xy_pos = list(new)
            viewer.moved_nodes.emit({item: list(old)})
            repaint()

        moves.append(timed(drag))

    code = [timed(window.code.regenerate) for _ in range(max(3, args.repeats // 8))]

    # -- report -----------------------------------------------------------------------
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    print(f"LayerLoom designer benchmark: {n} nodes, {len(graph.edges)} wires")
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; PySide6 {version('PySide6')}; "
          f"NodeGraphQt {version('NodeGraphQt')}; torch {version('torch')}; Qt platform "
          f"{QtWidgets.QApplication.platformName()}")
    print()
    print(f"{'measure':58} {'median ms':>10} {'p99 ms':>9} {'n':>4}")
    ho, fp, co = stats(headless_open), stats(first_paint), stats(complete)
    print(f"{'open: load + analyse (headless baseline)':58} {ho[0]:10.1f} {ho[1]:9.1f} {len(headless_open):4}")
    print(f"{'open in the designer: first paint (nodes in view built)':58} {fp[0]:10.1f} {fp[1]:9.1f} {len(first_paint):4}")
    print(f"{'open in the designer: every node built and painted':58} {co[0]:10.1f} {co[1]:9.1f} {len(complete):4}")
    print(f"{'  ratio first paint / headless':58} {fp[0] / ho[0]:10.1f}x")
    print(f"{'  ratio complete / headless':58} {co[0] / ho[0]:10.1f}x")
    ps = stats(pauses)
    print(f"{'  while it streams in: one event-loop turn (a chunk)':58} {ps[0]:10.1f} {ps[1]:9.1f} {len(pauses):4}")
    cl = stats(close)
    print(f"{'close it (replace by an empty design)':58} {cl[0]:10.1f} {cl[1]:9.1f} {len(close):4}")
    fv = stats(full_view)
    print(f"{'repaint with all nodes in view (zoomed out to fit)':58} {fv[0]:10.1f} {fv[1]:9.1f} {len(full_view):4}")
    for name, (h, g) in results.items():
        hs, gs = stats(h), stats(g)
        print(f"{name}:")
        print(f"{'  set_param/set_trainable + analyse (headless baseline)':58} {hs[0]:10.2f} {hs[1]:9.2f} {len(h):4}")
        print(f"{'  undo command + annotations + panels + repaint':58} {gs[0]:10.2f} {gs[1]:9.2f} {len(g):4}")
        print(f"{'  ratio designer / headless':58} {gs[0] / hs[0]:10.1f}x")
    ms = stats(moves)
    print(f"{'move one node: command + repaint':58} {ms[0]:10.2f} {ms[1]:9.2f} {len(moves):4}")
    cs = stats(code)
    print(f"{'code panel regeneration (deferred 250 ms after edits)':58} {cs[0]:10.1f} {cs[1]:9.1f} {len(code):4}")
    print(f"\n(the heavy edit changes the annotation of {changed} nodes each way)")
    window.doc.undo_stack.setClean()
    window.close()
    if args.open_sizes:
        from gui_open import measure, report

        print(f"\nopening big designs (each in its own process; load average {os.getloadavg()[0]:.2f}):")
        report(measure([int(v) for v in args.open_sizes.split(",")], min(args.opens, 3)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
