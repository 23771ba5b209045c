"""Live training in the window vs the headless trainer, idle and while the user works
(issues 7 and 11; DESIGN §7: ratios side by side).

    QT_QPA_PLATFORM=offscreen python bench/gui_training.py [--example spiral_mlp] [--epochs N] [--repeats 11]
        [--activity idle,select,zoom,pan]

The same run, interleaved (the order rotates each repeat):

* headless: `engine.training.Trainer.run()` with a `RunWriter` on the same kind of folder (what
  `python main.py train` does, without its console);
* window modes: the design opened in MainWindow (shown), Train pressed: the trainer in its
  QThread, events relayed to the GUI thread, the six plots, the canvas badges and the progress
  bar redrawn live on their timer, the decision boundary evaluated at epoch ends, the run kept
  in its folder. `idle`: nobody touches the window; `select`: a mouse click on the next node
  every ACTIVITY_MS (the Properties panel and the layer plots follow it); `zoom`: a wheel step
  over the canvas every ACTIVITY_MS (ten in, ten out); `pan`: a middle-button drag across the
  canvas, a mouse move every ACTIVITY_MS. The events go through the viewer's own handlers, as a
  real mouse's do.

The figure is samples/s over the run, from RunStarted to Finished on the training thread
(training, validation, checkpoints and hooks included): train samples x epochs / seconds;
median over repeats; each window mode against headless, as the ratio of the medians and as the
median of each repeat's pair (the pair ran in the same repeat, so a machine shared with other
jobs disturbs the pairs less than the medians). During the window's runs a QTimer probe due
every PROBE_MS measures how late the event loop serves it (p50, p99, max), per mode.
Targets: idle >= 0.90 of headless, with activity >= 0.85, event loop p99 < 50 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6 import QtCore, QtGui, QtWidgets

PROBE_MS = 20
ACTIVITY_MS = 50
MODES = ("idle", "select", "zoom", "pan")
TARGETS = {"idle": 0.90, "select": 0.85, "zoom": 0.85, "pan": 0.85}
SPIRAL = {"data": {"dataset": "spiral", "samples": 3000, "classes": 3},
          "training": {"batch_size": 64, "optimizer": "adam", "learning_rate": 0.01, "schedule": "cosine", "seed": 0}}


def design(example: str, epochs: int, folder: Path) -> Path:
    doc = json.loads((ROOT / "resources" / "examples" / f"{example}.loom").read_text())
    if example == "spiral_mlp":  # the sections the example has (filled in where an older copy lacks them)
        doc["data"] = {**SPIRAL["data"], **(doc.get("data") or {})}
        doc["training"] = {"epochs": 40, **SPIRAL["training"], **(doc.get("training") or {})}
    if epochs:
        doc["training"]["epochs"] = epochs
    path = folder / f"{example}.loom"
    path.write_text(json.dumps(doc))
    return path


class Clock:
    """Subscribed first, on the training thread: when the run really trains."""

    def __init__(self):
        self.started = self.ended = None
        self.samples = 0

    def __call__(self, event) -> None:
        if event.kind == "run_started":
            self.started = time.perf_counter()
            self.train_samples = event.train_samples
        elif event.kind == "epoch_ended":
            self.samples += self.train_samples
        elif event.kind in ("finished", "failed"):
            self.ended = time.perf_counter()
            self.result = event

    @property
    def rate(self) -> float:
        return self.samples / (self.ended - self.started)


def headless(path: Path, out: Path) -> Clock:
    from engine.training import RunWriter, Trainer
    from graph.project import load

    clock = Clock()
    trainer = Trainer(load(path), base_dir=path.parent, out_dir=out, on_event=clock)
    RunWriter(out, trainer, source_file=str(path))
    trainer.run()
    assert clock.result.kind == "finished", clock.result
    return clock


class Probe:
    """A QTimer due every PROBE_MS; lateness = how much later than due it fires."""

    def __init__(self):
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._fire)
        self.late: list[float] = []
        self.recording = False
        self._last = None

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def record(self, on: bool) -> None:
        self.recording = on
        self._last = time.perf_counter()

    def _fire(self) -> None:
        now = time.perf_counter()
        if self.recording and self._last is not None:
            self.late.append(max(0.0, (now - self._last) * 1000 - PROBE_MS))
        self._last = now


class Activity:
    """The user at work during a window run: every ACTIVITY_MS one mouse event of `mode` goes to
    the canvas's viewport, through the viewer's own handlers as a real mouse's would."""

    def __init__(self, window, mode: str):
        self.window, self.mode = window, mode
        self.viewer = window.canvas.viewer
        self.ids = [n.id for n in window.doc.graph.nodes]
        self.count = 0
        self.timer = QtCore.QTimer()
        self.timer.setInterval(ACTIVITY_MS)
        self.timer.timeout.connect(self._act)
        self._held = None

    def start(self) -> None:
        self.window.canvas.fit_view()
        self.count = 0
        if self.mode != "idle":
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._held is not None:
            self._mouse(QtCore.QEvent.Type.MouseButtonRelease, self._held, QtCore.Qt.MouseButton.NoButton)
            self._held = None

    def _send(self, event) -> None:
        QtWidgets.QApplication.sendEvent(self.viewer.viewport(), event)

    def _mouse(self, kind, pos: QtCore.QPointF, buttons, button=QtCore.Qt.MouseButton.MiddleButton) -> None:
        self._send(QtGui.QMouseEvent(kind, pos, QtCore.QPointF(self.viewer.viewport().mapToGlobal(pos)),
                                     button, buttons, QtCore.Qt.KeyboardModifier.NoModifier))

    def _act(self) -> None:
        i = self.count
        self.count += 1
        centre = QtCore.QPointF(self.viewer.viewport().rect().center())
        if self.mode == "select":
            item = self.window.canvas.item(self.ids[i % len(self.ids)]).view
            pos = QtCore.QPointF(self.viewer.mapFromScene(item.sceneBoundingRect().center()))
            left = QtCore.Qt.MouseButton.LeftButton
            self._mouse(QtCore.QEvent.Type.MouseButtonPress, pos, left, left)
            self._mouse(QtCore.QEvent.Type.MouseButtonRelease, pos, QtCore.Qt.MouseButton.NoButton, left)
        elif self.mode == "zoom":
            step = QtCore.QPoint(0, 120 if (i // 10) % 2 == 0 else -120)
            self._send(QtGui.QWheelEvent(centre, QtCore.QPointF(self.viewer.viewport().mapToGlobal(centre.toPoint())),
                                         QtCore.QPoint(), step, QtCore.Qt.MouseButton.NoButton,
                                         QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase,
                                         False))
        elif self.mode == "pan":  # strokes of ten 12-pixel moves from an empty corner, to the right and back
            middle = QtCore.Qt.MouseButton.MiddleButton
            corner = QtCore.QPointF(150.0, self.viewer.viewport().height() - 20.0)
            if i % 10 == 0:
                if self._held is not None:
                    self._mouse(QtCore.QEvent.Type.MouseButtonRelease, self._held, QtCore.Qt.MouseButton.NoButton)
                self._held = corner
                self._mouse(QtCore.QEvent.Type.MouseButtonPress, corner, middle)
            dx = 12.0 * (i % 10 + 1) * (1 if (i // 10) % 2 == 0 else -1)
            self._held = corner + QtCore.QPointF(dx, 0.0)
            self._mouse(QtCore.QEvent.Type.MouseMove, self._held, middle, QtCore.Qt.MouseButton.NoButton)


def in_window(window, activity: Activity, probe: Probe) -> tuple[Clock, dict]:
    from app.training import session as session_module

    clock = Clock()
    original = session_module.TrainingSession.start

    def start(self):  # subscribe the clock before the thread starts, ahead of the adapter
        self.trainer._subscribers.insert(0, clock)
        original(self)

    session_module.TrainingSession.start = start
    try:
        plots = window.training.ensure_plots()
        redraws = sum(f.redraws for f in plots.frames())
        loop = QtCore.QEventLoop()  # a real event loop: the GUI thread sleeps until something is due
        window.training.run_ended.connect(loop.quit)
        assert window.training.train(), window.statusBar().currentMessage()
        session = window.training.session
        activity.start()
        probe.record(True)
        loop.exec()
        probe.record(False)
        activity.stop()
        window.training.run_ended.disconnect(loop.quit)
        settle = QtCore.QTimer()  # the last redraws, after the run (not measured)
        settle.timeout.connect(lambda: window.training.settled and loop.quit())
        settle.start(20)
        loop.exec()
        settle.stop()
    finally:
        session_module.TrainingSession.start = original
    assert clock.result.kind == "finished", clock.result
    info = {"redraws": sum(f.redraws for f in plots.frames()) - redraws, "events": session.delivered,
            "wakeups": session.wakeups, "actions": activity.count}
    return clock, info


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/gui_training.py")
    parser.add_argument("--example", default="spiral_mlp")
    parser.add_argument("--epochs", type=int, default=0, help="the run's length (default: the example's)")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--size", default="1600x1000", help="window size")
    parser.add_argument("--activity", default=",".join(MODES),
                        help=f"window modes, comma-separated, from {', '.join(MODES)}")
    args = parser.parse_args(argv)
    modes = [m for m in args.activity.split(",") if m]
    if not modes or any(m not in MODES for m in modes):
        parser.error(f"--activity: choose from {', '.join(MODES)}")

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    from app.theme import apply_dark_theme

    apply_dark_theme(app)
    from app.main_window import MainWindow
    from app.training.loader import engine_loader

    scratch = Path(tempfile.mkdtemp(prefix="layerloom-bench-"))
    path = design(args.example, args.epochs, scratch)
    settings = QtCore.QSettings(str(scratch / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(str(path), settings=settings, recovery_dir=scratch / "recovery", runs_dir=scratch / "runs")
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    for _ in range(20):
        app.processEvents()
    engine_loader().wait()
    window.training.panel.ensure_built()
    probe = Probe()
    probe.start()
    activities = {m: Activity(window, m) for m in modes}

    # warm-up (imports, first optimiser, first plots), not counted
    headless(path, scratch / "warm-headless")
    in_window(window, activities[modes[0]], probe)
    probe.late.clear()

    runs = ["headless", *modes]
    rates: dict[str, list[float]] = {r: [] for r in runs}
    late: dict[str, list[float]] = {m: [] for m in modes}
    infos: dict[str, list[dict]] = {m: [] for m in modes}
    for i in range(args.repeats):
        for what in runs[i % len(runs):] + runs[:i % len(runs)]:
            if what == "headless":
                clock = headless(path, scratch / f"headless-{i}")
            else:
                clock, info = in_window(window, activities[what], probe)
                infos[what].append(info)
                late[what] += probe.late
                probe.late.clear()
            rates[what].append(clock.rate)
            print(f"  repeat {i + 1:>2} {what:8s} {clock.rate:10,.0f} samples/s  ({clock.ended - clock.started:.2f} s)",
                  flush=True)
    threads = window.training.store.started.device_name if window.training.store.started else "?"
    window.doc.undo_stack.setClean()
    window.close()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print()
    epochs = json.loads(path.read_text())["training"].get("epochs", 20)
    print(f"{args.example}: {epochs} epochs, {args.repeats} interleaved repeats; {threads}; "
          f"{cores} cores available ({os.cpu_count()} in the machine); load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"Python {platform.python_version()}, torch {__import__('torch').__version__}, "
          f"PySide6 {metadata.version('PySide6')}, pyqtgraph {metadata.version('pyqtgraph')}, "
          f"Qt platform {app.platformName()}")
    head = statistics.median(rates["headless"])
    print(f"{'':18s}{'samples/s':>10s}{'/ headless':>11s}{'pairs (range)':>22s}{'target':>8s}"
          f"{'loop p50':>10s}{'p99':>7s}{'max':>7s}  per run: actions, redraws")
    print(f"{'headless Trainer':18s}{head:10,.0f}")
    for mode in modes:
        pairs = [w / h for w, h in zip(rates[mode], rates["headless"])]
        lat = late[mode]
        typical = {k: round(statistics.median(i[k] for i in infos[mode])) for k in ("actions", "redraws")}
        print(f"{'window, ' + mode:18s}{statistics.median(rates[mode]):10,.0f}"
              f"{statistics.median(rates[mode]) / head:11.3f}"
              f"{statistics.median(pairs):9.3f} ({min(pairs):.2f}-{max(pairs):.2f})"
              f"{'>= ' + format(TARGETS[mode], '.2f'):>11s}"
              f"{percentile(lat, 50):8.1f}ms{percentile(lat, 99):5.1f}ms{max(lat, default=0):5.0f}ms"
              f"  {typical['actions']}, {typical['redraws']}")
    print("event loop lateness: a QTimer due every "
          f"{PROBE_MS} ms during the window's runs (target p99 < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
