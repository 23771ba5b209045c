"""Reading image files with Pillow, which decodes them without running anything from them.

`load_image` gives one file as uint8 pixels of the channels and size a design takes; it runs in
the threads of `load_images` (Pillow's decoders and resampling release the GIL), so a folder of
images is read on every core. `resize` is the one rule for resizing float images (the digits).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine.data.registry import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm")


def image_suffixes() -> tuple[str, ...]:
    return IMAGE_SUFFIXES


def load_image(path: Path, channels: int, size: Sequence[int] | None) -> np.ndarray:
    """One image file as uint8 (channels, H, W): grey or RGB (alpha dropped), resized bilinearly
    (antialiased when shrinking) to `size` = [height, width] when given."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            img = img.convert("L" if channels == 1 else "RGB")
            if size is not None and (img.height, img.width) != tuple(size):
                img = img.resize((int(size[1]), int(size[0])), Image.Resampling.BILINEAR)
            pixels = np.asarray(img, dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(f"{path}: cannot read the file (it is not there)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def load_images(paths: Sequence[Path], channels: int, size: Sequence[int]) -> np.ndarray:
    """Many image files as one uint8 array (N, channels, H, W), decoded by a pool of threads."""
    out = np.empty((len(paths), channels, int(size[0]), int(size[1])), dtype=np.uint8)

    def one(k: int) -> None:
        out[k] = load_image(paths[k], channels, size)

    workers = max(1, min(8, os.cpu_count() or 1, len(paths)))
    with ThreadPoolExecutor(workers, thread_name_prefix="layerloom-images") as pool:
        for _ in pool.map(one, range(len(paths))):   # re-raises the first file's DataError
            pass
    return out


def resize(images: np.ndarray, size: tuple[int, int] | list[int]) -> np.ndarray:
    """(N, C, H, W) floats to (N, C, *size): bilinear, antialiased when shrinking (as Pillow resizes
    a folder's images), for the data sets that make their images as floats (the upscaled digits)."""
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    if tuple(tensor.shape[2:]) == tuple(size):
        return tensor.numpy()
    return F.interpolate(tensor, size=tuple(size), mode="bilinear", align_corners=False, antialias=True).numpy()
