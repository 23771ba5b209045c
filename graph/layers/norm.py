"""Normalisation layers; the feature counts they need are inferred from the input."""
from __future__ import annotations

from graph.layers._rules import fmt, prod, require_rank
from graph.params import Param
from graph.registry import Inferred, LayerType, ShapeError, register

_EPS = Param("eps", "float", 1e-5, "added to the variance for numerical stability", minimum=0.0, advanced=True)
_MOMENTUM = Param("momentum", "float", 0.1, "weight of the newest batch in the running statistics",
                  minimum=0.0, maximum=1.0, optional=True, advanced=True)


def _batch_norm_rule(ranks: tuple[int, ...], what: str, instance: bool = False):
    def infer(p, inputs):
        (shape,) = inputs
        require_rank(shape, ranks, what)
        if instance and prod(shape[1:]) == 1:
            raise ShapeError(f"normalising each sample's channels needs more than one value per channel, "
                             f"got {fmt(shape)}", hint="use a larger input or BatchNorm2d/GroupNorm")
        params = 2 * shape[0] if p["affine"] else 0
        return Inferred((shape,), params, params * prod(shape[1:]) // 2, {"num_features": shape[0]})

    return infer


for _name, _ranks, _what, _affine, _track in (
    ("BatchNorm1d", (1, 2), "features (N, C) or sequences of channels (N, C, L)", True, True),
    ("BatchNorm2d", (3,), "feature maps (N, C, H, W)", True, True),
    ("BatchNorm3d", (4,), "volumes (N, C, D, H, W)", True, True),
    ("InstanceNorm1d", (2,), "sequences of channels (N, C, L)", False, False),
    ("InstanceNorm2d", (3,), "feature maps (N, C, H, W)", False, False),
    ("InstanceNorm3d", (4,), "volumes (N, C, D, H, W)", False, False),
):
    register(LayerType(
        name=_name, category="Normalisation", torch_class=_name,
        doc=("Normalises each channel over the batch" if _name.startswith("Batch")
             else "Normalises each channel of each sample") + f"; input {_what}.",
        params=(_EPS, _MOMENTUM,
                Param("affine", "bool", _affine, "learn a per-channel scale and shift"),
                Param("track_running_stats", "bool", _track, "keep running mean/variance for evaluation",
                      advanced=True)),
        infer=_batch_norm_rule(_ranks, _what, instance=_name.startswith("Instance")),
        # in a torch.export program: the scale (None without affine) and the running mean say the flags
        functions=("aten.batch_norm(input, affine, _, track_running_stats, _, _, momentum, eps, _)",)
        if _name.startswith("Batch") else (),
    ))


_NORMALIZED_DIMS = Param("normalized_dims", "int", 1, "how many trailing dimensions to normalise over", minimum=1,
                         ctor=False)


def _normalized(p, shape) -> list[int]:
    k = p["normalized_dims"]
    if k > len(shape):
        raise ShapeError(f"normalized_dims {k} is more than the {len(shape)} non-batch dimensions of {fmt(shape)}",
                         field="normalized_dims")
    return list(shape[-k:])


def _layer_norm(p, inputs):
    (shape,) = inputs
    normalized = _normalized(p, shape)
    per = prod(normalized)
    params = (per if p["elementwise_affine"] else 0) + (per if p["elementwise_affine"] and p["bias"] else 0)
    return Inferred((shape,), params, prod(shape) if params else 0, {"normalized_shape": normalized})


register(LayerType(
    name="LayerNorm", category="Normalisation", torch_class="LayerNorm",
    doc="Normalises each sample over its last dimension(s), as in Transformers.",
    params=(
        _NORMALIZED_DIMS,
        _EPS,
        Param("elementwise_affine", "bool", True, "learn a per-element scale"),
        Param("bias", "bool", True, "learn a per-element shift (with elementwise_affine)"),
    ),
    infer=_layer_norm, functions=("aten.layer_norm(input, normalized_shape, elementwise_affine, bias, eps, _)",),
    reader=lambda m: {"normalized_dims": len(m.normalized_shape), "eps": m.eps,
                      "elementwise_affine": m.elementwise_affine, "bias": getattr(m, "bias", None) is not None},
))


def _rms_norm(p, inputs):
    (shape,) = inputs
    normalized = _normalized(p, shape)
    params = prod(normalized) if p["elementwise_affine"] else 0
    return Inferred((shape,), params, prod(shape) if params else 0, {"normalized_shape": normalized})


# nn.RMSNorm came with torch 2.4: pyproject.toml sets that floor rather than guarding one layer type.
register(LayerType(
    name="RMSNorm", category="Normalisation", torch_class="RMSNorm",
    signature="normalized_shape, eps=None, elementwise_affine=True",
    doc="Divides each sample by the root mean square over its last dimension(s), no centring (LLaMA; torch >= 2.4).",
    params=(
        _NORMALIZED_DIMS,
        Param("eps", "float", None, "added for numerical stability (empty: the dtype's machine epsilon)",
              minimum=0.0, optional=True, advanced=True),
        Param("elementwise_affine", "bool", True, "learn a per-element scale"),
    ),
    infer=_rms_norm,
    reader=lambda m: {"normalized_dims": len(m.normalized_shape), "eps": m.eps,
                      "elementwise_affine": m.elementwise_affine},
))


def _local_response_norm(p, inputs):
    (shape,) = inputs
    require_rank(shape, (2, 3, 4), "channels first with 1 to 3 more dimensions (N, C, ...)")
    return Inferred((shape,))


register(LayerType(
    name="LocalResponseNorm", category="Normalisation", torch_class="LocalResponseNorm",
    signature="size, alpha=0.0001, beta=0.75, k=1.0",
    doc="Divides each value by the activity of `size` neighbouring channels, as in AlexNet.",
    params=(
        Param("size", "int", 5, "how many neighbouring channels to sum over", minimum=1),
        Param("alpha", "float", 1e-4, "multiplicative factor", minimum=0.0),
        Param("beta", "float", 0.75, "exponent"),
        Param("k", "float", 1.0, "additive factor"),
    ),
    infer=_local_response_norm,
))


def _group_norm(p, inputs):
    (shape,) = inputs
    require_rank(shape, (1, 2, 3, 4), "channels first (N, C, ...)")
    channels, groups = shape[0], p["num_groups"]
    if channels % groups:
        raise ShapeError(f"num_groups {groups} does not divide the {channels} channels", field="num_groups",
                         hint="choose a divisor of the channel count")
    params = 2 * channels if p["affine"] else 0
    return Inferred((shape,), params, channels * prod(shape[1:]) if params else 0, {"num_channels": channels})


register(LayerType(
    name="GroupNorm", category="Normalisation", torch_class="GroupNorm",
    signature="num_groups, num_channels, eps=1e-05, affine=True",
    doc="Normalises groups of channels of each sample; works with any batch size.",
    params=(
        Param("num_groups", "int", 8, "number of channel groups; must divide the channels", minimum=1),
        _EPS,
        Param("affine", "bool", True, "learn a per-channel scale and shift"),
    ),
    infer=_group_norm,
))
