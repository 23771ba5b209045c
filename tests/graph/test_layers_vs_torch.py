"""Every registered layer type against real torch.

For each type, hypothesis draws parameter settings and input shapes; the shape rule's output
shapes (every port), parameter count and derived constructor sizes must equal what torch gives
for a real forward pass on a small batch. When torch refuses a combination, the rule must
refuse it with a ShapeError; when the rule refuses one that torch accepts, the refusal must be
one of LayerLoom's deliberate, documented ones (touching the batch dimension, unequal chunks, ...).

The strategies live in tests/graph/torch_cases/ (one module per category), the torch side in
tests/graph/torch_oracle.py. A new layer type without a case there fails `test_every_type_has_a_torch_case`.
"""
from __future__ import annotations

import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from graph.registry import ShapeError, all_types, get
from tests.graph.torch_cases import BATCH, CASES, Case
from tests.graph.torch_oracle import FUNCTIONAL, build_module, compare

torch.set_num_threads(1)

EXAMPLES = int(os.environ.get("LAYERLOOM_EXAMPLES", "30"))  # raise it for a deeper search
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


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
