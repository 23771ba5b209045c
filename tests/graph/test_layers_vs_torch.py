"""Every registered layer type against real torch.

For each type, hypothesis draws parameter settings and input shapes; the shape rule's output
shapes (every port), parameter count and derived constructor sizes must equal what torch gives
for a real forward pass on a small batch. When torch refuses a combination, the rule must
refuse it with a ShapeError; when the rule refuses one that torch accepts, the refusal must be
one of LayerLoom's deliberate, documented ones (touching the batch dimension, unequal chunks, ...).

A new layer type without a case here fails `test_every_type_has_a_torch_case`.
"""
from __future__ import annotations

import inspect
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from graph.registry import LayerType, ShapeError, all_types, get

torch.set_num_threads(1)

BATCH = 3
EXAMPLES = int(os.environ.get("LAYERLOOM_EXAMPLES", "30"))  # raise it for a deeper search
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

sizes = st.integers(1, 6)


@dataclass
class Case:
    params: dict            # user parameters, as a file would hold them
    shapes: list[tuple]     # input shapes without the batch dimension
    int_input: bool = False  # token ids (Embedding)


def shape(min_rank: int = 1, max_rank: int = 3, dims=sizes):
    return st.lists(dims, min_size=min_rank, max_size=max_rank).map(tuple)


def torch_dim(dim: int, rank_without_batch: int) -> int | None:
    """A torch dim index normalised to 0..rank (0 = batch), or None when out of range."""
    rank = rank_without_batch + 1
    return dim % rank if -rank <= dim < rank else None


def is_batch(dim: int, rank_without_batch: int) -> bool:
    return torch_dim(dim, rank_without_batch) == 0


# ---------------------------------------------------------------------------------------------
# Strategies: one per type. `POLICY[name](values, shapes)` is True where LayerLoom refuses on
# purpose something torch would run (it would mix up the batch dimension, or give ports that
# vary with the data).
# ---------------------------------------------------------------------------------------------
CASES: dict[str, st.SearchStrategy[Case]] = {}
POLICY: dict[str, Callable[[dict, list[tuple]], bool]] = {}


def case(*names: str, policy: Callable[[dict, list[tuple]], bool] | None = None):
    """Register `fn` (a strategy factory, taking the type name if it has a parameter) for `names`."""
    def register(fn):
        for name in names:
            CASES[name] = fn(name) if inspect.signature(fn).parameters else fn()
            if policy is not None:
                POLICY[name] = policy
        return fn
    return register


@case("Input")
def _input_case():
    return st.builds(lambda s, dtype: Case({"shape": list(s), "dtype": dtype}, []),
                     shape(1, 4), st.sampled_from(["float32", "int64"]))


@case("Output")
def _output_case():
    return st.builds(lambda s, loss: Case({"loss": loss}, [s]), shape(),
                     st.sampled_from(get("Output").param("loss").choices))


@case("Linear")
def _linear_case():
    return st.builds(lambda s, out, bias: Case({"out_features": out, "bias": bias}, [s]),
                     shape(1, 3), st.integers(1, 10), st.booleans())


@st.composite
def _bilinear_case(draw):
    lead = draw(shape(0, 2))
    lead2 = draw(st.one_of(st.just(lead), shape(0, 2)))
    a, b = lead + (draw(sizes),), lead2 + (draw(sizes),)
    return Case({"out_features": draw(st.integers(1, 6)), "bias": draw(st.booleans())}, [a, b])


case("Bilinear")(_bilinear_case)


@st.composite
def _flatten_case(draw):
    s = draw(shape(1, 4))
    r = len(s) + 1
    dim = st.integers(-r - 1, r)
    return Case({"start_dim": draw(dim), "end_dim": draw(dim)}, [s])


case("Flatten", policy=lambda v, s: is_batch(v["start_dim"], len(s[0])) or is_batch(v["end_dim"], len(s[0])))(
    _flatten_case)


