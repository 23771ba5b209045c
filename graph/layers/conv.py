"""Convolution, pooling and upsampling, in 1, 2 and 3 spatial dimensions."""
from __future__ import annotations

import math

from graph.layers._rules import (
    check_padding_mode,
    conv_out,
    fmt,
    pool_out,
    prod,
    require_min_rank,
    require_rank,
)
from graph.params import Param, as_tuple
from graph.registry import Inferred, LayerType, ShapeError, register

_LAYOUT = {1: "a sequence of channels (N, C, L)", 2: "feature maps (N, C, H, W)", 3: "volumes (N, C, D, H, W)"}


def _spatial(shape, dims: int):
    require_rank(shape, (dims + 1,), _LAYOUT[dims])
    return shape[0], shape[1:]


def _check_groups(groups: int, cin: int, cout: int) -> None:
    for what, n in (("input channels", cin), ("out_channels", cout)):
        if n % groups:
            raise ShapeError(f"groups {groups} does not divide the {what} ({n})", field="groups",
                             hint="choose groups that divide both channel counts")


def _conv_rule(dims: int):
    def infer(p, inputs):
        cin, spatial = _spatial(inputs[0], dims)
        cout, groups = p["out_channels"], p["groups"]
        _check_groups(groups, cin, cout)
        k, s, d = (as_tuple(p[n], dims) for n in ("kernel_size", "stride", "dilation"))
        pad = p["padding"]
        if pad == "same":
            if any(v != 1 for v in s):
                raise ShapeError("padding 'same' needs stride 1", field="padding", hint="set stride to 1 or pad by number")
            out = spatial
            for length, kk, dd in zip(spatial, k, d):
                conv_out(length + dd * (kk - 1), kk, 1, 0, dd)
            sides = tuple((dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for kk, dd in zip(k, d))
        else:
            pads = as_tuple(0 if pad == "valid" else pad, dims)
            out = tuple(conv_out(*args) for args in zip(spatial, k, s, pads, d))
            sides = tuple((pp, pp) for pp in pads)
        check_padding_mode(p["padding_mode"], spatial, sides)
        params = cout * (cin // groups) * prod(k) + (cout if p["bias"] else 0)
        return Inferred(((cout,) + tuple(out),), params, params * prod(out), {"in_channels": cin})

    return infer


def _conv_transpose_rule(dims: int):
    def infer(p, inputs):
        cin, spatial = _spatial(inputs[0], dims)
        cout, groups = p["out_channels"], p["groups"]
        _check_groups(groups, cin, cout)
        k, s, pad, opad, d = (as_tuple(p[n], dims) for n in
                              ("kernel_size", "stride", "padding", "output_padding", "dilation"))
        for op, ss, dd in zip(opad, s, d):
            if op >= max(ss, dd):
                raise ShapeError(f"output_padding {p['output_padding']} must be smaller than stride or dilation",
                                 field="output_padding")
        out = tuple((n - 1) * ss - 2 * pp + dd * (kk - 1) + op + 1 for n, kk, ss, pp, op, dd in
                    zip(spatial, k, s, pad, opad, d))
        if any(n <= 0 for n in out):
            raise ShapeError(f"output size {fmt((cout,) + out)} is empty", field="padding", hint="use less padding")
        params = cin * (cout // groups) * prod(k) + (cout if p["bias"] else 0)
        return Inferred(((cout,) + out,), params, params * prod(out), {"in_channels": cin})

    return infer


def _conv_params(dims: int, transpose: bool) -> tuple[Param, ...]:
    size = {"kind": "size", "dims": dims}
    first = (
        Param("out_channels", "int", 16, "number of filters (output channels)", minimum=1),
        Param("kernel_size", default=3, help="size of the filter window", minimum=1, **size),
        Param("stride", default=1, help="step between windows", minimum=1, **size),
    )
    if transpose:
        return first + (
            Param("padding", default=0, help="implicit zero padding removed from each side", minimum=0, **size),
            Param("output_padding", default=0, help="extra size added to one side of the output", minimum=0,
                  advanced=True, **size),
            Param("groups", "int", 1, "blocked connections from input to output channels", minimum=1, advanced=True),
            Param("bias", "bool", True, "learn an additive bias"),
            Param("dilation", default=1, help="spacing between kernel elements", minimum=1, advanced=True, **size),
        )
    return first + (
        Param("padding", "padding", 0, "zero padding on each side, or 'same' to keep the size", minimum=0, dims=dims),
        Param("dilation", default=1, help="spacing between kernel elements", minimum=1, advanced=True, **size),
        Param("groups", "int", 1, "blocked connections from input to output channels", minimum=1, advanced=True),
        Param("bias", "bool", True, "learn an additive bias"),
        Param("padding_mode", "choice", "zeros", "how the border is padded",
              choices=("zeros", "reflect", "replicate", "circular"), advanced=True),
    )


_CONV_ARGS = "input, weight(out_channels, _, *kernel_size), bias, stride, padding, dilation, groups"
for _dims in (1, 2, 3):
    register(LayerType(
        name=f"Conv{_dims}d", category="Convolution", torch_class=f"Conv{_dims}d",
        signature="in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, "
                  "padding_mode='zeros'",
        doc=f"{_dims}-D convolution over {_LAYOUT[_dims]}.",
        params=_conv_params(_dims, transpose=False), infer=_conv_rule(_dims), size_param="out_channels",
        functions=(f"aten.conv{_dims}d({_CONV_ARGS})",),
    ))
for _dims in (1, 2, 3):
    register(LayerType(
        name=f"ConvTranspose{_dims}d", category="Convolution", torch_class=f"ConvTranspose{_dims}d",
        signature="in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, "
                  "bias=True, dilation=1",
        doc=f"{_dims}-D transposed convolution: learned upsampling of {_LAYOUT[_dims]}.",
        params=_conv_params(_dims, transpose=True), infer=_conv_transpose_rule(_dims), size_param="out_channels",
    ))


# -- pooling -------------------------------------------------------------------------------
def _pool_rule(dims: int, dilated: bool):
    def infer(p, inputs):
        channels, spatial = _spatial(inputs[0], dims)
        k = as_tuple(p["kernel_size"], dims)
        s = k if p["stride"] is None else as_tuple(p["stride"], dims)
        pad = as_tuple(p["padding"], dims)
        d = as_tuple(p["dilation"], dims) if dilated else (1,) * dims
        out = tuple(pool_out(n, kk, ss, pp, dd, p["ceil_mode"]) for n, kk, ss, pp, dd in zip(spatial, k, s, pad, d))
        if dims == 3 and not dilated and any(n < kk for n, kk in zip(spatial, k)):
            # avg_pool3d, unlike the 1-D and 2-D ones, refuses a window larger than the unpadded input
            raise ShapeError(f"kernel_size {p['kernel_size']} is larger than the input volume {fmt(spatial)}",
                             field="kernel_size", hint="use a smaller kernel_size or a larger input")
        return Inferred(((channels,) + out,))

    return infer


def _pool_params(dims: int, dilated: bool) -> tuple[Param, ...]:
    size = {"kind": "size", "dims": dims}
    params = (
        Param("kernel_size", default=2, help="size of the pooling window", minimum=1, **size),
        Param("stride", default=None, help="step between windows (default: kernel_size)", minimum=1,
              optional=True, **size),
        Param("padding", default=0, help="implicit padding on each side", minimum=0, **size),
    )
    if dilated:
        params += (Param("dilation", default=1, help="spacing between window elements", minimum=1,
                         advanced=True, **size),)
    params += (Param("ceil_mode", "bool", False, "round the output size up instead of down", advanced=True),)
    if not dilated:
        params += (Param("count_include_pad", "bool", True, "count padding zeros in the average", advanced=True),)
    return params


_POOL_SIGNATURES = {"Max": "kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False",
                    "Avg": "kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True"}
for _dims in (1, 2, 3):
    for _kind, _dilated, _what in (("Max", True, "maximum"), ("Avg", False, "average")):
        register(LayerType(
            name=f"{_kind}Pool{_dims}d", category="Pooling", torch_class=f"{_kind}Pool{_dims}d",
            signature=_POOL_SIGNATURES[_kind],
            doc=f"{_dims}-D {_what} pooling over {_LAYOUT[_dims]}.",
            params=_pool_params(_dims, _dilated), infer=_pool_rule(_dims, _dilated),
            functions=((f"F.max_pool{_dims}d(input, kernel_size, stride, padding, dilation, ceil_mode)",
                        f"aten.max_pool{_dims}d(input, kernel_size, stride, padding, dilation, ceil_mode)") if _dilated
                       else (f"F.avg_pool{_dims}d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)",
                             f"aten.avg_pool{_dims}d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)")),
            # torch keeps stride = kernel_size when none is given; the declaration's default says so
            reader=lambda m: {"stride": None if m.stride == m.kernel_size else m.stride},
        ))


def _adaptive_rule(dims: int):
    def infer(p, inputs):
        channels, _ = _spatial(inputs[0], dims)
        return Inferred(((channels,) + as_tuple(p["output_size"], dims),))

    return infer


for _kind, _dims in (("Avg", 1), ("Avg", 2), ("Avg", 3), ("Max", 1), ("Max", 2), ("Max", 3)):
    register(LayerType(
        name=f"Adaptive{_kind}Pool{_dims}d", category="Pooling", torch_class=f"Adaptive{_kind}Pool{_dims}d",
        signature="output_size",
        doc=f"{_kind}-pools {_LAYOUT[_dims]} to a fixed output size, whatever the input size.",
        params=(Param("output_size", "size", 1, "size of the output", minimum=1, dims=_dims),),
        infer=_adaptive_rule(_dims),  # adaptive max pooling's ATen operation gives the indices too
        functions=((f"F.adaptive_avg_pool{_dims}d(input, output_size)", f"aten.adaptive_avg_pool{_dims}d(input, output_size)")
                   if _kind == "Avg" else (f"F.adaptive_max_pool{_dims}d(input, output_size)",)),
    ))


def _lp_pool_rule(dims: int):
    def infer(p, inputs):
        channels, spatial = _spatial(inputs[0], dims)
        k = as_tuple(p["kernel_size"], dims)
        s = k if p["stride"] is None else as_tuple(p["stride"], dims)
        out = tuple(pool_out(n, kk, ss, 0, 1, p["ceil_mode"]) for n, kk, ss in zip(spatial, k, s))
        return Inferred(((channels,) + out,))

    return infer


_SIZE2 = {"kind": "size", "dims": 2}
register(LayerType(
    name="LPPool2d", category="Pooling", torch_class="LPPool2d",
    signature="norm_type, kernel_size, stride=None, ceil_mode=False",
    doc=f"2-D power-average pooling, (sum of x^p)^(1/p) over each window of {_LAYOUT[2]}.",
    params=(
        Param("norm_type", "float", 2.0, "the power p: 1 sums the window, large p nears max pooling", minimum=1.0),
        Param("kernel_size", default=2, help="size of the pooling window", minimum=1, **_SIZE2),
        Param("stride", default=None, help="step between windows (default: kernel_size)", minimum=1, optional=True,
              **_SIZE2),
        Param("ceil_mode", "bool", False, "round the output size up instead of down", advanced=True),
    ),
    infer=_lp_pool_rule(2),
    reader=lambda m: {"stride": None if m.stride == m.kernel_size else m.stride},
))


# -- rearranging pixels --------------------------------------------------------------------
def _pixel_rule(up: bool):
    field = "upscale_factor" if up else "downscale_factor"

    def infer(p, inputs):
        (shape,) = inputs
        require_min_rank(shape, 3, "feature maps (N, ..., C, H, W)")
        lead, (c, h, w) = shape[:-3], shape[-3:]
        r = p[field]
        if up:
            if c % (r * r):
                raise ShapeError(f"{c} channels do not divide into upscale_factor² = {r * r}", field=field,
                                 hint=f"give the layer a multiple of {r * r} channels")
            return Inferred((lead + (c // (r * r), h * r, w * r),))
        if h % r or w % r:
            raise ShapeError(f"height {h} and width {w} must both be multiples of downscale_factor {r}",
                             field=field, hint="choose a factor that divides both, or resize the input")
        return Inferred((lead + (c * r * r, h // r, w // r),))

    return infer


register(LayerType(
    name="PixelShuffle", category="Convolution", torch_class="PixelShuffle", dtype="same", signature="upscale_factor",
    doc="Moves channels into space: (N, C*r², H, W) -> (N, C, H*r, W*r), sub-pixel upsampling.",
    params=(Param("upscale_factor", "int", 2, "r: how many times larger each side becomes", minimum=1),),
    infer=_pixel_rule(up=True), functions=("F.pixel_shuffle(input, upscale_factor)",),
))
register(LayerType(
    name="PixelUnshuffle", category="Convolution", torch_class="PixelUnshuffle", dtype="same",
    signature="downscale_factor",
    doc="Moves space into channels: (N, C, H*r, W*r) -> (N, C*r², H, W), the inverse of PixelShuffle.",
    params=(Param("downscale_factor", "int", 2, "r: how many times smaller each side becomes", minimum=1),),
    infer=_pixel_rule(up=False), functions=("F.pixel_unshuffle(input, downscale_factor)",),
))


def _blocks(size, p) -> tuple[int, ...]:
    """Sliding-window positions per spatial dimension, as Unfold/Fold count them."""
    k, d, pad, s = (as_tuple(p[n], 2) for n in ("kernel_size", "dilation", "padding", "stride"))
    return tuple(conv_out(*args) for args in zip(size, k, s, pad, d))


def _unfold(p, inputs):
    (shape,) = inputs
    require_rank(shape, (3,), "feature maps (N, C, H, W)")
    c, *size = shape
    return Inferred(((c * prod(as_tuple(p["kernel_size"], 2)), prod(_blocks(size, p))),))


def _fold(p, inputs):
    (shape,) = inputs
    require_rank(shape, (2,), "columns of blocks (N, C*kernel elements, L)")
    columns, length = shape
    kernel = prod(as_tuple(p["kernel_size"], 2))
    if columns % kernel:
        raise ShapeError(f"{columns} rows do not divide into kernel_size's {kernel} elements per block",
                         field="kernel_size", hint="the input's dimension 1 must be channels x kernel elements")
    size = as_tuple(p["output_size"], 2)
    blocks = prod(_blocks(size, p))
    if blocks != length:
        raise ShapeError(f"output_size {list(size)} holds {blocks} blocks but the input has {length}",
                         field="output_size", hint="match output_size, kernel_size, stride, padding and dilation "
                                                   "to the Unfold that made the blocks")
    return Inferred(((columns // kernel,) + size,))


_WINDOW_PARAMS = (
    Param("dilation", default=1, help="spacing between kernel elements", minimum=1, advanced=True, **_SIZE2),
    Param("padding", default=0, help="implicit zero padding on each side", minimum=0, **_SIZE2),
    Param("stride", default=1, help="step between blocks", minimum=1, **_SIZE2),
)
register(LayerType(
    name="Unfold", category="Convolution", torch_class="Unfold", dtype="same",
    signature="kernel_size, dilation=1, padding=0, stride=1",
    doc="Extracts sliding blocks: (N, C, H, W) -> (N, C*kernel elements, number of blocks), im2col.",
    params=(Param("kernel_size", default=2, help="size of each block", minimum=1, **_SIZE2), *_WINDOW_PARAMS),
    infer=_unfold,
))
register(LayerType(
    name="Fold", category="Convolution", torch_class="Fold", dtype="same",
    signature="output_size, kernel_size, dilation=1, padding=0, stride=1",
    doc="Sums sliding blocks back into feature maps: (N, C*kernel elements, L) -> (N, C, H, W), col2im.",
    params=(Param("output_size", default=4, help="height and width of the output", minimum=1, **_SIZE2),
            Param("kernel_size", default=2, help="size of each block", minimum=1, **_SIZE2), *_WINDOW_PARAMS),
    infer=_fold,
))


# -- upsampling ----------------------------------------------------------------------------
_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _upsample(p, inputs):
    (shape,) = inputs
    require_rank(shape, (2, 3, 4), "channels and 1 to 3 spatial dimensions (N, C, ...)")
    dims = len(shape) - 1
    mode = p["mode"]
    if mode in _MODE_RANK and _MODE_RANK[mode] != dims:
        raise ShapeError(f"mode '{mode}' works on {_MODE_RANK[mode]} spatial dimension(s), "
                         f"the input {fmt(shape)} has {dims}", field="mode",
                         hint="use 'nearest', or the linear mode for this many dimensions")
    if p["align_corners"] is not None and mode not in _MODE_RANK:
        raise ShapeError("align_corners only applies to the linear modes", field="align_corners",
                         hint="leave align_corners empty with mode 'nearest'")
    size, scale = p["size"], p["scale_factor"]
    if (size is None) == (scale is None):
        raise ShapeError("give exactly one of size and scale_factor", field="scale_factor")
    if size is not None:
        out = tuple(size)
        if len(out) != dims:
            raise ShapeError(f"size {size} has {len(size)} entries; the input has {dims} spatial dimension(s)",
                             field="size", hint=f"give {dims} size(s), one per spatial dimension")
    else:
        out = tuple(math.floor(n * scale) for n in shape[1:])
    if any(n <= 0 for n in out):
        raise ShapeError(f"output size {out} is empty", field="scale_factor")
    return Inferred(((shape[0],) + out,))


register(LayerType(
    name="Upsample", category="Convolution", torch_class="Upsample",
    signature="size=None, scale_factor=None, mode='nearest', align_corners=None",
    doc="Resizes feature maps by a scale factor or to a size (no learned weights).",
    params=(
        Param("size", "ints", None, "output spatial size, one entry per spatial dimension (or set scale_factor)",
              minimum=1, min_len=1, max_len=3, optional=True),
        Param("scale_factor", "float", 2.0, "multiplier for each spatial size", minimum=1e-3, optional=True),
        Param("mode", "choice", "nearest", "interpolation",
              choices=("nearest", "linear", "bilinear", "bicubic", "trilinear")),
        Param("align_corners", "bool", None, "align corner pixels (linear modes only)", optional=True,
              advanced=True),
    ),
    infer=_upsample,
))
