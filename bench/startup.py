"""How long `python main.py` takes to be ready, against an empty QMainWindow launched the same way
(issue 11: ready < 1.0 s after launch; DESIGN §7).

Each sample is a fresh process started from here, timed from the start of the process to a line
it prints:

- empty:  `QApplication`, a bare `QMainWindow`, `show()`, and the first turn of the event loop;
          what any PySide6 program pays before it can answer the user;
- shown:  LayerLoom's window after `show()`, at the first turn of the event loop;
- ready:  the Code panel holds the opened design's code and the palette lists the layer types:
          the window is usable. The engine warm-up (torch, on a thread of its own, 1 s after the
          window is up) is left as `main.py` starts it.

LayerLoom is started through `main.main([])` itself (preflight checks, theme, default example,
recovery), with only `MainWindow.show` wrapped to watch for readiness; QSettings and the
recovery folder live in a fresh temporary home, so no saved window state or autosave intrudes.
The two kinds run alternately, repeat by repeat; the figures are medians, and `ratio` is
LayerLoom ready / empty. Prints the machine's cores, load and versions.

    QT_QPA_PLATFORM=offscreen python bench/startup.py [--repeats 9]
    xvfb-run -a python bench/startup.py          # a real X server
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EMPTY = """
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication([])
window = QtWidgets.QMainWindow()
window.resize(1280, 800)
window.show()
def done():
    print("READY", flush=True)
    app.quit()
QtCore.QTimer.singleShot(0, done)
app.exec()
"""

LAYERLOOM = """
import sys, time
from PySide6 import QtCore, QtWidgets
import app.main_window as mw
import main

show = mw.MainWindow.show

def watched(window):
    show(window)
    def shown():
        print("SHOWN", time.perf_counter(), flush=True)
    def poll():
        if "(nn.Module):" in window.code.toPlainText() and window.palette.tree.topLevelItemCount():
            timer.stop()
            print("READY", time.perf_counter(), "torch" in sys.modules, flush=True)
            QtWidgets.QApplication.instance().quit()
    timer = QtCore.QTimer(window, interval=5, timeout=poll)
    QtCore.QTimer.singleShot(0, shown)
    timer.start()

mw.MainWindow.show = watched
print("START", time.perf_counter(), flush=True)
sys.exit(main.main([]))
"""


def launch(code: str, home: str) -> dict[str, float]:
    """Seconds from the process start to each line it prints ('SHOWN', 'READY')."""
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
           "XDG_DATA_HOME": os.path.join(home, ".local", "share"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    seen: dict[str, float] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        word = line.split()[0] if line.strip() else ""
        if word in ("SHOWN", "READY"):
            seen[word] = time.perf_counter() - start
        if word == "READY" and len(line.split()) > 2:
            seen["torch"] = float(line.split()[2] == "True")
    proc.wait(timeout=120)
    if "READY" not in seen:
        raise SystemExit(f"the process ended (exit {proc.returncode}) without getting ready")
    return seen


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min); "
          f"Python {platform.python_version()}, torch {version('torch')}, PySide6 {version('PySide6')}, "
          f"platform {os.environ.get('QT_QPA_PLATFORM', 'offscreen')}")
    empty, shown, ready, torch_loaded = [], [], [], 0
    with tempfile.TemporaryDirectory(prefix="layerloom-startup-") as home:
        launch(EMPTY, home), launch(LAYERLOOM, home)  # warm the file cache for both
        for i in range(args.repeats):
            order = (EMPTY, LAYERLOOM) if i % 2 == 0 else (LAYERLOOM, EMPTY)
            for code in order:
                seen = launch(code, home)
                if code is EMPTY:
                    empty.append(seen["READY"])
                else:
                    shown.append(seen["SHOWN"])
                    ready.append(seen["READY"])
                    torch_loaded += int(seen.get("torch", 0))
    e, s, r = (statistics.median(v) for v in (empty, shown, ready))
    print(f"{'':24}{'median':>9}{'min':>9}{'max':>9}")
    for name, values in (("empty QMainWindow ready", empty), ("LayerLoom shown", shown), ("LayerLoom ready", ready)):
        print(f"{name:24}{statistics.median(values):8.3f}s{min(values):8.3f}s{max(values):8.3f}s")
    print(f"ratio ready / empty: {r / e:.2f}; ready - shown: {r - s:.3f} s; target: ready < 1.0 s")
    print(f"torch already imported when ready: {torch_loaded} of {len(ready)} runs (expected 0: it loads later, "
          "on a thread of its own)")


if __name__ == "__main__":
    main()