@st.composite
def _unflatten_case(draw):
    s = list(draw(shape(1, 3)))
    dim = draw(st.integers(-len(s) - 2, len(s) + 1))
    pieces = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    if draw(st.booleans()):
        pieces[draw(st.integers(0, len(pieces) - 1))] = -1
    index = torch_dim(dim, len(s))
    if index and draw(st.booleans()):  # make it fit
        s[index - 1] = math.prod(p for p in pieces if p != -1) * (draw(st.integers(1, 3)) if -1 in pieces else 1)
    return Case({"dim": dim, "unflattened_size": pieces}, [tuple(s)])


case("Unflatten", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_unflatten_case)


@st.composite
def _reshape_case(draw):
    s = draw(shape(1, 3))
    if draw(st.booleans()):  # a target with the same element count
        total, target = math.prod(s), []
        while total > 1 and len(target) < 3:
            d = draw(st.sampled_from([d for d in range(1, total + 1) if total % d == 0]))
            target.append(d)
            total //= d
        target.append(total)
    else:
        target = draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return Case({"shape": target}, [s])


case("Reshape")(_reshape_case)


@st.composite
def _permute_case(draw):
    s = draw(shape(1, 3))
    r = len(s) + 1
    dims = draw(st.permutations(list(range(r))))
    dims = [d - r if draw(st.booleans()) else d for d in dims]
    if draw(st.integers(0, 4)) == 0:  # a broken ordering
        dims[draw(st.integers(0, r - 1))] = draw(st.integers(-r - 1, r))
    return Case({"dims": dims}, [s])


case("Permute", policy=lambda v, s: sorted(d % (len(s[0]) + 1) for d in v["dims"]) == list(range(len(s[0]) + 1))
     and v["dims"][0] % (len(s[0]) + 1) != 0)(_permute_case)


@st.composite
def _mean_case(draw):
    s = draw(shape(1, 3))
    r = len(s) + 1
    dims = draw(st.lists(st.integers(-r, r - 1), min_size=1, max_size=2))
    return Case({"dim": dims, "keepdim": draw(st.booleans())}, [s])


# refused: the batch dimension, or one dimension named twice
case("Mean", "Sum", "Max", "Min", policy=lambda v, s: any(d % (len(s[0]) + 1) == 0 for d in v["dim"])
     or len({d % (len(s[0]) + 1) for d in v["dim"]}) < len(v["dim"]))(_mean_case)


def _dim(draw, s, extra: int = 0):
    """A dim for shape `s` (batch excluded), sometimes out of range."""
    return draw(st.integers(-len(s) - 2 - extra, len(s) + 1 + extra))


@st.composite
def _select_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim": _dim(draw, s), "index": draw(st.integers(-7, 6))}, [s])


case("Select", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_select_case)


@st.composite
def _slice_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim": _dim(draw, s), "start": draw(st.integers(-7, 6)),
                 "end": draw(st.one_of(st.none(), st.integers(-7, 7)))}, [s])


case("Slice", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_slice_case)


@st.composite
def _transpose_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim0": _dim(draw, s), "dim1": _dim(draw, s)}, [s])


case("Transpose", policy=lambda v, s: is_batch(v["dim0"], len(s[0])) or is_batch(v["dim1"], len(s[0])))(
    _transpose_case)


@st.composite
def _squeeze_case(draw):
    s = draw(shape(1, 3, st.integers(1, 3)))
    return Case({"dim": _dim(draw, s)}, [s])


def _squeeze_policy(v, s):
    """Refused on purpose: the batch, and a dimension whose size is not 1 (torch leaves it be)."""
    index = torch_dim(v["dim"], len(s[0]))
    return index == 0 or (index is not None and s[0][index - 1] != 1)


case("Squeeze", policy=_squeeze_policy)(_squeeze_case)


@st.composite
def _unsqueeze_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim": _dim(draw, s, 1)}, [s])


case("Unsqueeze")(_unsqueeze_case)


@case("Identity", "ReLU", "SiLU", "Mish", "Sigmoid", "Tanh", "ReLU6", "SELU", "Hardswish", "Hardsigmoid",
      "LogSigmoid", "Softsign", "Tanhshrink", "AlphaDropout", "StopGradient")
def _plain_case():
    return st.builds(lambda s: Case({}, [s]), shape(1, 4))


probabilities = st.floats(0.0, 1.0)


