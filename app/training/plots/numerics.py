"""The plots' numerics, Qt-free (tested without Qt): the finite points of a curve, the bounds of
several, the axis range a view moves to, the strip image of weight histograms over time, the
mosaic of feature maps."""
from __future__ import annotations

import math

import numpy as np

WEIGHT_BINS = 64


def finite(x: np.ndarray, y: np.ndarray, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
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


def bounds(*arrays: np.ndarray) -> tuple[float | None, float | None]:
    values = [a[np.isfinite(a)] for a in arrays if a is not None and len(a)]
    values = [v for v in values if len(v)]
    if not values:
        return None, None
    return float(min(v.min() for v in values)), float(max(v.max() for v in values))


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
