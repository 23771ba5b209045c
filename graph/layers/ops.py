"""Tensor operations with no torch.nn class (DESIGN §2 names them): reductions over dimensions,
picking and slicing positions, moving and adding dimensions, scaling, and cutting the gradient.
Each is one line of forward() in generated code; dimension 0, the batch, is never theirs to touch."""
from __future__ import annotations

from graph.layers._rules import fmt, full_dim
from graph.params import Param
from graph.registry import Code, Inferred, LayerType, ShapeError, register


def _reduced_dims(p, shape) -> list[int]:
    dims = sorted({full_dim(d, shape, "dim") for d in p["dim"]})
    if len(dims) != len(p["dim"]):
        raise ShapeError(f"dim {p['dim']} names a dimension twice", field="dim")
    return dims


def _reduce(p, inputs):
    (shape,) = inputs
    dims = _reduced_dims(p, shape)
    if p["keepdim"]:
        return Inferred((tuple(1 if i in dims else n for i, n in enumerate(shape)),))
    return Inferred((tuple(n for i, n in enumerate(shape) if i not in dims),))


def _reduction(name: str, method: str, doc: str, dtype: str, verb: str) -> None:
    """A reduction over a list of dimensions; Max and Min are torch.amax/amin, which take several
    dimensions and give only the values (torch.max over one dim also gives indices)."""
    register(LayerType(
        name=name, category="Core", dtype=dtype, doc=doc,
        params=(
            Param("dim", "ints", [1], f"dimensions to {verb} over (0 is the batch and cannot be one)", min_len=1,
                  max_len=8),
            Param("keepdim", "bool", False, "keep the reduced dimensions with size 1"),
        ),
        infer=_reduce,
        code=Code(call=f"{{x}}.{method}(dim={{dim}})",
                  variants=(("keepdim", Code(call=f"{{x}}.{method}(dim={{dim}}, keepdim=True)")),)),
        functions=(f"torch.{method}(input, dim, keepdim)", f".{method}(input, dim, keepdim)",
                   f"aten.{ {'max': 'amax', 'min': 'amin'}.get(method, method)}(input, dim, keepdim)"),
    ))


_reduction("Mean", "mean", "Averages over dimensions, e.g. dim [1] pools a sequence (N, L, E) to (N, E), [2, 3] "
           "feature maps.", "float", "average")
_reduction("Sum", "sum", "Sums over dimensions, e.g. dim [1] adds up a sequence (N, L, E) to (N, E).", "same", "sum")
_reduction("Max", "amax", "Largest value over dimensions (torch.amax), e.g. dim [1] max-pools a sequence.", "same",
           "take the maximum")
_reduction("Min", "amin", "Smallest value over dimensions (torch.amin).", "same", "take the minimum")


def _select(p, inputs):
    (shape,) = inputs
    i = full_dim(p["dim"], shape, "dim")
    size, index = shape[i], p["index"]
    if not -size <= index < size:
        raise ShapeError(f"index {index} is outside dim {p['dim']} of {fmt(shape)}, which has positions "
                         f"{-size}..{size - 1}", field="index", hint="-1 is the last position, 0 the first")
    return Inferred((shape[:i] + shape[i + 1:],))


register(LayerType(
    name="Select", category="Core", dtype="same",
    doc="Takes one position of a dimension and drops that dimension: a CLS token (index 0), the last step (-1).",
    params=(
        Param("dim", "int", 1, "dimension to pick from (0 is the batch)"),
        Param("index", "int", -1, "position to take; negative counts from the end"),
    ),
    infer=_select, code=Code(call="{x}.select({dim}, {index})"),
    functions=(".select(input, dim, index)", "torch.select(input, dim, index)", "aten.select(input, dim, index)"),
))


def _slice(p, inputs):
    (shape,) = inputs
    i = full_dim(p["dim"], shape, "dim")
    start, stop, _ = slice(p["start"], p["end"]).indices(shape[i])  # Python's x[start:end] along dim
    if stop <= start:
        raise ShapeError(f"start {p['start']} and end {p['end']} leave nothing of dim {p['dim']} of {fmt(shape)}",
                         field="end", hint=f"choose start < end within 0..{shape[i]} (negative counts from the end)")
    return Inferred((shape[:i] + (stop - start,) + shape[i + 1:],))