@case("Dropout")
def _dropout_case():
    return st.builds(lambda s, p: Case({"p": p}, [s]), shape(1, 4), probabilities)


def channel_dropout_case(name: str):
    rank = int(name[-2]) + 1
    return st.builds(lambda s, p: Case({"p": p}, [s]), shape(rank, rank, st.integers(1, 4)), probabilities)


case("Dropout1d", "Dropout2d", "Dropout3d")(channel_dropout_case)


@st.composite
def _embedding_case(draw):
    n = draw(st.integers(1, 20))
    return Case({"num_embeddings": n, "embedding_dim": draw(st.integers(1, 8)),
                 "padding_idx": draw(st.one_of(st.none(), st.integers(-25, 25)))},
                [draw(shape(1, 2))], int_input=True)


case("Embedding")(_embedding_case)

finite = st.floats(-3.0, 3.0)


@case("LeakyReLU")
def _leaky_case():
    return st.builds(lambda s, a: Case({"negative_slope": a}, [s]), shape(), st.floats(0.0, 2.0))


@case("ELU")
def _elu_case():
    return st.builds(lambda s, a: Case({"alpha": a}, [s]), shape(), finite)


@case("GELU")
def _gelu_case():
    return st.builds(lambda s, a: Case({"approximate": a}, [s]), shape(), st.sampled_from(["none", "tanh"]))


@case("Softplus")
def _softplus_case():
    return st.builds(lambda s, b, t: Case({"beta": b, "threshold": t}, [s]), shape(),
                     st.floats(1e-3, 5.0), st.floats(0.0, 30.0))


@case("Hardtanh")
def _hardtanh_case():
    return st.builds(lambda s, lo, hi: Case({"min_val": lo, "max_val": hi}, [s]), shape(), finite, finite)


@case("CELU")
def _celu_case():
    return st.builds(lambda s, a: Case({"alpha": a}, [s]), shape(), st.floats(1e-3, 3.0))


@case("Threshold")
def _threshold_case():
    return st.builds(lambda s, t, v: Case({"threshold": t, "value": v}, [s]), shape(), finite, finite)


@case("Scale")
def _scale_case():
    return st.builds(lambda s, f: Case({"factor": f}, [s]), shape(1, 4), finite)


@st.composite
def _prelu_case(draw):
    s = draw(shape(1, 3))
    n = draw(st.one_of(st.just(1), st.just(s[0]), st.integers(1, 8)))
    return Case({"num_parameters": n, "init": draw(finite)}, [s])


case("PReLU")(_prelu_case)


@st.composite
def _softmax_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim": draw(st.integers(-len(s) - 2, len(s) + 1))}, [s])


case("Softmax", "LogSoftmax", "GLU", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_softmax_case)


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


