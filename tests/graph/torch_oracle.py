"""The oracle of tests/graph/test_layers_vs_torch.py: what torch itself gives for a case (output shapes,
parameter count, constructor sizes), and `compare`, which holds a layer's shape rule to it."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import pytest
import torch

from graph.registry import LayerType, ShapeError, get
from tests.graph.torch_cases import BATCH, POLICY, Case, torch_dim


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
