"""Strategies for convolution, pooling, padding, resampling and normalisation."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from graph.registry import get
from tests.graph.torch_cases.base import (
    CASES,
    POLICY,
    Case,
    case,
    finite,
    probabilities,
    shape,
    sizes,
)


# -- convolution and pooling -------------------------------------------------------------
def size_param(draw, dims: int, lo: int, hi: int):
    """An int, or a list of `dims` ints (both forms are accepted by the declarations)."""
    if draw(st.booleans()):
        return draw(st.integers(lo, hi))
    return draw(st.lists(st.integers(lo, hi), min_size=dims, max_size=dims))


def spatial(draw, dims: int):
    return tuple(draw(st.lists(st.integers(1, 9 if dims < 3 else 5), min_size=dims, max_size=dims)))


def conv_case(name: str):
    dims = int(name[-2])
    transpose = name.startswith("ConvTranspose")

    @st.composite
    def strategy(draw):
        groups = draw(st.integers(1, 3))
        cin = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0, 0, 0, 1]))
        cout = groups * draw(st.integers(1, 3)) + draw(st.sampled_from([0, 0, 0, 1]))
        p = {"out_channels": cout, "kernel_size": size_param(draw, dims, 1, 4),
             "stride": size_param(draw, dims, 1, 3), "dilation": size_param(draw, dims, 1, 2),
             "groups": groups, "bias": draw(st.booleans())}
        if transpose:
            p["padding"] = size_param(draw, dims, 0, 2)
            p["output_padding"] = size_param(draw, dims, 0, 2)
        else:
            p["padding"] = draw(st.one_of(st.sampled_from(["same", "valid"]), st.just(size_param(draw, dims, 0, 3))))
            p["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        return Case(p, [(cin,) + spatial(draw, dims)])

    return strategy()


case("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")(conv_case)


def pool_case(name: str):
    dims = int(name[-2])
    dilated = name.startswith("Max")

    @st.composite
    def strategy(draw):
        p = {"kernel_size": size_param(draw, dims, 1, 4),
             "stride": draw(st.one_of(st.none(), st.just(size_param(draw, dims, 1, 3)))),
             "padding": size_param(draw, dims, 0, 2), "ceil_mode": draw(st.booleans())}
        if dilated:
            p["dilation"] = size_param(draw, dims, 1, 2)
        else:
            p["count_include_pad"] = draw(st.booleans())
        return Case(p, [(draw(sizes),) + spatial(draw, dims)])

    return strategy()


case("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")(pool_case)


def lp_pool_case(name: str):
    dims = int(name[-2])
    return st.composite(lambda draw: Case(
        {"norm_type": draw(st.floats(1.0, 4.0)), "kernel_size": size_param(draw, dims, 1, 4),
         "stride": draw(st.one_of(st.none(), st.just(size_param(draw, dims, 1, 3)))),
         "ceil_mode": draw(st.booleans())}, [(draw(sizes),) + spatial(draw, dims)]))()


case("LPPool2d")(lp_pool_case)


@st.composite
def _pixel_case(draw):
    r = draw(st.integers(1, 3))
    channels = draw(st.one_of(st.integers(1, 4).map(lambda k: k * r * r), st.integers(1, 9)))
    h, w = (draw(st.one_of(st.integers(1, 3).map(lambda k: k * r), st.integers(1, 7))) for _ in range(2))
    s = draw(st.sampled_from([(channels, h, w), (channels, h, w), (h, w), (2, channels, h, w)]))
    return Case({"upscale_factor": r}, [s])


def _pixel_unshuffle(case: Case) -> Case:
    return Case({"downscale_factor": case.params["upscale_factor"]}, case.shapes)


def _maps_only(v, s):
    """Refused on purpose: (N, H, W) without channels, which torch would read as one unbatched (C, H, W)."""
    return len(s[0]) == 2


CASES["PixelShuffle"] = _pixel_case()
CASES["PixelUnshuffle"] = _pixel_case().map(_pixel_unshuffle)
POLICY["PixelShuffle"] = POLICY["PixelUnshuffle"] = POLICY["Unfold"] = _maps_only


def _window(draw) -> dict:
    return {"kernel_size": size_param(draw, 2, 1, 3), "dilation": size_param(draw, 2, 1, 2),
            "padding": size_param(draw, 2, 0, 2), "stride": size_param(draw, 2, 1, 3)}


@st.composite
def _unfold_case(draw):
    return Case(_window(draw), [draw(st.sampled_from([(draw(sizes),) + spatial(draw, 2), spatial(draw, 2)]))])


@st.composite
def _fold_case(draw):
    p = _window(draw)
    p["output_size"] = size_param(draw, 2, 1, 7)
    kernel = math.prod(p["kernel_size"]) if isinstance(p["kernel_size"], list) else p["kernel_size"] ** 2
    columns = draw(st.one_of(st.integers(1, 3).map(lambda c: c * kernel), st.integers(1, 9)))
    return Case(p, [(columns, draw(st.integers(1, 30)))])


case("Unfold")(_unfold_case)
case("Fold")(_fold_case)


def pad_case(name: str):
    dims = int(name[-2])
    crops = name.startswith(("Zero", "Constant"))

    @st.composite
    def strategy(draw):
        lo = -2 if crops else 0
        pad = draw(st.one_of(st.integers(lo, 3), st.lists(st.integers(lo, 3), min_size=2 * dims,
                                                           max_size=2 * dims)))
        p = {"padding": pad}
        if name.startswith("Constant"):
            p["value"] = draw(finite)
        return Case(p, [draw(shape(max(dims - 1, 1), dims + 2, st.integers(1, 5)))])

    return strategy()


# refused: fewer dimensions than padded, which torch would pad into the batch
for _dims in (1, 2, 3):
    case(*(f"{kind}Pad{_dims}d" for kind in ("Zero", "Constant", "Reflection", "Replication")),
         policy=lambda v, s, dims=_dims: len(s[0]) < dims)(pad_case)


def adaptive_case(name: str):
    dims = int(name[-2])
    return st.composite(lambda draw: Case({"output_size": size_param(draw, dims, 1, 6)},
                                          [(draw(sizes),) + spatial(draw, dims)]))()


case("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
     "AdaptiveMaxPool3d")(adaptive_case)


@st.composite
def _upsample_case(draw):
    s = draw(shape(2, 4, st.integers(1, 5)))
    size = draw(st.one_of(st.none(), st.lists(st.integers(1, 8), min_size=1, max_size=3)))
    scale = draw(st.one_of(st.none(), st.floats(0.1, 3.5)))
    return Case({"size": size, "scale_factor": scale,
                 "mode": draw(st.sampled_from(get("Upsample").param("mode").choices)),
                 "align_corners": draw(st.one_of(st.none(), st.booleans()))}, [s])


case("Upsample")(_upsample_case)


# -- normalisation -----------------------------------------------------------------------
def norm_case(name: str):
    ranks = {"BatchNorm1d": (1, 2), "BatchNorm2d": (3, 3), "BatchNorm3d": (4, 4), "InstanceNorm1d": (2, 2),
             "InstanceNorm2d": (3, 3), "InstanceNorm3d": (4, 4)}[name]

    @st.composite
    def strategy(draw):
        s = draw(shape(*ranks, st.integers(1, 4)))
        return Case({"eps": draw(st.floats(1e-6, 1e-2)), "momentum": draw(st.one_of(st.none(), probabilities)),
                     "affine": draw(st.booleans()), "track_running_stats": draw(st.booleans())}, [s])

    return strategy()


case("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")(norm_case)


@st.composite
def _layer_norm_case(draw):
    return Case({"normalized_dims": draw(st.integers(1, 4)), "eps": draw(st.floats(1e-6, 1e-2)),
                 "elementwise_affine": draw(st.booleans()), "bias": draw(st.booleans())}, [draw(shape(1, 3))])


case("LayerNorm", policy=lambda v, s: v["normalized_dims"] > len(s[0]))(_layer_norm_case)


@st.composite
def _rms_norm_case(draw):
    return Case({"normalized_dims": draw(st.integers(1, 4)), "eps": draw(st.one_of(st.none(), st.floats(1e-6, 1e-2))),
                 "elementwise_affine": draw(st.booleans())}, [draw(shape(1, 3))])


case("RMSNorm", policy=lambda v, s: v["normalized_dims"] > len(s[0]))(_rms_norm_case)


@st.composite
def _local_response_norm_case(draw):
    return Case({"size": draw(st.integers(1, 6)), "alpha": draw(st.floats(0.0, 1e-2)), "beta": draw(finite),
                 "k": draw(st.floats(0.5, 2.0))}, [draw(shape(1, 4, st.integers(1, 4)))])


case("LocalResponseNorm")(_local_response_norm_case)


@st.composite
def _group_norm_case(draw):
    groups = draw(st.integers(1, 6))
    channels = draw(st.one_of(st.integers(1, 12), st.integers(1, 3).map(lambda k: k * groups)))
    return Case({"num_groups": groups, "affine": draw(st.booleans())},
                [(channels,) + draw(shape(0, 3, st.integers(1, 4)))])


case("GroupNorm")(_group_norm_case)
