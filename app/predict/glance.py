"""How a traced value is pictured on its node (Qt-free NumPy, tested without Qt).

A value of one sample becomes one of three small pictures: feature maps (C, H, W) a mosaic of
its first channels (a thumbnail), a vector a strip of bars (its first `BARS` values), a sequence
(L, E) a heat strip (positions across, features down, at most `HEAT_ROWS`). Each is scaled to
its own range; the tooltip carries the numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAPS = 16       # channels in a thumbnail, in two rows of eight: a strip that fits under a node
MAP_COLUMNS = 8
BARS = 64       # values in a bar strip
HEAT_ROWS = 16  # features in a heat strip


@dataclass(frozen=True)
class Glance:
    """`kind`: maps, bars or heat; `image` 0..1 for maps and heat (rows, columns); `bars` for bars;
    `text`: the numbers for the tooltip."""

    kind: str
    image: np.ndarray | None
    bars: np.ndarray | None
    low: float
    high: float
    text: str


def glance(value: np.ndarray, name: str = "") -> Glance:
    v = np.asarray(value, dtype=np.float32)
    finite = v[np.isfinite(v)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    text = describe(v, name)
    if v.ndim == 3 and v.shape[1] * v.shape[2] > 1:
        return Glance("maps", strip_mosaic(v[:MAPS]), None, low, high, text)
    if v.ndim == 2 and v.shape[0] > 1:
        rows = v[:, :HEAT_ROWS].T
        lo, hi = float(np.nanmin(rows)), float(np.nanmax(rows))
        image = (rows - lo) / (hi - lo) if hi > lo else np.zeros_like(rows)
        return Glance("heat", np.nan_to_num(image), None, low, high, text)
    return Glance("bars", None, np.nan_to_num(v.reshape(-1)[:BARS]), low, high, text)


def strip_mosaic(maps: np.ndarray, pad: int = 1) -> np.ndarray:
    """Feature maps (C, H, W) in rows of MAP_COLUMNS, each scaled to its own 0..1, NaN between."""
    count, h, w = maps.shape
    cols = min(count, MAP_COLUMNS)
    rows = -(-count // cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, dtype=np.float32)
    for k in range(count):
        m = np.nan_to_num(maps[k].astype(np.float32))
        lo, hi = float(m.min()), float(m.max())
        r, c = divmod(k, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = (m - lo) / (hi - lo) if hi > lo else 0.0
    return out


def describe(v: np.ndarray, name: str = "") -> str:
    """shape, mean, std, min, max and the first values, as the tooltip shows them."""
    shape = "×".join(map(str, v.shape)) or "scalar"
    flat = v.reshape(-1)
    head = ", ".join(f"{x:.3g}" for x in flat[:8]) + (", …" if flat.size > 8 else "")
    stats = (f"mean {flat.mean():.3g} · std {flat.std():.3g} · min {flat.min():.3g} · max {flat.max():.3g}"
             if flat.size else "empty")
    return f"{name + ': ' if name else ''}{shape}\n{stats}\n[{head}]"
