"""Small pieces the shape rules share: rank checks, dimension arithmetic, conv/pool sizes."""
from __future__ import annotations

import math

from graph.params import Param
from graph.registry import Shape, ShapeError
from graph.shape_text import shape_text as fmt  # the rules' short name for the one formatter


def prod(values) -> int:
    return math.prod(values)


def require_rank(shape: Shape, ranks: tuple[int, ...], what: str) -> None:
    """Check the number of non-batch dimensions; `what` describes the expected layout."""
    if len(shape) not in ranks:
        raise ShapeError(
            f"expects {what}, got {fmt(shape)}",
            hint="reshape or flatten the input first" if len(shape) > max(ranks) else "add a dimension first",
        )


def require_min_rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) < rank:
        raise ShapeError(f"expects {what}, got {fmt(shape)}")


def full_dim(dim: int, shape: Shape, field: str, allow_batch: bool = False) -> int:
    """Normalise a torch dimension index (0 = batch) against a shape without batch.

    Returns the index into `shape` (the batch excluded). Dimension 0, the batch, is refused
    unless `allow_batch`, in which case -1 is returned for it.
    """
    rank = len(shape) + 1
    if not -rank <= dim < rank:
        raise ShapeError(
            f"'{field}' is {dim}, but the input {fmt(shape)} has dimensions 0..{rank - 1}",
            field=field,
            hint=f"choose a dimension from {-rank} to {rank - 1}",
        )
    dim %= rank
    if dim == 0 and not allow_batch:
        raise ShapeError(
            f"'{field}' is the batch dimension 0", field=field, hint="dimension 0 is the batch; use 1 or later"
        )
    return dim - 1


def conv_out(length: int, kernel: int, stride: int, padding: int, dilation: int, field: str = "kernel_size") -> int:
    """torch's Conv/MaxPool output length: floor((L + 2p - d(k-1) - 1) / s) + 1."""
    span = dilation * (kernel - 1) + 1
    if length + 2 * padding < span:
        raise ShapeError(
            f"kernel spans {span} but the padded input is only {length + 2 * padding} long",
            field=field,
            hint="use a smaller kernel_size or dilation, more padding, or a larger input",
        )
    return (length + 2 * padding - span) // stride + 1


def pool_out(length: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling output length (ATen `pooling_output_shape`).

    floor((L + 2p - d(k-1) - 1 [+ s-1 with ceil_mode]) / s) + 1, less one when ceil_mode would
    start the last window in the right padding. With ceil_mode a window may run past the end
    of the input, so only an output of length 0 is refused.
    """
    if padding * 2 > kernel:
        raise ShapeError(
            f"padding {padding} is more than half the kernel size {kernel}",
            field="padding",
            hint="padding may be at most kernel_size / 2",
        )
    span = dilation * (kernel - 1) + 1
    numerator = length + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= length + padding:
        out -= 1
    if out < 1:
        raise ShapeError(
            f"pooling window spans {span} but the padded input is only {length + 2 * padding} long",
            field="kernel_size",
            hint="use a smaller kernel_size or a larger input",
        )
    return out


def check_padding_mode(mode: str, lengths: Shape, pads: tuple[tuple[int, int], ...]) -> None:
    """torch's limits on non-zero padding: 'reflect' pads less than the input length on each
    side, 'circular' at most the input length; 'zeros' and 'replicate' pad any amount."""
    for length, (left, right) in zip(lengths, pads):
        side = max(left, right)
        if (mode == "reflect" and side >= length) or (mode == "circular" and side > length):
            limit = f"less than {length}" if mode == "reflect" else f"at most {length}"
            raise ShapeError(
                f"padding_mode '{mode}' pads {side} on a side of a dimension of size {length}; it must be {limit}",
                field="padding",
                hint="use less padding, padding_mode 'zeros' or 'replicate', or a larger input",
            )


def positive_shape(shape: Shape, what: str) -> None:
    if any(d <= 0 for d in shape):
        raise ShapeError(f"{what} {fmt(shape)} has an empty dimension", hint="check the sizes upstream")


def broadcast(a: Shape, b: Shape) -> Shape:
    """torch broadcasting of two shapes given without batch, or ShapeError.

    The ranks must be equal: torch aligns shapes from the right, so the batch dimension of the
    shorter tensor would be matched against a feature dimension of the longer one.
    """
    if len(a) != len(b):
        raise ShapeError(
            f"input shapes {fmt(a)} and {fmt(b)} have different numbers of dimensions",
            hint="Reshape or Unflatten one input so that both have the same number of dimensions",
        )
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ShapeError(
                f"input shapes {fmt(a)} and {fmt(b)} do not match",
                hint="make the shapes equal (or 1 where one should be broadcast)",
            )
        out.append(max(x, y))
    return tuple(out)


def probability(name: str = "p", default: float = 0.5, help: str = "probability of an element being zeroed") -> Param:
    return Param(name, "float", default, help, minimum=0.0, maximum=1.0)


def dim_param(default: int, help: str) -> Param:
    return Param("dim", "int", default, help + " (0 is the batch)")