# -- recurrent and attention -------------------------------------------------------------
def recurrent_case(name: str):
    @st.composite
    def strategy(draw):
        p = {"hidden_size": draw(st.integers(1, 6)), "num_layers": draw(st.integers(1, 3)),
             "bias": draw(st.booleans()), "dropout": draw(st.floats(0.0, 1.0)),
             "bidirectional": draw(st.booleans())}
        if name == "RNN":
            p["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
        return Case(p, [draw(shape(2, 2))])

    return strategy()


case("RNN", "LSTM", "GRU")(recurrent_case)


@st.composite
def _mha_case(draw):
    heads = draw(st.integers(1, 4))
    embed = draw(st.one_of(st.integers(1, 4).map(lambda k: k * heads), st.integers(1, 12)))
    length, source = draw(sizes), draw(sizes)
    kdim = draw(st.one_of(st.just(embed), st.integers(1, 8)))
    vdim = draw(st.one_of(st.just(kdim), st.just(embed), st.integers(1, 8)))
    vlength = draw(st.one_of(st.just(source), st.just(source), sizes))
    return Case({"num_heads": heads, "dropout": draw(st.floats(0.0, 0.9)), "bias": draw(st.booleans())},
                [(length, embed), (source, kdim), (vlength, vdim)])


case("MultiheadAttention")(_mha_case)


def transformer_case(name: str):
    @st.composite
    def strategy(draw):
        heads = draw(st.integers(1, 4))
        embed = draw(st.one_of(st.integers(1, 3).map(lambda k: k * heads), st.integers(1, 10)))
        p = {"nhead": heads, "dim_feedforward": draw(st.integers(1, 16)), "dropout": draw(st.floats(0.0, 0.5)),
             "activation": draw(st.sampled_from(["relu", "gelu"])), "norm_first": draw(st.booleans()),
             "bias": draw(st.booleans()), "layer_norm_eps": draw(st.floats(1e-6, 1e-3))}
        shapes = [(draw(sizes), embed)]
        if name == "TransformerDecoderLayer":
            shapes.append((draw(sizes), draw(st.one_of(st.just(embed), st.just(embed), st.integers(1, 10)))))
        return Case(p, shapes)

    return strategy()


case("TransformerEncoderLayer", "TransformerDecoderLayer")(transformer_case)


@case("PositionalEncoding", policy=lambda v, s: s[0][-1] % 2 == 1)  # the table pairs sin and cos columns
def _positional_case():
    return st.builds(lambda length, embed, max_len, p: Case({"max_len": max_len, "dropout": p}, [(length, embed)]),
                     st.integers(1, 10), st.integers(1, 8), st.integers(1, 12), probabilities)


# -- merge and split ---------------------------------------------------------------------
@st.composite
def _elementwise_case(draw):
    n = draw(st.integers(2, 4))
    base = draw(shape(1, 3))
    shapes = []
    for _ in range(n):
        s = list(base)
        for i in range(len(s)):
            s[i] = draw(st.sampled_from([s[i], s[i], 1, draw(sizes)]))
        shapes.append(tuple(s))
    return Case({"num_inputs": n}, shapes)


case("Add", "Multiply")(_elementwise_case)


@st.composite
def _pair_case(draw):
    base = draw(shape(1, 3))
    return [tuple(draw(st.sampled_from([d, d, 1, draw(sizes)])) for d in base) for _ in range(2)]


CASES["Subtract"] = _pair_case().map(lambda shapes: Case({}, shapes))
CASES["Divide"] = CASES["Subtract"]


@st.composite
def _cosine_case(draw):
    shapes = draw(_pair_case())
    return Case({"dim": _dim(draw, shapes[0]), "eps": draw(st.floats(1e-8, 1e-3))}, shapes)


case("CosineSimilarity", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_cosine_case)


@st.composite
def _pairwise_case(draw):
    return Case({"p": draw(st.floats(0.0, 3.0)), "eps": draw(st.floats(0.0, 1e-3)), "keepdim": draw(st.booleans())},
                draw(_pair_case()))


case("PairwiseDistance")(_pairwise_case)


@st.composite
def _concat_case(draw):
    n = draw(st.integers(2, 4))
    base = draw(shape(1, 3))
    dim = draw(st.integers(-len(base) - 2, len(base) + 1))
    index = torch_dim(dim, len(base))
    shapes = []
    for _ in range(n):
        s = list(base)
        if index:
            s[index - 1] = draw(sizes)
        if draw(st.integers(0, 5)) == 0:  # a mismatch elsewhere
            s[draw(st.integers(0, len(s) - 1))] = draw(sizes)
        shapes.append(tuple(s))
    return Case({"dim": dim, "num_inputs": n}, shapes)


case("Concat", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_concat_case)


@st.composite
def _chunk_case(draw):
    s = draw(shape(1, 3, st.integers(1, 8)))
    return Case({"chunks": draw(st.integers(1, 5)), "dim": draw(st.integers(-len(s) - 2, len(s) + 1))}, [s])


def _chunk_policy(v, s):
    index = torch_dim(v["dim"], len(s[0]))
    return index == 0 or (index is not None and s[0][index - 1] % v["chunks"] != 0)


case("Chunk", policy=_chunk_policy)(_chunk_case)


@st.composite
def _matmul_case(draw):
    lead = draw(shape(0, 2))
    other_lead = tuple(draw(st.sampled_from([d, d, 1])) for d in lead)
    n, k, m = draw(sizes), draw(sizes), draw(sizes)
    k2 = draw(st.sampled_from([k, k, k, draw(sizes)]))
    return Case({}, [lead + (n, k), other_lead + (k2, m)])


case("MatMul")(_matmul_case)


# ---------------------------------------------------------------------------------------------
# The oracle: torch itself
# ---------------------------------------------------------------------------------------------
def expected_derived(name: str, shapes: list[tuple], values: dict) -> dict:
    """The constructor sizes torch needs, worked out here from the input shapes alone."""
    first = shapes[0] if shapes else ()
    if name in ("Linear",):
        return {"in_features": first[-1]}
    if name == "Bilinear":
        return {"in1_features": shapes[0][-1], "in2_features": shapes[1][-1]}
    if name.startswith("Conv"):
        return {"in_channels": first[0]}
    if name.startswith(("BatchNorm", "InstanceNorm")):
        return {"num_features": first[0]}
    if name == "GroupNorm":
        return {"num_channels": first[0]}
    if name in ("LayerNorm", "RMSNorm"):
        return {"normalized_shape": list(first[-values["normalized_dims"]:])}
    if name in ("RNN", "LSTM", "GRU"):
        return {"input_size": first[-1]}
    if name == "MultiheadAttention":
        embed, kdim, vdim = shapes[0][-1], shapes[1][-1], shapes[2][-1]
        return {"embed_dim": embed, **({"kdim": kdim, "vdim": vdim} if (kdim, vdim) != (embed, embed) else {})}
    if name in ("TransformerEncoderLayer", "TransformerDecoderLayer", "PositionalEncoding"):
        return {"d_model": first[-1]}
    return {}


def sinusoidal_table(max_len: int, d_model: int) -> torch.Tensor:
    """The table of 'Attention Is All You Need', section 3.5 (fails for odd d_model, as it should)."""
    position = torch.arange(max_len).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * div_term)
    table[:, 1::2] = torch.cos(position * div_term)
    return table


