"""Strategies for recurrent and attention layers, and for the layers that merge and split tensors."""
from __future__ import annotations

from hypothesis import strategies as st

from tests.graph.torch_cases.base import (
    CASES,
    Case,
    case,
    draw_dim,
    is_batch,
    probabilities,
    shape,
    sizes,
    torch_dim,
)


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
    return Case({"dim": draw_dim(draw, shapes[0]), "eps": draw(st.floats(1e-8, 1e-3))}, shapes)


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
