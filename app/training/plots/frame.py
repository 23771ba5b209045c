"""PlotFrame, what every live plot is: a title row (title, the plot's own controls, PNG and CSV
buttons) over a pyqtgraph view; redrawn from a RunData when its group's revision moved, keeping
the user's view once they zoom or pan; and the pens, markers and axes the plots share."""
from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from app.training.plots.numerics import nice_range
from app.training.plots.parts import EmptyState, TitleLine
from app.training.store import RunData

BACKGROUND = (30, 30, 32)
pg.setConfigOptions(background=BACKGROUND, foreground=(200, 204, 210), antialias=False)

TRAIN_COLOR = (96, 165, 250)
VAL_COLOR = (250, 152, 60)
OVERLAY_COLORS = ((150, 150, 160), (190, 140, 200), (130, 190, 160), (200, 190, 120))
MARKED_POINTS = 25        # epoch curves show a marker per point up to this many points
SAMPLES_PER_PIXEL = 1.0   # per-step curves are thinned to about this many points per pixel (peak-preserving)


def pen(color, width: float = 1.5, alpha: int = 255, dash: bool = False):
    made = pg.mkPen((*color, alpha), width=width)
    if dash:
        made.setStyle(QtCore.Qt.PenStyle.DashLine)
    return made


def mark_points(curve, count: int, symbol: str = "o") -> None:
    """Per-epoch markers while a curve has few points (a single epoch shows as a dot, not as an
    invisible line); none beyond MARKED_POINTS, where they would cost more than they show."""
    wanted = symbol if count <= MARKED_POINTS else None
    if curve.opts["symbol"] != wanted:
        curve.setSymbol(wanted)

