"""Padding layers: ZeroPad, ConstantPad, ReflectionPad and ReplicationPad in 1, 2 and 3 dimensions.

`padding` is torch's: one number for every side, or 2 per padded dimension, last dimension first
(left, right, top, bottom, front, back). Zero and constant padding may be negative, which crops."""
from __future__ import annotations

from graph.layers._rules import check_padding_mode, fmt, require_min_rank, require_rank
from graph.params import Param, as_tuple
from graph.registry import Inferred, LayerType, ShapeError, register

_WHAT = {1: "a sequence of channels (N, C, L)", 2: "feature maps (N, C, H, W)", 3: "volumes (N, C, D, H, W)"}
_DOCS = {
    "Zero": "Pads the last {d} dimension(s) with zeros (negative padding crops).",
    "Constant": "Pads the last {d} dimension(s) with a constant value (negative padding crops).",
    "Reflection": "Pads the last {d} dimension(s) with their mirror image, the border excluded.",
    "Replication": "Pads the last {d} dimension(s) by repeating the border values.",
}


def _pad_rule(kind: str, dims: int):
    def infer(p, inputs):
        (shape,) = inputs
        if kind in ("Zero", "Constant"):
            require_min_rank(shape, dims, f"at least {dims} dimension(s) to pad")
        else:
            require_rank(shape, (dims, dims + 1), _WHAT[dims])
        flat = as_tuple(p["padding"], 2 * dims)
        # torch lists the last dimension's sides first
        sides = tuple((flat[2 * i], flat[2 * i + 1]) for i in range(dims))[::-1]
        lengths = shape[-dims:]
        if kind == "Reflection":
            check_padding_mode("reflect", lengths, sides)
        out = tuple(n + a + b for n, (a, b) in zip(lengths, sides))
        # torch crops (negative sides) before it pads, so the crop alone must leave something
        if any(n + min(a, 0) + min(b, 0) < 0 for n, (a, b) in zip(lengths, sides)) or any(n <= 0 for n in out):
            raise ShapeError(f"padding {p['padding']} crops {fmt(shape)} to nothing", field="padding",
                             hint="crop less (negative padding removes values)")
        return Inferred((shape[:-dims] + out,))

    return infer


for _kind in ("Zero", "Constant", "Reflection", "Replication"):
    for _dims in (1, 2, 3):
        _params = (Param("padding", "size", 1, f"one number for every side, or {2 * _dims} (left, right"
                         + (", top, bottom" if _dims > 1 else "") + (", front, back" if _dims > 2 else "") + ")",
                         minimum=None if _kind in ("Zero", "Constant") else 0, dims=2 * _dims),)
        if _kind == "Constant":
            _params += (Param("value", "float", 0.0, "the value padded in"),)
        register(LayerType(
            name=f"{_kind}Pad{_dims}d", category="Convolution", torch_class=f"{_kind}Pad{_dims}d", dtype="same",
            signature="padding, value" if _kind == "Constant" else "padding",
            doc=_DOCS[_kind].format(d=_dims), params=_params, infer=_pad_rule(_kind, _dims),
        ))
