"""Strategies for the core layers, tensor operations, dropout, embeddings and activations."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from graph.registry import get
from tests.graph.torch_cases.base import (
    Case,
    case,
    draw_dim,
    finite,
    is_batch,
    probabilities,
    shape,
    sizes,
    torch_dim,
)


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


@st.composite
def _select_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim": draw_dim(draw, s), "index": draw(st.integers(-7, 6))}, [s])


case("Select", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_select_case)


@st.composite
def _slice_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim": draw_dim(draw, s), "start": draw(st.integers(-7, 6)),
                 "end": draw(st.one_of(st.none(), st.integers(-7, 7)))}, [s])


case("Slice", policy=lambda v, s: is_batch(v["dim"], len(s[0])))(_slice_case)


@st.composite
def _transpose_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim0": draw_dim(draw, s), "dim1": draw_dim(draw, s)}, [s])


case("Transpose", policy=lambda v, s: is_batch(v["dim0"], len(s[0])) or is_batch(v["dim1"], len(s[0])))(
    _transpose_case)


@st.composite
def _squeeze_case(draw):
    s = draw(shape(1, 3, st.integers(1, 3)))
    return Case({"dim": draw_dim(draw, s)}, [s])


def _squeeze_policy(v, s):
    """Refused on purpose: the batch, and a dimension whose size is not 1 (torch leaves it be)."""
    index = torch_dim(v["dim"], len(s[0]))
    return index == 0 or (index is not None and s[0][index - 1] != 1)


case("Squeeze", policy=_squeeze_policy)(_squeeze_case)


@st.composite
def _unsqueeze_case(draw):
    s = draw(shape(1, 3))
    return Case({"dim": draw_dim(draw, s, 1)}, [s])


case("Unsqueeze")(_unsqueeze_case)


@case("Identity", "ReLU", "SiLU", "Mish", "Sigmoid", "Tanh", "ReLU6", "SELU", "Hardswish", "Hardsigmoid",
      "LogSigmoid", "Softsign", "Tanhshrink", "AlphaDropout", "StopGradient")
def _plain_case():
    return st.builds(lambda s: Case({}, [s]), shape(1, 4))


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