def python_slice(x: torch.Tensor, dim: int, start: int, end: int | None) -> torch.Tensor:
    """x[:, ..., start:end] with the slice at `dim`: the oracle for Slice, written as users index."""
    index = torch_dim(dim, x.dim() - 1)
    if index is None:
        raise IndexError(f"dim {dim} out of range")
    return x[(slice(None),) * index + (slice(start, end),)]


# Types without a torch.nn class: the torch operation each one stands for.
FUNCTIONAL: dict[str, Callable[[dict, list[torch.Tensor]], list[torch.Tensor]]] = {
    "Input": lambda v, xs: [torch.zeros(BATCH, *v["shape"], dtype=getattr(torch, v["dtype"]))],
    "Output": lambda v, xs: [],
    "Reshape": lambda v, xs: [xs[0].reshape(BATCH, *v["shape"])],
    "Permute": lambda v, xs: [xs[0].permute(*v["dims"])],
    "Mean": lambda v, xs: [xs[0].mean(dim=v["dim"], keepdim=v["keepdim"])],
    "Sum": lambda v, xs: [xs[0].sum(dim=v["dim"], keepdim=v["keepdim"])],
    "Max": lambda v, xs: [xs[0].amax(dim=v["dim"], keepdim=v["keepdim"])],
    "Min": lambda v, xs: [xs[0].amin(dim=v["dim"], keepdim=v["keepdim"])],
    "Select": lambda v, xs: [xs[0].select(v["dim"], v["index"])],
    "Slice": lambda v, xs: [python_slice(xs[0], v["dim"], v["start"], v["end"])],
    "Transpose": lambda v, xs: [xs[0].transpose(v["dim0"], v["dim1"])],
    "Squeeze": lambda v, xs: [xs[0].squeeze(v["dim"])],
    "Unsqueeze": lambda v, xs: [xs[0].unsqueeze(v["dim"])],
    "Scale": lambda v, xs: [xs[0] * v["factor"]],
    "StopGradient": lambda v, xs: [xs[0].detach()],
    "Subtract": lambda v, xs: [xs[0] - xs[1]],
    "Divide": lambda v, xs: [xs[0] / xs[1]],
    "Add": lambda v, xs: [sum(xs[1:], xs[0])],
    "Multiply": lambda v, xs: [math.prod(xs[1:], start=xs[0])],
    "Concat": lambda v, xs: [torch.cat(xs, dim=v["dim"])],
    "Chunk": lambda v, xs: list(torch.chunk(xs[0], v["chunks"], dim=v["dim"])),
    "MatMul": lambda v, xs: [torch.matmul(xs[0], xs[1])],
    # narrow, unlike [:L], refuses L > max_len instead of broadcasting a one-row table
    "PositionalEncoding": lambda v, xs: [xs[0] + sinusoidal_table(v["max_len"], xs[0].shape[-1]).narrow(
        0, 0, xs[0].shape[1])],
}