register(LayerType(
    name="Slice", category="Core", dtype="same",
    doc="Keeps positions start..end-1 of a dimension, as x[:, start:end] does (negative counts from the end).",
    params=(
        Param("dim", "int", 1, "dimension to slice (0 is the batch)"),
        Param("start", "int", 0, "first position kept"),
        Param("end", "int", None, "position after the last kept (empty: to the end)", optional=True),
    ),
    # slice_copy is torch's x[:, start:end] as one call (the copy is what autograd keeps anyway)
    infer=_slice, code=Code(call="torch.slice_copy({x}, {dim}, {start}, {end})"),
    functions=("torch.slice_copy(input, dim, start, end)",),
))


def _transpose(p, inputs):
    (shape,) = inputs
    a, b = full_dim(p["dim0"], shape, "dim0"), full_dim(p["dim1"], shape, "dim1")
    out = list(shape)
    out[a], out[b] = out[b], out[a]
    return Inferred((tuple(out),))


register(LayerType(
    name="Transpose", category="Core", dtype="same",
    doc="Swaps two dimensions, e.g. (N, L, C) -> (N, C, L) with dim0 1 and dim1 2.",
    params=(
        Param("dim0", "int", 1, "first dimension (0 is the batch)"),
        Param("dim1", "int", 2, "second dimension"),
    ),
    infer=_transpose, code=Code(call="{x}.transpose({dim0}, {dim1})"),
    functions=(".transpose(input, dim0, dim1)", "torch.transpose(input, dim0, dim1)", "aten.transpose(input, dim0, dim1)"),
))


def _squeeze(p, inputs):
    (shape,) = inputs
    i = full_dim(p["dim"], shape, "dim")
    if shape[i] != 1:
        raise ShapeError(f"dim {p['dim']} of {fmt(shape)} has size {shape[i]}, not 1: Squeeze would leave it as it is",
                         field="dim", hint="choose a dimension of size 1")
    return Inferred((shape[:i] + shape[i + 1:],))


register(LayerType(
    name="Squeeze", category="Core", dtype="same",
    doc="Removes a dimension of size 1, e.g. (N, 1, L) -> (N, L).",
    params=(Param("dim", "int", 1, "dimension of size 1 to remove (0 is the batch)"),),
    infer=_squeeze, code=Code(call="{x}.squeeze({dim})"),
    functions=(".squeeze(input, dim)", "torch.squeeze(input, dim)", "aten.squeeze(input, dim)"),
))


def _unsqueeze(p, inputs):
    (shape,) = inputs
    i = full_dim(p["dim"], shape + (1,), "dim")  # the new dimension may come after the last
    return Inferred((shape[:i] + (1,) + shape[i:],))


register(LayerType(
    name="Unsqueeze", category="Core", dtype="same",
    doc="Inserts a dimension of size 1, e.g. (N, L) -> (N, 1, L) with dim 1.",
    params=(Param("dim", "int", 1, "where the new dimension goes (0 is the batch; -1 after the last)"),),
    infer=_unsqueeze, code=Code(call="{x}.unsqueeze({dim})"),
    functions=(".unsqueeze(input, dim)", "torch.unsqueeze(input, dim)", "aten.unsqueeze(input, dim)"),
))

register(LayerType(
    name="Scale", category="Core", dtype="float",
    doc="Multiplies by a constant, e.g. 1/sqrt(d) before a softmax.",
    params=(Param("factor", "float", 1.0, "the constant every element is multiplied by"),),
    infer=lambda p, inputs: Inferred((inputs[0],)), code=Code(call="{x} * {factor}"),
    functions=("operator.mul(input, factor)", "torch.mul(input, factor)", ".mul(input, factor)"),
))

register(LayerType(
    name="StopGradient", category="Core", dtype="same",
    doc="Passes values on but no gradient back (x.detach()), e.g. a target network's output.",
    infer=lambda p, inputs: Inferred((inputs[0],)), code=Code(call="{x}.detach()"),
    functions=(".detach(input)", "torch.detach(input)"),
))
