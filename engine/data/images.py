"""Reading image files without running anything from them.

PNG (all colour types, bit depths 1-16, not interlaced) and the Netpbm formats PGM/PPM
(P2, P3, P5, P6) are decoded here with zlib and NumPy, so no imaging library is needed.
Other formats (JPEG, BMP, GIF, ...) are read with Pillow when it is installed.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from engine.data.registry import DataError

NATIVE_SUFFIXES = (".png", ".pgm", ".ppm", ".pnm")
PILLOW_SUFFIXES = (".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def pillow_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def image_suffixes() -> tuple[str, ...]:
    return NATIVE_SUFFIXES + (PILLOW_SUFFIXES if pillow_available() else ())


def read_image(path: Path) -> np.ndarray:
    """The pixels of an image file as uint8 (H, W, C), C = 1 (grey), 2, 3 (RGB) or 4 (with alpha)."""
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        if data.startswith(_PNG_SIGNATURE):
            return decode_png(data)
        if data[:2] in (b"P2", b"P3", b"P5", b"P6"):
            return decode_pnm(data)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    except (ValueError, IndexError, struct.error, zlib.error) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    if pillow_available():
        return _read_with_pillow(path)
    if suffix in PILLOW_SUFFIXES:
        raise DataError(f"{path}: reading {suffix} images needs Pillow (pip install pillow); "
                        "or convert the images to PNG")
    raise DataError(f"{path}: not a PNG, PGM or PPM image")


def _read_with_pillow(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode not in ("L", "LA", "RGB", "RGBA"):
                img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
            pixels = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


# -- PNG -------------------------------------------------------------------------------------
def decode_png(data: bytes) -> np.ndarray:
    pos, idat, palette, header = 8, [], None, None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None or not idat:
        raise DataError("a PNG without image data")
    width, height, depth, color, _, _, interlace = header
    if color not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise DataError(f"unsupported PNG colour type {color} with bit depth {depth}")
    if interlace:
        raise DataError("interlaced PNG is not supported without Pillow (pip install pillow), "
                        "or save the image without interlacing")
    channels = _PNG_CHANNELS[color]
    bits = channels * depth
    row_bytes = (width * bits + 7) // 8
    bpp = max(1, bits // 8)
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < height * (row_bytes + 1):
        raise DataError("the PNG image data is truncated")
    rows = _unfilter(raw, height, row_bytes, bpp)
    if depth < 8:
        samples = np.unpackbits(rows, axis=1).reshape(height, -1, depth)
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
        values = (samples * weights).sum(axis=2).astype(np.uint8)[:, :width]
        if color == 0:
            values = (values.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
        pixels = values[:, :, None]
    elif depth == 16:
        pixels = rows.reshape(height, width, channels, 2)[..., 0]
    else:
        pixels = rows.reshape(height, width, channels)
    if color == 3:
        if palette is None:
            raise DataError("a palette PNG without a palette")
        pixels = palette[np.minimum(pixels[:, :, 0], len(palette) - 1)]
    return np.ascontiguousarray(pixels)


def _unfilter(raw: bytes, height: int, row_bytes: int, bpp: int) -> np.ndarray:
    """Undo PNG's per-row filters (none, sub, up, average, paeth)."""
    out = np.zeros((height, row_bytes), dtype=np.uint8)
    prior = np.zeros(row_bytes, dtype=np.uint8)
    stride = row_bytes + 1
    for y in range(height):
        kind = raw[y * stride]
        line = np.frombuffer(raw, dtype=np.uint8, count=row_bytes, offset=y * stride + 1)
        if kind == 0:
            row = line.copy()
        elif kind == 1:
            row = _sub(line, bpp, row_bytes)
        elif kind == 2:
            row = line + prior
        elif kind in (3, 4):
            row = _sequential(line, prior, bpp, kind)
        else:
            raise DataError(f"bad PNG filter type {kind} in row {y}")
        out[y] = row
        prior = row
    return out


def _sub(line: np.ndarray, bpp: int, row_bytes: int) -> np.ndarray:
    padded = np.zeros(-(-row_bytes // bpp) * bpp, dtype=np.uint8)
    padded[:row_bytes] = line
    lanes = padded.reshape(-1, bpp).astype(np.uint64)
    return (np.cumsum(lanes, axis=0) % 256).astype(np.uint8).reshape(-1)[:row_bytes]


def _sequential(line: np.ndarray, prior: np.ndarray, bpp: int, kind: int) -> np.ndarray:
    filt, up = line.tolist(), prior.tolist()
    row = [0] * len(filt)
    for i, value in enumerate(filt):
        left = row[i - bpp] if i >= bpp else 0
        if kind == 3:
            row[i] = (value + ((left + up[i]) >> 1)) & 0xFF
        else:
            corner = up[i - bpp] if i >= bpp else 0
            p = left + up[i] - corner
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else corner)
            row[i] = (value + pred) & 0xFF
    return np.asarray(row, dtype=np.uint8)


# -- Netpbm (PGM/PPM) ------------------------------------------------------------------------
def decode_pnm(data: bytes) -> np.ndarray:
    magic = data[:2]
    tokens, pos = [], 2
    while len(tokens) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise DataError("a truncated PGM/PPM header")
        tokens.append(int(data[start:pos]))
    width, height, maxval = tokens
    if not 0 < maxval < 65536 or width <= 0 or height <= 0:
        raise DataError("a bad PGM/PPM header")
    channels = 3 if magic in (b"P3", b"P6") else 1
    count = width * height * channels
    if magic in (b"P5", b"P6"):
        body = data[pos + 1:]
        dtype = np.dtype(">u2") if maxval > 255 else np.dtype(np.uint8)
        if len(body) < count * dtype.itemsize:
            raise DataError("the PGM/PPM image data is truncated")
        values = np.frombuffer(body, dtype=dtype, count=count).astype(np.float64)
    else:
        values = np.asarray([int(t) for t in data[pos:].split()[:count]], dtype=np.float64)
        if len(values) < count:
            raise DataError("the PGM/PPM image data is truncated")
    pixels = np.clip(np.round(values * 255.0 / maxval), 0, 255).astype(np.uint8)
    return pixels.reshape(height, width, channels)


def to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """(H, W, C) uint8 to (H, W, channels): grey <-> RGB, alpha dropped."""
    have = pixels.shape[2]
    colour = pixels[:, :, :3] if have >= 3 else pixels[:, :, :1]
    if channels == colour.shape[2]:
        return colour
    if channels == 1:
        grey = colour.astype(np.float32) @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32)
        return np.clip(np.round(grey), 0, 255).astype(np.uint8)[:, :, None]
    if colour.shape[2] == 1:
        return np.repeat(colour, channels, axis=2)
    raise DataError(f"cannot turn a {have}-channel image into {channels} channels")


def resize(images: np.ndarray, size: tuple[int, int] | list[int]) -> np.ndarray:
    """(N, C, H, W) floats to (N, C, *size): bilinear, antialiased when shrinking, so that every
    data set that resizes images (a folder of them, the upscaled digits) resizes them alike."""
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    if tuple(tensor.shape[2:]) == tuple(size):
        return tensor.numpy()
    return F.interpolate(tensor, size=tuple(size), mode="bilinear", align_corners=False, antialias=True).numpy()