def build_module(layer: LayerType, values: dict, derived: dict) -> torch.nn.Module:
    ctor = {p.name: values[p.name] for p in layer.params if p.ctor}
    cls = getattr(torch.nn, layer.torch_class)
    try:
        return cls(**derived, **ctor, **dict(layer.fixed_ctor))
    except TypeError as exc:  # a parameter that is not a constructor argument: a declaration bug
        if "argument" in str(exc):
            pytest.fail(f"{layer.name}: torch.nn.{layer.torch_class} refuses the declared arguments: {exc}")
        raise


def run_torch(layer: LayerType, values: dict, case: Case) -> tuple[list[tuple], int]:
    """Output shapes (batch removed) and parameter count from a real forward pass; raises if torch refuses."""
    if case.int_input:
        inputs = [torch.randint(0, values["num_embeddings"], (BATCH, *s)) for s in case.shapes]
    else:
        inputs = [torch.randn(BATCH, *s) for s in case.shapes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if layer.torch_class is None:
            outputs, count = FUNCTIONAL[layer.name](values, inputs), 0
        else:
            module = build_module(layer, values, expected_derived(layer.name, case.shapes, values))
            count = sum(p.numel() for p in module.parameters())
            with torch.no_grad():
                result = module(*inputs)
            outputs = port_outputs(layer.name, values, result)
    for out in outputs:
        assert out.shape[0] == BATCH, f"torch moved the batch dimension: {tuple(out.shape)}"
    return [tuple(out.shape[1:]) for out in outputs], count


def port_outputs(name: str, values: dict, result) -> list[torch.Tensor]:
    if name in ("RNN", "GRU", "LSTM"):
        sequence, hidden = result
        if name == "LSTM":
            hidden = hidden[0]
        last = torch.cat([hidden[-2], hidden[-1]], dim=-1) if values["bidirectional"] else hidden[-1]
        return [sequence, last]
    if name == "MultiheadAttention":
        return list(result)
    return [result]


def compare(name: str, case: Case) -> None:
    layer = get(name)
    values, problems = layer.resolve(case.params)
    assert not problems, f"the strategy drew undeclared values: {problems}"
    try:
        inferred, refusal = layer.infer(values, list(case.shapes)), None
    except ShapeError as exc:
        inferred, refusal = None, exc
    try:
        torch_shapes, torch_params = run_torch(layer, values, case)
        torch_error = None
    except (RuntimeError, ValueError, IndexError, AssertionError, NotImplementedError, TypeError) as exc:
        torch_error = exc

    if torch_error is not None:
        assert refusal is not None, (
            f"{name}{case.params} on {case.shapes}: torch refuses ({type(torch_error).__name__}: "
            f"{str(torch_error)[:300]}) but inference gave {inferred}")
        return
    if refusal is not None:
        if any(0 in s for s in torch_shapes):
            return  # torch would pass on an empty tensor; LayerLoom stops it where it starts
        policy = POLICY.get(name)
        assert policy is not None and policy(values, case.shapes), (
            f"{name}{case.params} on {case.shapes}: inference refuses ({refusal.message}) "
            f"but torch gives {torch_shapes}")
        return
    assert list(inferred.outputs) == torch_shapes, f"{name}{case.params} on {case.shapes}"
    assert len(inferred.outputs) == len(layer.output_ports(values))
    assert inferred.params == torch_params, f"{name}{case.params} on {case.shapes}"
    assert inferred.derived == expected_derived(name, case.shapes, values)
    assert inferred.macs >= 0
    if inferred.params and name not in ("Embedding", "PReLU"):  # a look-up and an activation cost nothing
        assert inferred.macs > 0


def test_every_type_has_a_torch_case():
    names = {t.name for t in all_types()}
    assert names - set(CASES) == set(), "layer types without a comparison against torch"
    assert set(CASES) - names == set()
    for t in all_types():
        assert (t.torch_class is None) == (t.name in FUNCTIONAL), t.name
        if t.torch_class is not None:
            assert hasattr(torch.nn, t.torch_class), t.torch_class


@pytest.mark.parametrize("name", [t.name for t in all_types()])
@SETTINGS
@given(data=st.data())
def test_shapes_and_parameters_match_torch(name, data):
    if name not in CASES:
        pytest.fail(f"no torch comparison for layer type {name}: add a strategy to CASES")
    compare(name, data.draw(CASES[name], label="case"))


# ---------------------------------------------------------------------------------------------
# Cases worth pinning down by hand (each one was, or easily could be, wrong)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, shapes", [
    ("MaxPool1d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, [(1, 2)]),   # window past the end
    ("AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, [(2, 5, 6)]),
    ("Conv1d", {"kernel_size": 3, "padding": 3, "padding_mode": "reflect"}, [(2, 3)]),
    ("Conv1d", {"kernel_size": 3, "padding": 3, "padding_mode": "circular"}, [(2, 3)]),
    ("Conv2d", {"kernel_size": 5, "padding": "same", "padding_mode": "reflect"}, [(2, 2, 8)]),
    ("ConvTranspose2d", {"kernel_size": 3, "stride": 2, "output_padding": 1}, [(2, 4, 4)]),
    ("InstanceNorm2d", {}, [(3, 1, 1)]),
    ("Upsample", {"size": [5], "scale_factor": None}, [(2, 3, 3)]),
    ("Upsample", {"size": [5], "scale_factor": None}, [(2, 3)]),
    ("Add", {}, [(3,), (2, 3)]),                      # torch would add the batch to the 2
    ("Multiply", {}, [(1, 3), (4, 1)]),
    ("MatMul", {}, [(2, 4, 5), (5, 6)]),
    ("MultiheadAttention", {"num_heads": 2}, [(4, 6), (3, 5), (3, 7)]),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8}, [(4, 6), (2, 6)]),
    ("LSTM", {"hidden_size": 5, "num_layers": 2, "bidirectional": True}, [(4, 3)]),
    ("PositionalEncoding", {"max_len": 4}, [(5, 6)]),
])
def test_pinned_cases_match_torch(name, params, shapes):
    compare(name, Case(params, shapes))