class PlotFrame(QtWidgets.QFrame):
    """A titled plot that redraws from a RunData when its group's revision moved, at most every
    `min_gap` seconds (the panel's CPU budget decides how often it really does)."""

    group = "loss"
    title = ""
    min_gap = 0.25
    empty_text = ""

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.store: RunData | None = None
        self.overlays: list = []
        self.selected: str | None = None
        self._drawn: tuple | None = None
        self.redraws = 0
        self._last_draw = -1e9
        self.user_range = False   # the user zoomed or panned: the plot keeps their view
        self.overlay_items: list = []              # earlier runs' curves (app.training.runs_tab chooses them)
        self._overlay_key: tuple | None = None     # the overlays and what they were drawn against
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.setSpacing(1)
        self.header = QtWidgets.QHBoxLayout()
        self.header.setContentsMargins(4, 0, 2, 0)
        self.header.setSpacing(4)
        self.title_line = TitleLine(self.title)
        self.title_line.setObjectName(f"{name}Title")
        self.header.addWidget(self.title_line, 1)   # takes the room the controls leave
        outer.addLayout(self.header)
        self.view = self.make_view()
        self.view.setObjectName(f"{name}View")
        outer.addWidget(self.view, 1)
        self.empty = EmptyState(self.view, [item.getViewBox() for item in self.plot_items()])
        self._controls()
        for label, tip, slot in (("PNG", "Save this plot as a PNG image", self.save_png_dialog),
                                 ("CSV", "Save this plot's data as CSV", self.save_csv_dialog)):
            button = QtWidgets.QToolButton()
            button.setText(label)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setObjectName(f"{name}Save{label}")
            button.clicked.connect(slot)
            self.header.addWidget(button)
        for vb in self.view_boxes():
            vb.disableAutoRange()
            vb.sigRangeChangedManually.connect(self._on_user_range)
            menu = vb.menu
            menu.addSeparator()
            menu.addAction("Save as PNG…", self.save_png_dialog)
            menu.addAction("Save data as CSV…", self.save_csv_dialog)
        for item in self.plot_items():
            item.autoBtn.clicked.connect(self.follow_again)  # after pyqtgraph's own handler
            for side in ("left", "bottom", "right"):  # 0.002, not 2 with "(x0.001)" in the label
                axis = item.getAxis(side)
                axis.setSIPrefixEnableRanges(())
                axis.updateAutoSIPrefix()

    def plot_items(self) -> list:
        return [self.view.getPlotItem()]

    def _overlays_stale(self, key: tuple) -> bool:
        """Whether the overlaid runs' curves must be built again for `key` (the runs and what they are
        drawn against: the log axis, the metric); if so the old ones are taken off first. Overlays
        are built once, not on every redraw: a 50,000-step run took 40-60 ms a redraw to rebuild."""
        if key == self._overlay_key:
            return False
        self._overlay_key = key
        item = plot_item(self)
        for old in self.overlay_items:
            item.removeItem(old)
        self.overlay_items = []
        return True

    def _on_user_range(self, *_args) -> None:
        self.user_range = True

    def follow_again(self) -> None:
        """Follow the data again (the "A" button)."""
        self.user_range = False
        for vb in self.view_boxes():
            vb.disableAutoRange()
        self._drawn = None
        self.refresh(force=True)

    def follow(self, vb, x: tuple[float, float] | None = None, y: tuple | None = None, ylog: bool = False,
               exact_x: bool = True, exact_y: bool = False) -> None:
        """Move the view to the data (see `nice_range`) unless the user has taken it over.
        `x`/`y` are (low, high) of the data; exact_* sets that axis to it as it is."""
        if self.user_range:
            return
        current = vb.viewRange()
        new = [None, None]
        for axis, want, exact, log in ((0, x, exact_x, False), (1, y, exact_y, ylog)):
            if want is None or want[0] is None:
                continue
            if exact:
                lo, hi = want
                if hi <= lo:
                    hi = lo + 1.0
                if (lo, hi) != tuple(current[axis]):
                    new[axis] = (lo, hi)
            else:
                new[axis] = nice_range(want[0], want[1], tuple(current[axis]), log)
        if new[0] is not None or new[1] is not None:
            vb.setRange(xRange=new[0] or current[0], yRange=new[1] or current[1], padding=0, update=True,
                        disableAutoRange=True)

    def horizon(self) -> tuple[float, float]:
        """The time axis in epochs: the whole run while it goes, what it trained once it has
        ended (stopped early: its data fill the axis); and any overlaid run."""
        epochs = 0.0
        store = self.store
        if store is not None and store.result is not None:
            epochs = store.trained_epochs()
        elif store is not None and store.progress.epochs:
            epochs = float(store.progress.epochs)
        for run in self.overlays:
            if len(run.epochs):
                epochs = max(epochs, float(np.nanmax(run.epochs)))
        return (0.0, max(epochs, 1.0))

    # -- to override ------------------------------------------------------------------
    def make_view(self) -> QtWidgets.QWidget:
        return pg.PlotWidget()

    def view_boxes(self) -> list:
        return [self.view.getPlotItem().getViewBox()]

    def _controls(self) -> None:
        pass

    def draw(self, store: RunData) -> None:
        raise NotImplementedError

    def clear_view(self) -> None:
        pass

    @staticmethod
    def ranges(*pairs, x=(0.0, 1.0), y=(0.0, 1.0)):
        """An `empty_ranges` method: (x, y) ranges per plot item, or `x` and `y` for the one."""
        return lambda _self: list(pairs) or [(x, y)]

    def empty_ranges(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """(x range, y range) of each plot item before there is data: one epoch, 0 to 1."""
        return [((0.0, 1.0), (0.0, 1.0))] * len(self.plot_items())

    def empty_reason(self, store: RunData | None) -> str | None:
        """What the plot says over its axes instead of data: what a run will show here."""
        return self.empty_text if store is None or store.started is None else None

    def csv_table(self) -> tuple[list[str], list[list]]:
        return [], []

    # -- redrawing ----------------------------------------------------------------------
    def set_store(self, store: RunData | None) -> None:
        self.store = store
        self.user_range = False
        self._drawn = None
        self.clear_view()
        for item, (x, y) in zip(self.plot_items(), self.empty_ranges()):
            item.getViewBox().setRange(xRange=x, yRange=y, padding=0)
        self.empty.show_text(self.empty_reason(store))
        self.refresh()

    def set_overlays(self, overlays: list) -> None:
        self.overlays = list(overlays)
        self._drawn = None
        self.refresh(force=True)   # what the user asked for shows at once, budget or not

    def select_node(self, node: str | None, at_once: bool = True) -> None:
        """Follow `node`: redrawn now, or (not `at_once`: a click on the canvas while a run
        trains) at the next redraw the GUI thread's CPU budget allows."""
        if node != self.selected:
            self.selected = node
            self._drawn = None
            if at_once:
                self.refresh(force=True)

    def _key(self) -> tuple:
        store = self.store
        return (id(store), store.revision[self.group] if store is not None else -1, self.selected, len(self.overlays))

    def due(self, now: float) -> float | None:
        """How overdue a redraw is (seconds past `min_gap`), or None when none is wanted now."""
        if self._key() == self._drawn or not self.isVisible():
            return None
        late = now - self._last_draw - self.min_gap
        return late if late >= 0 else None

    def refresh(self, force: bool = False) -> bool:
        """Redraw if the data changed since the last draw, the plot can be seen and `min_gap` has
        passed (`force`: now, whatever the gap and visibility); True if drawn."""
        key = self._key()
        if key == self._drawn and not force:
            return False
        now = time.monotonic()
        if not force and self.due(now) is None:
            return False
        self._drawn = key
        if self.store is not None:
            self.draw(self.store)
            self.empty.show_text(self.empty_reason(self.store))
            self.redraws += 1
        self._last_draw = time.monotonic()
        return True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QtCore.QTimer.singleShot(0, self, self.refresh)

    def received_data(self) -> bool:
        return self.store is not None and self.store.has_data(self.group)

    # -- saving ---------------------------------------------------------------------------
    def save_png(self, path: str | Path) -> bool:
        return self.view.grab().save(str(path), "PNG")

    def save_csv(self, path: str | Path) -> bool:
        header, rows = self.csv_table()
        try:
            with Path(path).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
        except OSError:
            return False
        return True

    def _ask_path(self, suffix: str, what: str) -> str:
        name = f"{self.objectName()}.{suffix}"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, f"Save {self.title} as {what}", name,
                                                        f"{what} (*.{suffix})")
        if path and not Path(path).suffix:
            path += f".{suffix}"
        return path

    def _report(self, ok: bool, path: str) -> None:
        window = self.window()
        if isinstance(window, QtWidgets.QMainWindow):
            window.statusBar().showMessage(f"Saved {path}" if ok else f"Could not write {path}", 8000)

    def save_png_dialog(self) -> None:
        path = self._ask_path("png", "PNG image")
        if path:
            self._report(self.save_png(path), path)

    def save_csv_dialog(self) -> None:
        path = self._ask_path("csv", "CSV")
        if path:
            self._report(self.save_csv(path), path)

def plot_item(frame: PlotFrame):
    return frame.view.getPlotItem()


def square_image(frame: PlotFrame) -> pg.ImageItem:
    """An image on the frame's plot with equal units on both axes (a plane of inputs, a grid of
    samples), so that a circle of data is drawn as a circle."""
    item = plot_item(frame)
    item.setAspectLocked(True)
    item.hideButtons()
    image = pg.ImageItem(axisOrder="row-major")
    item.addItem(image)
    return image


def style(item, bottom: str, left: str) -> None:
    item.setLabel("bottom", bottom)
    item.setLabel("left", left)
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
