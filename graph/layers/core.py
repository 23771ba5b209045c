"""Core layers: graph inputs and outputs, Linear, reshaping, dropout, embeddings."""
from __future__ import annotations

from graph.layers._rules import (
    fmt,
    full_dim,
    positive_shape,
    probability,
    prod,
    require_min_rank,
    require_rank,
)
from graph.losses import LOSSES
from graph.params import Param
from graph.registry import Code, Inferred, LayerType, ShapeError, register


def _input(p, inputs):
    shape = tuple(p["shape"])
    positive_shape(shape, "shape")
    if p["padding_id"] is not None and p["dtype"] != "int64":
        raise ShapeError("padding_id marks padding among token ids, but this input is float32", field="padding_id",
                         hint="set dtype to int64, or clear padding_id")
    return Inferred((shape,))


register(LayerType(
    name="Input", category="Input/Output",
    doc="A model input; `shape` leaves out the batch dimension.",
    params=(
        Param("shape", "ints", [1], "tensor shape without the batch dimension, e.g. [1, 28, 28]",
              minimum=1, min_len=1, max_len=8),
        Param("dtype", "choice", "float32", "element type: float32 for features, int64 for token ids",
              choices=("float32", "int64")),
        Param("padding_id", "int", None, "token id that marks padding (int64 inputs): attention fed from this "
              "input ignores those positions (optional)", minimum=0, optional=True, ctor=False),
    ),
    inputs=(), infer=_input, dtype="same", code=Code(role="input"),
))

register(LayerType(
    name="Output", category="Input/Output",
    doc="A model output; `loss` is applied to it when training.",
    params=(
        Param("loss", "choice", "cross_entropy", "loss applied to this output when training", choices=LOSSES),
    ),
    outputs=(), infer=lambda p, inputs: Inferred(()), dtype="same", code=Code(role="output"),
))


def _linear(p, inputs):
    (shape,) = inputs
    require_min_rank(shape, 1, "features in its last dimension")
    fin, fout = shape[-1], p["out_features"]
    params = fin * fout + (fout if p["bias"] else 0)
    return Inferred((shape[:-1] + (fout,),), params, params * prod(shape[:-1]), {"in_features": fin})


register(LayerType(
    name="Linear", category="Core", torch_class="Linear", signature="in_features, out_features, bias=True",
    doc="Fully connected layer: y = x W^T + b over the last dimension.",
    params=(
        Param("out_features", "int", 64, "size of each output sample", minimum=1),
        Param("bias", "bool", True, "learn an additive bias"),
    ),
    infer=_linear, size_param="out_features", functions=("aten.linear(input, weight(out_features, _), bias)",),
))


def _bilinear(p, inputs):
    a, b = inputs
    require_min_rank(a, 1, "features in its last dimension")
    require_min_rank(b, 1, "features in its last dimension")
    if a[:-1] != b[:-1]:
        raise ShapeError(f"inputs {fmt(a)} and {fmt(b)} differ before their last dimension",
                         hint="both inputs need the same leading dimensions")
    out = p["out_features"]
    params = a[-1] * b[-1] * out + (out if p["bias"] else 0)
    return Inferred((a[:-1] + (out,),), params, params * prod(a[:-1]),
                    {"in1_features": a[-1], "in2_features": b[-1]})


register(LayerType(
    name="Bilinear", category="Core", torch_class="Bilinear",
    signature="in1_features, in2_features, out_features, bias=True",
    doc="Bilinear layer: y = x1^T A x2 + b.",
    params=(
        Param("out_features", "int", 64, "size of each output sample", minimum=1),
        Param("bias", "bool", True, "learn an additive bias"),
    ),
    inputs=("input1", "input2"), infer=_bilinear, size_param="out_features",
))


def _flatten(p, inputs):
    (shape,) = inputs
    full = (None,) + shape
    start = full_dim(p["start_dim"], shape, "start_dim") + 1
    end = full_dim(p["end_dim"], shape, "end_dim") + 1
    if start > end:
        raise ShapeError(f"start_dim {p['start_dim']} comes after end_dim {p['end_dim']}", field="start_dim")
    return Inferred((tuple(full[1:start]) + (prod(full[start:end + 1]),) + tuple(full[end + 1:]),))


register(LayerType(
    name="Flatten", category="Core", torch_class="Flatten", dtype="same",
    doc="Flattens a range of dimensions into one, e.g. (N, C, H, W) -> (N, C*H*W).",
    params=(
        Param("start_dim", "int", 1, "first dimension to flatten (0 is the batch)"),
        Param("end_dim", "int", -1, "last dimension to flatten"),
    ),
    infer=_flatten, functions=("torch.flatten(input, start_dim, end_dim)", ".flatten(input, start_dim, end_dim)",
                                "aten.flatten(input, start_dim, end_dim)"),
))


def _unflatten(p, inputs):
    (shape,) = inputs
    i = full_dim(p["dim"], shape, "dim")
    sizes = list(p["unflattened_size"])
    known = prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if shape[i] % known:
            raise ShapeError(f"size {shape[i]} of dim {p['dim']} cannot be split into {sizes}",
                             field="unflattened_size")
        sizes[sizes.index(-1)] = shape[i] // known
    elif known != shape[i]:
        raise ShapeError(
            f"unflattened_size {p['unflattened_size']} has {known} elements, but dim {p['dim']} has {shape[i]}",
            field="unflattened_size", hint=f"choose sizes whose product is {shape[i]}")
    return Inferred((shape[:i] + tuple(sizes) + shape[i + 1:],))