def test_rank_mismatch_is_refused_because_torch_would_broadcast_against_the_batch():
    # (N, 3) + (N, 2, 3): torch lines the batch of the first up with the 2 of the second.
    with pytest.raises(RuntimeError):
        torch.zeros(BATCH, 3) + torch.zeros(BATCH, 2, 3)
    for name in ("Add", "Multiply"):
        with pytest.raises(ShapeError):
            get(name).infer(get(name).defaults(), [(3,), (2, 3)])
    with pytest.raises(ShapeError):
        get("MatMul").infer({}, [(2, 4, 5), (5, 6)])


@pytest.mark.parametrize("name, rank", [
    ("Conv1d", 2), ("Conv2d", 3), ("Conv3d", 4), ("ConvTranspose1d", 2), ("ConvTranspose2d", 3),
    ("MaxPool1d", 2), ("MaxPool2d", 3), ("AvgPool1d", 2), ("AvgPool2d", 3), ("AdaptiveAvgPool1d", 2),
    ("AdaptiveAvgPool2d", 3), ("AdaptiveMaxPool2d", 3), ("BatchNorm2d", 3), ("InstanceNorm2d", 3),
    ("Dropout2d", 3), ("RNN", 2), ("LSTM", 2), ("GRU", 2), ("TransformerEncoderLayer", 2),
    ("ConvTranspose3d", 4), ("MaxPool3d", 4), ("AvgPool3d", 4), ("AdaptiveMaxPool1d", 2), ("AdaptiveAvgPool3d", 4),
    ("AdaptiveMaxPool3d", 4), ("LPPool2d", 3), ("Unfold", 3), ("Fold", 2), ("BatchNorm3d", 4), ("InstanceNorm1d", 2),
    ("InstanceNorm3d", 4), ("Dropout1d", 2), ("Dropout3d", 4),
])
def test_layers_refuse_inputs_of_the_wrong_rank(name, rank):
    layer = get(name)
    for other in range(1, 6):
        if other != rank:
            with pytest.raises(ShapeError) as info:
                layer.infer(layer.defaults(), [(4,) * other])
            assert "expects" in info.value.message


