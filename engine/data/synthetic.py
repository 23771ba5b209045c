"""Built-in data sets generated from a seed: small problems for learning and demos."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.data.registry import Context, DataError, DatasetType, Raw, register, rng
from graph.params import Param


def _samples(default: int) -> Param:
    return Param("samples", "int", default, "number of samples generated", minimum=4, maximum=10_000_000)


def _noise(default: float, what: str = "standard deviation of the noise") -> Param:
    return Param("noise", "float", default, what, minimum=0.0)


def _classes(default: int, low: int = 2, high: int = 64) -> Param:
    return Param("classes", "int", default, "number of classes", minimum=low, maximum=high)


def _shuffle(*arrays: np.ndarray, gen: np.random.Generator) -> tuple[np.ndarray, ...]:
    order = gen.permutation(len(arrays[0]))
    return tuple(a[order] for a in arrays)


# -- 2-D classification -------------------------------------------------------------------
def _spiral(o: dict[str, Any], ctx: Context) -> Raw:
    gen = rng(o)
    k, n = o["classes"], o["samples"]
    per = [n // k + (1 if j < n % k else 0) for j in range(k)]
    xs, ys = [], []
    for j, count in enumerate(per):
        r = np.linspace(0.05, 1.0, count)
        t = np.linspace(0.0, o["turns"] * 2 * math.pi, count) + j * 2 * math.pi / k
        t = t + gen.normal(0.0, o["noise"], count)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(count, j))
    x, y = _shuffle(np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64), gen=gen)
    return Raw([x], [y], [f"arm {j}" for j in range(k)])


register(DatasetType(
    "spiral", "generated", "Interleaved spiral arms, one class per arm: needs a non-linear boundary.",
    "x (2,) float; label 0..classes-1", _spiral,
    (_samples(3000), _classes(3), _noise(0.3, "angular noise in radians"),
     Param("turns", "float", 1.0, "turns of each arm", minimum=0.1, maximum=5.0)),
))


def _moons(o: dict[str, Any], ctx: Context) -> Raw:
    from sklearn.datasets import make_moons

    x, y = make_moons(o["samples"], noise=o["noise"], random_state=o["seed"])
    return Raw([x.astype(np.float32)], [y.astype(np.int64)], ["upper", "lower"])


register(DatasetType(
    "moons", "generated", "Two interleaving half circles (scikit-learn's make_moons).",
    "x (2,) float; label 0..1", _moons, (_samples(1000), _noise(0.1)),
))


def _circles(o: dict[str, Any], ctx: Context) -> Raw:
    from sklearn.datasets import make_circles

    x, y = make_circles(o["samples"], noise=o["noise"], factor=o["factor"], random_state=o["seed"])
    return Raw([x.astype(np.float32)], [y.astype(np.int64)], ["outer", "inner"])


register(DatasetType(
    "circles", "generated", "A small circle inside a large one (scikit-learn's make_circles).",
    "x (2,) float; label 0..1", _circles,
    (_samples(1000), _noise(0.05),
     Param("factor", "float", 0.5, "radius of the inner circle relative to the outer", minimum=0.01, maximum=0.99)),
))


def _xor(o: dict[str, Any], ctx: Context) -> Raw:
    gen = rng(o)
    x = gen.uniform(-1.0, 1.0, (o["samples"], 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    x = x + gen.normal(0.0, o["noise"], x.shape)
    return Raw([x.astype(np.float32)], [y], ["same sign", "different sign"])


register(DatasetType(
    "xor", "generated", "Points in a square, labelled by whether x and y have different signs.",
    "x (2,) float; label 0..1", _xor, (_samples(1000), _noise(0.05)),
))


def _blobs(o: dict[str, Any], ctx: Context) -> Raw:
    from sklearn.datasets import make_blobs

    x, y = make_blobs(o["samples"], n_features=o["features"], centers=o["classes"], cluster_std=o["spread"],
                      random_state=o["seed"])
    return Raw([x.astype(np.float32)], [y.astype(np.int64)], [f"blob {j}" for j in range(o["classes"])])


register(DatasetType(
    "blobs", "generated", "Gaussian blobs, one per class (scikit-learn's make_blobs).",
    "x (features,) float; label 0..classes-1", _blobs,
    (_samples(1000), _classes(3), Param("features", "int", 2, "dimensions of each point", minimum=1, maximum=4096),
     Param("spread", "float", 1.0, "standard deviation of each blob", minimum=0.0)),
))



def _gaussian_ring(o: dict[str, Any], ctx: Context) -> Raw:
    gen = rng(o)
    k, n = o["modes"], o["samples"]
    angles = 2 * math.pi * np.arange(k) / k
    centres = o["radius"] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    mode = gen.integers(0, k, n)
    x = (centres[mode] + gen.normal(0.0, o["std"], (n, 2))).astype(np.float32)
    # the centres and spread let a GAN run count the modes its samples reach (DESIGN §9)
    info = {"modes": centres.round(12).tolist(), "mode_std": o["std"]}
    return Raw([x], [mode.astype(np.int64)], [f"mode {j}" for j in range(k)], info=info)


register(DatasetType(
    "gaussian_ring", "generated", "Points from Gaussians on a circle, the first at angle 0: the usual test of "
    "a GAN's mode collapse (training.mode gan counts the modes its samples reach).",
    "x (2,) float; label 0..modes-1 (the mode)", _gaussian_ring,
    (_samples(2000), Param("modes", "int", 8, "number of Gaussians on the circle", minimum=1, maximum=1000),
     Param("std", "float", 0.02, "standard deviation of each Gaussian", minimum=0.0),
     Param("radius", "float", 2.0, "radius of the circle", minimum=0.0)),
))

# -- regression ------------------------------------------------------------------------------
def _sine(o: dict[str, Any], ctx: Context) -> Raw:
    gen = rng(o)
    x = gen.uniform(-o["range"], o["range"], (o["samples"], 1))
    y = o["amplitude"] * np.sin(o["frequency"] * x) + gen.normal(0.0, o["noise"], x.shape)
    return Raw([x.astype(np.float32)], [y.astype(np.float32)])


register(DatasetType(
    "sine", "generated", "Regression: y = amplitude * sin(frequency * x) + noise.",
    "x (1,) float; y (1,) float", _sine,
    (_samples(2000), _noise(0.05),
     Param("range", "float", math.pi, "x is drawn uniformly from -range to range", minimum=1e-6),
     Param("frequency", "float", 1.0, "frequency of the sine", minimum=0.0),
     Param("amplitude", "float", 1.0, "amplitude of the sine")),
))


def _polynomial(o: dict[str, Any], ctx: Context) -> Raw:
    coefficients = o["coefficients"]
    if (not isinstance(coefficients, list) or not coefficients
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coefficients)):
        raise DataError(f"data.coefficients is {coefficients!r}; expected a list of numbers c0, c1, ... "
                        "for c0 + c1*x + c2*x^2 + ...")
    gen = rng(o)
    x = gen.uniform(-o["range"], o["range"], (o["samples"], 1))
    y = np.polynomial.polynomial.polyval(x, np.asarray(coefficients, dtype=np.float64))
    y = y + gen.normal(0.0, o["noise"], x.shape)
    return Raw([x.astype(np.float32)], [y.astype(np.float32)])


register(DatasetType(
    "polynomial", "generated", "Regression: y = c0 + c1*x + c2*x^2 + ... + noise.",
    "x (1,) float; y (1,) float", _polynomial,
    (_samples(2000), _noise(0.05),
     Param("range", "float", 1.5, "x is drawn uniformly from -range to range", minimum=1e-6),
     Param("coefficients", "str", [0.0, -1.0, 0.0, 1.0], "list c0, c1, ... (default x^3 - x)")),
))


# -- sequences and tokens ------------------------------------------------------------------
def _bits(o: dict[str, Any], ctx: Context) -> Raw:
    gen = rng(o)
    length = o["length"]
    bits = gen.integers(0, 2, (o["samples"], length))
    if o["task"] == "parity":
        y, classes = bits.sum(1) % 2, ["even", "odd"]
    else:
        y, classes = bits.sum(1), [str(i) for i in range(length + 1)]
    return Raw([bits[:, :, None].astype(np.float32)], [y.astype(np.int64)], classes)


register(DatasetType(
    "bits", "generated", "Sequence task: strings of 0/1 bits; predict their parity or count the ones.",
    "x (length, 1) float bits; label: parity 0..1, or count 0..length", _bits,
    (_samples(4000), Param("length", "int", 12, "bits per sequence", minimum=1, maximum=4096),
     Param("task", "choice", "count", "parity (odd number of ones?) or count (how many ones)",
           choices=("parity", "count"))),
))


def _tokens(o: dict[str, Any], ctx: Context) -> Raw:
    gen = rng(o)
    vocab, length = o["vocab"], o["length"]
    x = gen.integers(0, vocab, (o["samples"], length))
    if o["task"] == "reverse":
        y = x[:, ::-1].copy()
    elif o["task"] == "sort":
        y = np.sort(x, axis=1)
    else:  # majority: the most frequent token, the smallest one on ties
        counts = np.zeros((len(x), vocab), dtype=np.int64)
        np.add.at(counts, (np.arange(len(x))[:, None], x), 1)
        y = counts.argmax(1)
    return Raw([x.astype(np.int64)], [y.astype(np.int64)], [str(i) for i in range(vocab)])


register(DatasetType(
    "tokens", "generated", "Token task for attention models: reverse or sort a sequence of token ids, "
    "or name its most frequent token.",
    "x (length,) int64 ids 0..vocab-1; label (length,) ids for reverse/sort, () for majority", _tokens,
    (_samples(4000), Param("vocab", "int", 10, "number of distinct tokens", minimum=2, maximum=100_000),
     Param("length", "int", 8, "tokens per sequence", minimum=1, maximum=4096),
     Param("task", "choice", "reverse", "reverse, sort or majority", choices=("reverse", "sort", "majority"))),
))


# -- images ----------------------------------------------------------------------------------
SHAPE_NAMES = ("circle", "square", "triangle")


def _shapes(o: dict[str, Any], ctx: Context) -> Raw:
    gen = rng(o)
    n, size, channels = o["samples"], o["size"], o["channels"]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    kinds = gen.integers(0, len(SHAPE_NAMES), n)
    radius = gen.uniform(0.18, 0.36, n) * size
    cy = gen.uniform(0, 1, n) * (size - 2 * radius) + radius
    cx = gen.uniform(0, 1, n) * (size - 2 * radius) + radius
    masks = np.zeros((n, size, size), dtype=bool)
    for i in range(n):
        dy, dx, r = yy - cy[i], xx - cx[i], radius[i]
        if kinds[i] == 0:
            masks[i] = dy * dy + dx * dx <= r * r
        elif kinds[i] == 1:
            masks[i] = (np.abs(dy) <= r * 0.85) & (np.abs(dx) <= r * 0.85)
        else:  # an upward triangle: below its two slanted sides, above its base
            masks[i] = (dy <= r * 0.8) & (dy >= -r + 2 * np.abs(dx))
    brightness = gen.uniform(0.6, 1.0, (n, channels, 1, 1)).astype(np.float32)
    images = masks[:, None].astype(np.float32) * brightness
    images = images + gen.normal(0.0, o["noise"], images.shape).astype(np.float32)
    images = np.clip(images, 0.0, 1.0).astype(np.float32)
    if o["task"] == "classify":
        return Raw([images], [kinds.astype(np.int64)], list(SHAPE_NAMES))
    if o["mask"] == "binary":
        return Raw([images], [masks[:, None].astype(np.float32)], ["background", "shape"])
    labels = np.where(masks, kinds[:, None, None] + 1, 0).astype(np.int64)
    return Raw([images], [labels], ["background", *SHAPE_NAMES])


register(DatasetType(
    "shapes", "generated", "Small images of a circle, square or triangle at a random place and size, with "
    "noise: classify the shape, or segment it (a mask per pixel) for U-Nets.",
    "x (channels, size, size) float 0..1; label 0..2 (classify), mask (1, size, size) 0/1 (segment, "
    "binary) or (size, size) 0..3 (segment, classes)", _shapes,
    (_samples(2000), Param("size", "int", 16, "image height and width in pixels", minimum=8, maximum=512),
     Param("channels", "int", 1, "image channels", minimum=1, maximum=4),
     Param("task", "choice", "classify", "classify or segment", choices=("classify", "segment")),
     Param("mask", "choice", "binary", "segment masks: binary (1, H, W) floats for bce_with_logits, or "
           "classes (H, W) labels (0 = background) for cross_entropy", choices=("binary", "classes")),
     _noise(0.05)),
))


def _digits(o: dict[str, Any], ctx: Context) -> Raw:
    from sklearn.datasets import load_digits

    from engine.data.images import resize

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]
    labels = bunch.target.astype(np.int64)
    info: dict[str, Any] = {"source": "scikit-learn load_digits (1,797 images of 8x8 pixels)"}
    digits = _digit_subset(o["classes"])
    if digits != list(range(10)):  # a task of its own (transfer learning: pretrain on 0-4, fine-tune on 5-9)
        keep = np.isin(labels, digits)
        images, labels = images[keep], np.searchsorted(digits, labels[keep]).astype(np.int64)
        info["classes"] = digits
    if o["size"] != 8:  # so that designs for 28x28 digits (LeNet-5, MNIST-sized) train without a download
        images = resize(images, (o["size"], o["size"]))
        info["size"] = [o["size"], o["size"]]
    return Raw([images], [labels], [str(d) for d in digits], info=info)


def _digit_subset(text: str | None) -> list[int]:
    """`5-9` or `0,2,4` -> the digits kept, ascending; None: all ten."""
    if text is None:
        return list(range(10))
    found: set[int] = set()
    try:
        for part in str(text).replace(" ", "").split(","):
            first, _, last = part.partition("-")
            found.update(range(int(first), int(last or first) + 1))
    except ValueError:
        found = set()
    if len(found) < 2 or not found <= set(range(10)):
        raise DataError(f"data.classes: {text!r} is not a set of at least two digits 0-9; write a range or a "
                        "list, e.g. 5-9 or 0,2,4")
    return sorted(found)


register(DatasetType(
    "digits", "bundled", "scikit-learn's bundled handwritten digits: 1,797 images of 8x8 pixels, 10 classes "
    "(no download), optionally resized.",
    "x (1, size, size) float 0..1; label 0..9", _digits,
    (Param("size", "int", 8, "image height and width in pixels: the 8x8 originals resized (bilinear), e.g. "
           "28 for designs made for MNIST", minimum=4, maximum=128),
     Param("classes", "str", None, "only these digits, e.g. 5-9 or 0,2,4, labelled 0..K-1 in ascending order "
           "(two tasks from one data set, for transfer learning)", optional=True)),
))
