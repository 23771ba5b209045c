"""Opening big designs in the designer (issue 13, item 5; DESIGN §7: ratios side by side).

    QT_QPA_PLATFORM=offscreen python bench/gui_open.py [--sizes 1000,5000] [--opens 3] [--no-torch]

Each design opens in a fresh process (so that peak memory is its own), beside an empty design
opened the same way (the baseline) and a design with blocks (resources/examples/resnet18.loom,
which shows its top level). Reported per design:

* first paint: `open_path` until the window has painted the view (the nodes in view built);
* usable: until the nodes in view are built and interactive and the event loop answers, i.e.
  every node whose place the view shows has its item. The rest is built between event-loop turns
  of at most about 30 ms and shown as stand-ins meanwhile; the longest turn is reported;
* every node built: until the last item exists (nothing waits for this);
* peak RSS of the process, and its growth over the empty window's.

The window is set up as `python main.py` sets it up (app.launch.WarmUp), empty at first (as with
`python main.py FILE`; the default example, a small design, would warm PyTorch up): it imports
PyTorch (about 230 MB) in idle time for a design that is not big, and the column "PyTorch" says
where it did (its import is then waited for, so that the peak counts it). `--no-torch` runs every process
with PyTorch blocked (the Training panel then says it is unavailable): what the designer itself
costs.

Checked, not timed: fit view frames every node; a node in view is selected and dragged by the
mouse; a node far from the view gets its item when the Problems panel's way (`show_node`)
brings it to the middle.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = ROOT / "resources" / "examples" / "resnet18.loom"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_one(path: Path, opens: int, torch: bool = True) -> dict:
    """Runs in its own process: open `path` `opens` times (the first for the peak memory)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not torch:
        sys.modules["torch"] = None  # every import of it fails at once
    sys.path.insert(0, str(ROOT))
    from PySide6 import QtCore, QtTest, QtWidgets

    from graph.project import Project

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from app.launch import WarmUp
    from app.main_window import MainWindow
    from app.theme import apply_dark_theme
    from app.training.loader import engine_loader

    apply_dark_theme(app)
    tmp = Path(tempfile.mkdtemp(prefix="layerloom-open-"))
    settings = QtCore.QSettings(str(tmp / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(None, settings=settings, recovery_dir=tmp / "recovery")
    window.resize(1600, 950)
    window.doc.replace(Project(), None)  # not the default example: a small design would warm PyTorch up
    window.show()
    WarmUp(window.doc, window)  # as `python main.py` does: PyTorch in idle time for designs not big
    QtTest.QTest.qWait(1500)    # the window's own start-up is over (an empty window loads no PyTorch)
    canvas, viewer = window.canvas, window.canvas.viewer
    rss_window = rss_mb()

    def in_view_built() -> bool:
        view = canvas.visible_rect()
        return all(n.id in canvas._nodes for n in window.doc.graph.nodes
                   if n.pos is not None and view.intersects(QtCore.QRectF(n.pos[0], n.pos[1], 150.0, 60.0)))

    first, usable, complete, turns, rss_built = [], [], [], [], 0.0
    for i in range(opens):
        window.doc.replace(Project(), None)
        app.processEvents()
        start = time.perf_counter()
        window.open_path(path, ask=False)
        app.processEvents()
        viewer.viewport().repaint()
        first.append(time.perf_counter() - start)
        while not in_view_built():
            turns.append(_timed(app.processEvents))
        usable.append(time.perf_counter() - start)
        while canvas.loading or window.code._worker is not None and window.code._worker.is_alive():
            turns.append(_timed(app.processEvents))
        complete.append(time.perf_counter() - start)
        if i == 0:
            rss_built = rss_mb()
    loader = engine_loader()
    warmed = loader.state != "idle"   # the window's warm-up started: its memory is in the peak too
    if warmed:
        loader.wait()
        loader.wait_warm()
    graph = window.doc.graph
    nodes = len(graph.nodes)
    # checks: every node framed by fit view; a node in view selected and dragged by the mouse
    if nodes:
        canvas.fit_view()
        frame = canvas.visible_rect()
        assert all(frame.contains(QtCore.QPointF(*n.pos)) for n in graph.nodes if n.pos is not None)
        window._restore_view()
        app.processEvents()
        node = next(n for n in graph.nodes if n.id in canvas._nodes and canvas.visible_rect().contains(
            canvas.item(n.id).view.sceneBoundingRect().center()))
        before = tuple(graph[node.id].pos)
        title = canvas.item(node.id).view.sceneBoundingRect().topLeft() + QtCore.QPointF(40.0, 8.0)
        at = viewer.mapFromScene(title)
        QtTest.QTest.mousePress(viewer.viewport(), QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier, at)
        for step in range(1, 6):
            QtTest.QTest.mouseMove(viewer.viewport(), at + QtCore.QPoint(8 * step, 0))
        QtTest.QTest.mouseRelease(viewer.viewport(), QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier, at + QtCore.QPoint(40, 0))
        assert canvas.selected_ids() == [node.id] and tuple(graph[node.id].pos) != before, "select and drag"
    return {
        "nodes": nodes, "first": first, "usable": usable, "complete": complete,
        "turn_median": statistics.median(turns) if turns else 0.0, "turn_max": max(turns, default=0.0),
        "turns": len(turns), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "built_mb": rss_built, "window_mb": rss_window, "torch": warmed and loader.is_ready,
    }


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(sizes: list[int], opens: int, torch: bool = True) -> list[tuple[str, dict]]:
    """Every design in its own process, one after the other; the baseline first."""
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from gui_canvas import residual_mlp

    from graph.project import Project, save

    tmp = Path(tempfile.mkdtemp(prefix="layerloom-open-"))
    designs = [("empty design (baseline)", tmp / "empty.loom")]
    save(Project("empty"), designs[0][1])
    for n in sizes:
        path = tmp / f"flat{n}.loom"
        save(residual_mlp(n), path)
        designs.append((f"flat, {n:,} nodes", path))
    if BLOCKS.exists():
        designs.append(("blocks: resnet18.loom, top level", BLOCKS))
    results = []
    for name, path in designs:
        out = subprocess.run([sys.executable, __file__, "--one", str(path), "--opens", str(opens),
                              *([] if torch else ["--no-torch"])],
                             check=False, capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        if out.returncode != 0:
            raise SystemExit(f"{name}: {out.stderr[-2000:]}")
        results.append((name, json.loads(out.stdout.strip().splitlines()[-1])))
    return results


def report(results: list[tuple[str, dict]]) -> None:
    base = results[0][1]
    def ms(xs: list[float]) -> float:
        return statistics.median(xs) * 1000

    print(f"{'open a design (median of opens; ratio to the empty design)':44} {'nodes':>6} {'first paint':>16} "
          f"{'usable':>16} {'all built':>9} {'turn max':>9} {'peak RSS':>16} PyTorch")
    for name, r in results:
        print(f"{name:44} {r['nodes']:6,} {ms(r['first']):8.0f} ms {ms(r['first']) / ms(base['first']):4.1f}x "
              f"{ms(r['usable']):8.0f} ms {ms(r['usable']) / ms(base['usable']):4.1f}x {ms(r['complete']):6.0f} ms "
              f"{r['turn_max'] * 1000:6.0f} ms {r['peak_mb']:7.0f} MB {r['peak_mb'] / base['peak_mb']:4.2f}x "
              f"{'loaded' if r['torch'] else '-'}")
    for name, r in results[1:]:
        if r["nodes"]:
            per = (r["built_mb"] - r["window_mb"]) / r["nodes"] * 1024
            print(f"  {name}: {per:.0f} KB a node once all are built; event-loop turns while building: "
                  f"median {r['turn_median'] * 1000:.0f} ms over {r['turns']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--opens", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true", help="block PyTorch: the designer's own cost")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(open_one(Path(args.one), args.opens, torch=not args.no_torch)))
        return 0
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}"
          + ("; PyTorch blocked" if args.no_torch else ""))
    report(measure([int(s) for s in args.sizes.split(",")], args.opens, torch=not args.no_torch))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