# ---------------------------------------------------------------------------------------------
# MACs: where torch's FLOP counter sees every multiplication, MACs = FLOPs / 2 per sample
# (bias additions, which the rules count for Linear and Conv, are added back here).
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, shapes, bias_positions", [
    ("Linear", {"out_features": 7}, [(5, 4)], 5 * 7),
    ("Linear", {"out_features": 7, "bias": False}, [(2, 3, 4)], 0),
    ("Conv1d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, [(2, 9)], 9 * 4),
    ("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}, [(1, 28, 28)], 28 * 28 * 6),
    ("Conv2d", {"out_channels": 6, "kernel_size": 3, "stride": 2, "groups": 3, "bias": False}, [(3, 9, 9)], 0),
    ("Conv3d", {"out_channels": 2, "kernel_size": 2}, [(3, 4, 4, 4)], 27 * 2),
    ("MatMul", {}, [(2, 4, 5), (2, 5, 3)], 0),
    ("MultiheadAttention", {"num_heads": 2}, [(5, 8), (7, 4), (7, 6)], 0),
    ("MultiheadAttention", {"num_heads": 4, "bias": False}, [(3, 8), (3, 8), (3, 8)], 0),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16, "dropout": 0.0}, [(5, 8)], 0),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16, "dropout": 0.0}, [(5, 8), (3, 8)], 0),
])
def test_macs_equal_half_the_flops_torch_counts(name, params, shapes, bias_positions):
    layer = get(name)
    values, _ = layer.resolve(params)
    inferred = layer.infer(values, shapes)
    inputs = [torch.randn(BATCH, *s) for s in shapes]
    # The math backend of scaled_dot_product_attention is made of matmuls the counter sees.
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
        if layer.torch_class is None:
            FUNCTIONAL[name](values, inputs)
        else:
            build_module(layer, values, inferred.derived)(*inputs)
    assert inferred.macs - bias_positions == counter.get_total_flops() // 2 // BATCH


@pytest.mark.parametrize("name, params, shapes, macs", [
    # parameter-free layers cost nothing
    ("ReLU", {}, [(4, 5)], 0), ("MaxPool2d", {}, [(3, 8, 8)], 0), ("Add", {}, [(4,), (4,)], 0),
    ("Embedding", {"num_embeddings": 10, "embedding_dim": 4}, [(7,)], 0),
    # normalisation: one MAC per normalised element carrying a learned scale
    ("BatchNorm2d", {}, [(4, 5, 5)], 4 * 25), ("BatchNorm1d", {}, [(6,)], 6),
    ("BatchNorm2d", {"affine": False}, [(4, 5, 5)], 0),
    ("LayerNorm", {}, [(7, 6)], 42), ("LayerNorm", {"elementwise_affine": False}, [(7, 6)], 0),
    ("RMSNorm", {}, [(7, 6)], 42), ("BatchNorm3d", {}, [(2, 3, 3, 3)], 54), ("Sum", {}, [(4, 5)], 0),
    ("GroupNorm", {"num_groups": 2}, [(4, 3, 3)], 36),
    # recurrent: parameters x time steps
    ("GRU", {"hidden_size": 4}, [(6, 3)], 6 * 3 * (4 * (3 + 4) + 2 * 4)),
    ("ConvTranspose1d", {"out_channels": 3, "kernel_size": 3, "stride": 2}, [(2, 5)], (2 * 3 * 3 + 3) * 11),
])
def test_macs_follow_the_documented_convention(name, params, shapes, macs):
    layer = get(name)
    assert layer.infer(layer.resolve(params)[0], shapes).macs == macs