register(LayerType(
    name="Unflatten", category="Core", torch_class="Unflatten", dtype="same", signature="dim, unflattened_size",
    doc="Splits one dimension into several, e.g. (N, 784) -> (N, 1, 28, 28).",
    params=(
        Param("dim", "int", 1, "dimension to split (0 is the batch)"),
        Param("unflattened_size", "ints", [1, 1], "sizes to split it into; their product is the old size",
              minimum=1, min_len=1, allow_minus_one=True),
    ),
    infer=_unflatten,
))


def _reshape(p, inputs):
    (shape,) = inputs
    target = list(p["shape"])
    total = prod(shape)
    known = prod(s for s in target if s != -1)
    if -1 in target:
        if total % known:
            raise ShapeError(f"cannot reshape {fmt(shape)} ({total} elements) to {target}", field="shape",
                             hint=f"the known sizes must divide {total}")
        target[target.index(-1)] = total // known
    elif known != total:
        raise ShapeError(
            f"cannot reshape {fmt(shape)} ({total} elements per sample) to {fmt(tuple(target))} ({known})",
            field="shape", hint=f"choose a shape with {total} elements, or use -1 for one dimension")
    return Inferred((tuple(target),))


register(LayerType(
    name="Reshape", category="Core", dtype="same",
    doc="Gives each sample a new shape with the same number of elements (batch kept).",
    params=(
        Param("shape", "ints", [-1], "new shape without the batch dimension; one entry may be -1",
              minimum=1, min_len=1, allow_minus_one=True),
    ),
    infer=_reshape, code=Code(call="{x}.reshape(-1, {out:*})"),
    # the importer reads `shape` from the traced output, whose batch must stay first
    functions=(".view(input, *_)", ".reshape(input, *_)", "torch.reshape(input, _)", "aten.view(input, _)",
               "aten.reshape(input, _)"),
))


def _permute(p, inputs):
    (shape,) = inputs
    dims = list(p["dims"])
    rank = len(shape) + 1
    if sorted(d % rank if -rank <= d < rank else d for d in dims) != list(range(rank)):
        raise ShapeError(f"dims {dims} is not an ordering of 0..{rank - 1} for input {fmt(shape)}",
                         field="dims", hint=f"list each of 0..{rank - 1} once")
    dims = [d % rank for d in dims]
    if dims[0] != 0:
        raise ShapeError("dims must keep the batch dimension 0 first", field="dims", hint="start dims with 0")
    full = (None,) + shape
    return Inferred((tuple(full[d] for d in dims[1:]),))


register(LayerType(
    name="Permute", category="Core", dtype="same",
    doc="Reorders dimensions, e.g. dims [0, 2, 1] swaps (N, L, C) to (N, C, L).",
    params=(Param("dims", "ints", [0, 2, 1], "new order of all dimensions, batch 0 first", min_len=1),),
    infer=_permute, code=Code(call="{x}.permute({dims:*})"),
    functions=(".permute(input, *dims)", "torch.permute(input, dims)", "aten.permute(input, dims)"),
))

register(LayerType(
    name="Identity", category="Core", torch_class="Identity", dtype="same",
    doc="Passes its input through unchanged (a placeholder).",
    infer=lambda p, inputs: Inferred((inputs[0],)),
))

register(LayerType(
    name="Dropout", category="Core", torch_class="Dropout", dtype="same",
    doc="Zeroes random elements with probability p while training (regularisation).",
    params=(probability(),),
    infer=lambda p, inputs: Inferred((inputs[0],)), functions=("F.dropout(input, p, training)", "aten.dropout(input, p, _)"),
    dropout="p",
))


def _channel_dropout_rule(rank: int, what: str):
    def infer(p, inputs):
        require_rank(inputs[0], (rank,), what)
        return Inferred((inputs[0],))

    return infer


for _dims, _what in ((1, "sequences of channels (N, C, L)"), (2, "feature maps (N, C, H, W)"),
                     (3, "volumes (N, C, D, H, W)")):
    register(LayerType(
        name=f"Dropout{_dims}d", category="Core", torch_class=f"Dropout{_dims}d", dtype="same",
        doc=f"Zeroes whole channels of {_what} with probability p while training.",
        params=(probability(help="probability of a channel being zeroed"),),
        infer=_channel_dropout_rule(_dims + 1, _what), dropout="p",
    ))

register(LayerType(
    name="AlphaDropout", category="Core", torch_class="AlphaDropout", dtype="same",
    doc="Dropout that keeps a SELU network's mean and variance (pair it with SELU).",
    params=(probability(),),
    infer=lambda p, inputs: Inferred((inputs[0],)), functions=("F.alpha_dropout(input, p, training)",), dropout="p",
))


def _embedding(p, inputs):
    (shape,) = inputs
    if p["padding_idx"] is not None and not -p["num_embeddings"] <= p["padding_idx"] < p["num_embeddings"]:
        raise ShapeError(f"padding_idx {p['padding_idx']} is outside 0..{p['num_embeddings'] - 1}",
                         field="padding_idx")
    params = p["num_embeddings"] * p["embedding_dim"]
    return Inferred((shape + (p["embedding_dim"],),), params, 0)


register(LayerType(
    name="Embedding", category="Core", torch_class="Embedding", dtype="int",
    signature="num_embeddings, embedding_dim, padding_idx=None",
    doc="Looks up a learned vector for each token id (int64 input).",
    params=(
        Param("num_embeddings", "int", 1000, "vocabulary size: token ids run from 0 to this minus 1", minimum=1),
        Param("embedding_dim", "int", 64, "size of each embedding vector", minimum=1),
        Param("padding_idx", "int", None, "token id whose vector stays zero (optional)", optional=True),
    ),
    infer=_embedding, size_param="embedding_dim",
    functions=("aten.embedding(weight(num_embeddings, embedding_dim), input, padding_idx)",),
))
