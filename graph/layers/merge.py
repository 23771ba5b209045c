"""Merging and splitting tensors: Add, Multiply, Subtract, Divide, Concat, Chunk, MatMul, and the
similarity and distance of two tensors."""
from __future__ import annotations

from graph.layers._rules import broadcast, dim_param, fmt, full_dim, prod
from graph.params import Param
from graph.registry import Code, Inferred, LayerType, ShapeError, numbered_ports, register

_NUM_INPUTS = Param("num_inputs", "int", 2, "how many tensors to combine", minimum=2, maximum=16, ctor=False)


def _elementwise(p, inputs):
    out = inputs[0]
    for shape in inputs[1:]:
        out = broadcast(out, shape)
    return Inferred((out,))


for _name, _doc, _call, _op in (("Add", "Element-wise sum, e.g. a residual (skip) connection.", "{xs: + }", "add"),
                                ("Multiply", "Element-wise product, e.g. gating.", "{xs: * }", "mul")):
    register(LayerType(name=_name, category="Merge/Split", doc=_doc + " Shapes must match or broadcast.",
                       params=(_NUM_INPUTS,), inputs=numbered_ports("in", "num_inputs"), infer=_elementwise,
                       code=Code(call=_call),
                       functions=tuple(f"{f}(in0, in1)" for f in (f"operator.{_op}", f"operator.i{_op}", f"torch.{_op}",
                                                                  f".{_op}", f"aten.{_op}"))))


for _name, _doc, _symbol, _op, _method in (
        ("Subtract", "Element-wise difference input - other.", "-", "sub", "sub"),
        ("Divide", "Element-wise quotient input / other.", "/", "truediv", "div")):
    register(LayerType(name=_name, category="Merge/Split", doc=_doc + " Shapes must match or broadcast.",
                       inputs=("input", "other"), infer=_elementwise, code=Code(call=f"{{x0}} {_symbol} {{x1}}"),
                       functions=tuple(f"{f}(input, other)" for f in (f"operator.{_op}", f"operator.i{_op}",
                                                                      f"torch.{_method}", f".{_method}",
                                                                      f"aten.{_method}"))))


def _cosine_similarity(p, inputs):
    shape = broadcast(*inputs)
    i = full_dim(p["dim"], shape, "dim")
    return Inferred((shape[:i] + shape[i + 1:],))


register(LayerType(
    name="CosineSimilarity", category="Merge/Split", torch_class="CosineSimilarity",
    doc="Cosine of the angle between two tensors along `dim`, from -1 to 1 (that dimension is reduced).",
    params=(dim_param(1, "dimension holding the vectors"),
            Param("eps", "float", 1e-8, "smallest norm divided by", minimum=0.0, advanced=True)),
    inputs=("x1", "x2"), infer=_cosine_similarity,
    functions=("F.cosine_similarity(x1, x2, dim, eps)", "torch.cosine_similarity(x1, x2, dim, eps)"),
))


def _pairwise_distance(p, inputs):
    shape = broadcast(*inputs)
    if not shape:
        raise ShapeError("expects vectors in the last dimension, got scalars per sample",
                         hint="give each sample at least one dimension")
    return Inferred((shape[:-1] + ((1,) if p["keepdim"] else ()),))


register(LayerType(
    name="PairwiseDistance", category="Merge/Split", torch_class="PairwiseDistance",
    doc="p-norm distance between two tensors' vectors in the last dimension, e.g. for a Siamese network.",
    params=(Param("p", "float", 2.0, "the norm: 2 Euclidean, 1 Manhattan", minimum=0.0),
            Param("eps", "float", 1e-6, "added to the difference to avoid a zero norm", minimum=0.0, advanced=True),
            Param("keepdim", "bool", False, "keep the last dimension with size 1")),
    inputs=("x1", "x2"), infer=_pairwise_distance,
    functions=("F.pairwise_distance(x1, x2, p, eps, keepdim)", "torch.pairwise_distance(x1, x2, p, eps, keepdim)"),
))


def _concat(p, inputs):
    first = inputs[0]
    i = full_dim(p["dim"], first, "dim")
    for shape in inputs[1:]:
        if len(shape) != len(first) or shape[:i] + shape[i + 1:] != first[:i] + first[i + 1:]:
            raise ShapeError(f"cannot concatenate {fmt(first)} and {fmt(shape)} along dim {p['dim']}",
                             hint="all sizes except the one at dim must match", field="dim")
    size = sum(s[i] for s in inputs)
    return Inferred((first[:i] + (size,) + first[i + 1:],))


register(LayerType(
    name="Concat", category="Merge/Split", dtype="same",
    doc="Joins tensors along a dimension (channels by default), e.g. U-Net skips.",
    params=(dim_param(1, "dimension to join along"), _NUM_INPUTS),
    inputs=numbered_ports("in", "num_inputs"), infer=_concat,
    code=Code(call="torch.cat(({xs}), dim={dim})"),
    functions=("torch.cat([inputs], dim)", "torch.concat([inputs], dim)", "torch.concatenate([inputs], dim)",
               "aten.cat([inputs], dim)"),
))


def _chunk(p, inputs):
    (shape,) = inputs
    i = full_dim(p["dim"], shape, "dim")
    chunks = p["chunks"]
    if shape[i] % chunks:
        raise ShapeError(f"size {shape[i]} of dim {p['dim']} does not split into {chunks} equal chunks",
                         field="chunks", hint=f"choose a divisor of {shape[i]}")
    piece = shape[:i] + (shape[i] // chunks,) + shape[i + 1:]
    return Inferred((piece,) * chunks)


register(LayerType(
    name="Chunk", category="Merge/Split", dtype="same",
    doc="Splits a tensor into equal chunks along a dimension; one output port per chunk.",
    params=(Param("chunks", "int", 2, "number of chunks", minimum=1, maximum=16),
            dim_param(1, "dimension to split")),
    outputs=numbered_ports("chunk", "chunks"), infer=_chunk,
    code=Code(call="{x}.chunk({chunks}, dim={dim})", outputs=("{y}[{i}]",)),
    functions=("torch.chunk(input, chunks, dim)", ".chunk(input, chunks, dim)", "aten.chunk(input, chunks, dim)"),
))


def _matmul(p, inputs):
    a, b = inputs
    for shape, port in ((a, "input"), (b, "other")):
        if len(shape) < 2:
            raise ShapeError(f"'{port}' {fmt(shape)} needs at least two dimensions after the batch",
                             hint="use Linear for vectors, or Reshape to a matrix")
    if a[-1] != b[-2]:
        raise ShapeError(f"cannot multiply {fmt(a)} by {fmt(b)}: {a[-1]} != {b[-2]}",
                         hint="the last size of 'input' must equal the second-to-last of 'other'")
    lead = broadcast(a[:-2], b[:-2])
    return Inferred((lead + (a[-2], b[-1]),), 0, prod(lead) * a[-2] * a[-1] * b[-1])


register(LayerType(
    name="MatMul", category="Merge/Split",
    doc="Batched matrix product torch.matmul(input, other), e.g. (N, L, E) @ (N, E, S).",
    inputs=("input", "other"), infer=_matmul, code=Code(call="{x0} @ {x1}"),
    functions=("operator.matmul(input, other)", "torch.matmul(input, other)", "torch.bmm(input, other)", "aten.matmul(input, other)",
               ".matmul(input, other)", ".bmm(input, other)"),
))
