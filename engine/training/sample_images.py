"""Pictures of a GAN's samples, with NumPy alone: an image grid or a scatter over the real data, and a
PNG writer (zlib), so that the run folder's `samples/epoch_NNN.png` needs no plotting library.

The same arrays feed the window's samples plot (app/training/plots/samples.py), so what the user
sees live and what the run folder keeps are one picture. Nothing here imports torch or Qt.
"""
from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np

GRID_MAX = 64                     # images in a grid (8 x 8)
SCATTER_SIZE = 360                # pixels of a scatter's side
REAL_RGB = (170, 170, 170)
FAKE_RGB = (214, 39, 40)


def unit_range(images: np.ndarray) -> np.ndarray:
    """Images as 0..1: data in 0..1 (a Sigmoid's) is kept, -1..1 (a Tanh's) is mapped, and anything
    else is stretched from its own minimum to its maximum."""
    x = images.astype(np.float32)
    lo, hi = float(x.min()), float(x.max())
    if lo >= -0.05 and hi <= 1.05:
        return np.clip(x, 0.0, 1.0)
    if lo >= -1.05 and hi <= 1.05:
        return np.clip((x + 1.0) / 2.0, 0.0, 1.0)
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def image_grid(samples: np.ndarray, pad: int = 1) -> np.ndarray:
    """(N, C, H, W) or (N, H, W) samples as one (rows, cols, 3) uint8 picture, at most 64 tiles in a
    square-ish grid on a dark background; one channel is grey, three are RGB, others show the first."""
    x = samples[:GRID_MAX]
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:  # vectors: shown as square-ish strips of their values
        flat = x.reshape(len(x), -1)
        side = math.ceil(math.sqrt(flat.shape[1]))
        flat = np.pad(flat, ((0, 0), (0, side * side - flat.shape[1])))
        x = flat.reshape(len(x), 1, side, side)
    x = unit_range(x)
    x = x[:, :3] if x.shape[1] == 3 else np.repeat(x[:, :1], 3, axis=1)
    n, _, h, w = x.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 40, dtype=np.uint8)
    tiles = (x.transpose(0, 2, 3, 1) * 255.0 + 0.5).astype(np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = tiles[k]
    return out


def scatter_bounds(real: np.ndarray | None, fake: np.ndarray) -> tuple[float, float, float, float]:
    """A square view around the real data (the generated points when there is none), with a margin."""
    ref = real if real is not None and len(real) else fake
    finite = ref[np.all(np.isfinite(ref), axis=1)] if len(ref) else ref
    if not len(finite):
        return -1.0, 1.0, -1.0, 1.0
    lo, hi = finite.min(axis=0).astype(np.float64), finite.max(axis=0).astype(np.float64)
    cx, cy = ((lo + hi) / 2).tolist()
    half = max(float((hi - lo).max()) / 2 * 1.25, 1e-3)
    return cx - half, cx + half, cy - half, cy + half


def scatter(fake: np.ndarray, real: np.ndarray | None, size: int = SCATTER_SIZE) -> np.ndarray:
    """Generated points (red) over the real data (grey) as a (size, size, 3) uint8 picture, y upwards."""
    out = np.full((size, size, 3), 255, dtype=np.uint8)
    x0, x1, y0, y1 = scatter_bounds(real, fake)
    mid = size // 2
    out[mid, :] = out[:, mid] = (235, 235, 235)

    def plot(points: np.ndarray, rgb: tuple[int, int, int]) -> None:
        points = points[np.all(np.isfinite(points), axis=1)]
        cols = ((points[:, 0] - x0) / (x1 - x0) * (size - 1)).round().astype(np.int64)
        rows = ((y1 - points[:, 1]) / (y1 - y0) * (size - 1)).round().astype(np.int64)
        for dr in (0, 1):
            for dc in (0, 1):
                r, c = rows + dr, cols + dc
                keep = (r >= 0) & (r < size) & (c >= 0) & (c < size)
                out[r[keep], c[keep]] = rgb

    if real is not None:
        plot(real, REAL_RGB)
    plot(fake, FAKE_RGB)
    return out


def picture(samples: np.ndarray, real: np.ndarray | None) -> np.ndarray:
    """The picture of one epoch's samples: a scatter for 2-D points, else an image grid."""
    if samples.ndim == 2 and samples.shape[1] == 2:
        return scatter(samples, real)
    return image_grid(samples)


def png_bytes(rgb: np.ndarray, scale: int = 1) -> bytes:
    """An (H, W, 3) uint8 array as PNG bytes, each pixel `scale` times wider and taller."""
    if scale > 1:
        rgb = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def save_png(path: Path, samples: np.ndarray, real: np.ndarray | None) -> None:
    """samples/epoch_NNN.png: small image grids are enlarged so that 8x8 digits can be seen."""
    rgb = picture(samples, real)
    scale = max(1, min(8, 480 // max(rgb.shape[:2])))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(rgb, scale))
