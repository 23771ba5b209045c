"""The parts of the live plots that hold no plot: number helpers, the title line, the layer
chooser, the empty state, and the images made from weight histograms and feature maps."""
from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from app.text_fit import elide_words

WEIGHT_BINS = 64


def _finite(x: np.ndarray, y: np.ndarray, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(x) & np.isfinite(y)
    if positive:
        keep &= y > 0
    return x[keep], y[keep]


def nice_range(lo: float, hi: float, current: tuple[float, float], log: bool = False,
               pad: float = 0.06) -> tuple[float, float] | None:
    """A range for data from lo to hi, or None to keep `current`: kept while the data stays
    inside and fills at least 40 % of it; otherwise rounded out to a step of the data's size
    (whole decades on a log axis, where `current` is in log10 units as pyqtgraph keeps it)."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    c0, c1 = current
    if log:
        if lo <= 0 or hi <= 0:
            return None
        lo, hi = math.log10(lo), math.log10(hi)
        if c0 <= lo and hi <= c1 and (c1 - c0) <= (hi - lo) + 2.0:
            return None
        a = math.floor(lo)
        return (float(a), float(max(math.ceil(hi), a + 1)))
    span = hi - lo
    if span <= 0:
        span = abs(hi) * 0.2 or 1.0
    if c0 <= lo and hi <= c1 and (hi - lo) >= 0.4 * (c1 - c0):
        return None
    step = 10 ** math.floor(math.log10(span))
    if span / step < 2.5:
        step /= 5
    elif span / step < 5:
        step /= 2
    a = math.floor((lo - pad * span) / step) * step
    b = math.ceil((hi + pad * span) / step) * step
    return (a, b) if b > a else (a, a + step)


def _bounds(*arrays: np.ndarray) -> tuple[float | None, float | None]:
    values = [a[np.isfinite(a)] for a in arrays if a is not None and len(a)]
    values = [v for v in values if len(v)]
    if not values:
        return None, None
    return float(min(v.min() for v in values)), float(max(v.max() for v in values))


class TitleLine(QtWidgets.QWidget):
    """A plot's title and its latest figures ("Loss  train 0.21 · val 0.25"), redrawn with every
    plot redraw; what does not fit is dropped at a word (app.text_fit), the whole line in the tooltip. A QLabel asks its layout to recompute on every setText (1-1.5 ms of the GUI
    thread each time, measured); this line has a fixed height and only repaints itself."""

    DETAIL_COLOR = QtGui.QColor(154, 164, 174)
    ACCENT_COLOR = QtGui.QColor(240, 130, 40)

    def __init__(self, title: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._title, self._detail, self._accent = title, "", ""
        self._bold = QtGui.QFont(self.font())
        self._bold.setBold(True)
        self.setFixedHeight(QtGui.QFontMetrics(self._bold).height() + 4)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)

    def set_text(self, title: str, detail: str = "", accent: str = "") -> None:
        """`detail` in grey after the title; `accent` (a warning such as dead units) in orange after it."""
        if (title, detail, accent) != (self._title, self._detail, self._accent):
            self._title, self._detail, self._accent = title, detail, accent
            self.setToolTip(self.text())
            self.update()

    def text(self) -> str:
        return "  ".join(part for part in (self._title, self._detail, self._accent) if part)

    def _pieces(self) -> list[tuple[int, str, QtGui.QFont, QtGui.QColor]]:
        """(x, text shown, font, colour) of the title, the figures and the warning in turn."""
        right = self.rect().right() - 2
        x, pieces = 0, []
        for text, font, color in ((self._title, self._bold, self.palette().color(QtGui.QPalette.ColorRole.WindowText)),
                                  (self._detail, self.font(), self.DETAIL_COLOR),
                                  (self._accent, self.font(), self.ACCENT_COLOR)):
            if not text or x >= right:
                continue
            metrics = QtGui.QFontMetrics(font)
            shown = elide_words(text, metrics, right - x)
            pieces.append((x, shown, font, color))
            x += metrics.horizontalAdvance(shown) + metrics.horizontalAdvance("  ")
        return pieces

    def shown_text(self) -> str:
        return "  ".join(shown for _x, shown, _font, _color in self._pieces() if shown)

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        flags = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        right = self.rect().right() - 2
        for x, shown, font, color in self._pieces():
            painter.setFont(font)
            painter.setPen(color)
            painter.drawText(QtCore.QRect(x, 0, right - x, self.height()), flags, shown)


class _NodeChooser(QtWidgets.QComboBox):
    def __init__(self, name: str, tip: str):
        super().__init__()
        self.setObjectName(name)
        self.setToolTip(tip)
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumWidth(90)

    def set_nodes(self, nodes: list[str], current: str | None) -> None:
        if [self.itemText(i) for i in range(self.count())] != nodes:
            with QtCore.QSignalBlocker(self):
                self.clear()
                self.addItems(nodes)
        with QtCore.QSignalBlocker(self):
            self.setCurrentIndex(nodes.index(current) if current in nodes else -1)


def strips(history: list) -> tuple[np.ndarray, float, float]:
    """Histograms with their own ranges put on one value axis: an image (samples, WEIGHT_BINS).
    Each histogram's counts are spread over the common bins by overlap (through its cumulative
    counts), and each column is scaled to its largest bin and square-rooted, so that thin tails show."""
    hists = [h[2] for h in history]
    lows = np.array([h.low for h in hists], dtype=np.float64)
    highs = np.array([h.high for h in hists], dtype=np.float64)
    ok = np.isfinite(lows) & np.isfinite(highs)
    low = float(lows[ok].min()) if ok.any() else 0.0
    high = float(highs[ok].max()) if ok.any() else 1.0
    if high <= low:
        high = low + 1e-6
    edges = np.linspace(low, high, WEIGHT_BINS + 1)
    image = np.zeros((len(hists), WEIGHT_BINS))
    for t, hist in enumerate(hists):
        if not ok[t]:
            continue
        counts = np.asarray(hist.counts, dtype=np.float64)
        own = np.linspace(lows[t], max(highs[t], lows[t] + 1e-12), len(counts) + 1)
        cumulative = np.concatenate([[0.0], np.cumsum(counts)])
        image[t] = np.diff(np.interp(edges, own, cumulative))
    peak = image.max(axis=1, keepdims=True)
    image = np.sqrt(np.divide(image, peak, out=np.zeros_like(image), where=peak > 0))
    return image, low, high


def mosaic(sample: np.ndarray, pad: int = 1) -> np.ndarray:
    """Feature maps (C, H, W) side by side in a near-square grid, each scaled to 0..1; a
    sequence (L, E) as one map."""
    maps = sample[None] if sample.ndim == 2 else sample
    maps = maps.reshape(-1, *maps.shape[-2:]).astype(np.float32)
    count, h, w = maps.shape
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, dtype=np.float32)
    for k in range(count):
        m = maps[k]
        lo, hi = float(np.nanmin(m)), float(np.nanmax(m))
        scaled = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, c = divmod(k, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = scaled
    return np.nan_to_num(out, nan=0.0)


class EmptyState(QtWidgets.QLabel):
    """A centred line over a plot that has nothing to draw yet, saying what will come ("Train to
    see the loss") or why nothing will (no decision boundary for this design). It covers the
    plot's data area (its view boxes), so the axes stay in sight around it, and lets the mouse
    through."""

    def __init__(self, view: QtWidgets.QGraphicsView, boxes: list):
        super().__init__(view)
        self.setObjectName(f"{view.objectName() or 'plot'}Empty")
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("QLabel { color: rgb(170, 176, 186); background: rgb(30, 30, 32); padding: 2px 6px; }")
        self._view, self._boxes = view, boxes
        for box in boxes:
            box.sigResized.connect(self._place)
        self.hide()

    def _place(self, *_args) -> None:
        area = QtCore.QRect()
        for box in self._boxes:
            area = area.united(self._view.mapFromScene(box.sceneBoundingRect()).boundingRect())
        self.setGeometry(area.adjusted(1, 1, -1, -1))

    def show_text(self, text: str | None) -> None:
        """Show `text` over the plot, or nothing (None)."""
        if text:
            if text != self.text():
                self.setText(text)
            self._place()
            self.raise_()
        self.setVisible(bool(text))
