"""Live training in the window vs the headless trainer (issue 7; DESIGN §7: ratios side by side).

    QT_QPA_PLATFORM=offscreen python bench/gui_training.py [--example spiral_mlp] [--epochs N] [--repeats 11]

The same run, interleaved (the order alternates each repeat):

* window: the design opened in MainWindow (shown), Train pressed: the trainer in its QThread,
  events relayed to the GUI thread, the six plots, the canvas badges and the progress bar
  redrawn live on their timer, the decision boundary evaluated at epoch ends, the run kept in
  its folder;
* headless: `engine.training.Trainer.run()` with a `RunWriter` on the same kind of folder (what
  `python main.py train` does, without its console).

The figure is samples/s over the run, from RunStarted to Finished on the training thread
(training, validation, checkpoints and hooks included): train samples x epochs / seconds;
median over repeats; ratio window / headless, as the ratio of the medians and as the median of
each repeat's pair (the pair ran back to back, so a machine shared with other jobs disturbs the
pairs less than the medians). During the window's runs a QTimer probe due
every PROBE_MS measures how late the event loop serves it (p50, p99, max).
Targets: ratio >= 0.90, p99 < 50 ms.
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

from PySide6 import QtCore, QtWidgets

PROBE_MS = 20
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


def in_window(window, app, clock_box: list, probe: Probe) -> tuple[Clock, dict]:
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
        probe.record(True)
        loop.exec()
        probe.record(False)
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
            "wakeups": session.wakeups}
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
    args = parser.parse_args(argv)

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

    # warm-up (imports, first optimiser, first plots), not counted
    headless(path, scratch / "warm-headless")
    in_window(window, app, [], probe)
    probe.late.clear()

    gui_rates, head_rates, infos, pairs = [], [], [], []
    for i in range(args.repeats):
        order = ("window", "headless") if i % 2 == 0 else ("headless", "window")
        for what in order:
            if what == "window":
                clock, info = in_window(window, app, [], probe)
                gui_rates.append(clock.rate)
                infos.append(info)
            else:
                clock = headless(path, scratch / f"headless-{i}")
                head_rates.append(clock.rate)
            print(f"  repeat {i + 1:>2} {what:8s} {clock.rate:10,.0f} samples/s  ({clock.ended - clock.started:.2f} s)",
                  flush=True)
        pairs.append(gui_rates[-1] / head_rates[-1])
    gui, head = statistics.median(gui_rates), statistics.median(head_rates)
    late = probe.late
    threads = window.training.store.started.device_name if window.training.store.started else "?"
    window.doc.undo_stack.setClean()
    window.close()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print()
    epochs = json.loads(path.read_text())["training"].get("epochs", 20)
    print(f"{args.example}: {epochs} epochs, {args.repeats} interleaved repeats; {threads}; "
          f"{cores} cores available ({os.cpu_count()} in the machine)")
    print(f"Python {platform.python_version()}, torch {__import__('torch').__version__}, "
          f"PySide6 {metadata.version('PySide6')}, pyqtgraph {metadata.version('pyqtgraph')}, "
          f"Qt platform {app.platformName()}")
    print(f"{'':28s}{'median samples/s':>18s}")
    print(f"{'headless Trainer':28s}{head:18,.0f}")
    print(f"{'in the window (plots live)':28s}{gui:18,.0f}")
    print(f"ratio window / headless: {gui / head:.3f} (of the medians), {statistics.median(pairs):.3f} (median of "
          f"the {len(pairs)} pairs; range {min(pairs):.2f}-{max(pairs):.2f})   (target >= 0.90)")
    print(f"event loop lateness during the runs ({len(late):,} probes every {PROBE_MS} ms): "
          f"p50 {percentile(late, 50):.1f} ms, p99 {percentile(late, 99):.1f} ms, max {max(late, default=0):.1f} ms"
          "   (target p99 < 50 ms)")
    def typical(key: str) -> int:
        return round(statistics.median(i[key] for i in infos)) if infos else 0

    print(f"per window run (median): {typical('events'):,} events in {typical('wakeups'):,} GUI-thread wake-ups, "
          f"{typical('redraws'):,} plot redraws (after the run included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
