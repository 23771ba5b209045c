"""Attention and Transformer layers, batch-first: sequences are (N, L, E)."""
from __future__ import annotations

from graph.layers._rules import fmt, probability, require_rank
from graph.params import Param
from graph.registry import Code, Inferred, LayerType, Masks, ShapeError, register


def _sequence(shape, port: str):
    require_rank(shape, (2,), f"a sequence (N, L, E) on '{port}'")
    return shape


def _check_heads(embed: int, heads: int, field: str) -> None:
    if embed % heads:
        raise ShapeError(f"{field} {heads} does not divide the embedding size {embed}", field=field,
                         hint=f"choose a divisor of {embed}, e.g. {max(h for h in range(1, 9) if embed % h == 0)}")


def _causal(p, length: int, source: int, port: str) -> None:
    """A causal mask is square: position i sees keys 0..i of the same sequence."""
    if p["is_causal"] and length != source:
        raise ShapeError(f"is_causal needs {port} as long as the query ({source} against {length} positions)",
                         field="is_causal", hint="use causal masking for self-attention, or turn is_causal off")


def _causal_param(what: str) -> Param:
    return Param("is_causal", "bool", False, f"causal mask: each position attends only to itself and earlier "
                 f"positions{what} (for language models)", ctor=False)


def _attention_params(embed: int, kdim: int, vdim: int, bias: bool) -> int:
    projections = embed * embed * 3 if kdim == vdim == embed else embed * (embed + kdim + vdim)
    return projections + embed * embed + (4 * embed if bias else 0)


def _mha(p, inputs):
    query, key, value = (_sequence(s, port) for s, port in zip(inputs, ("query", "key", "value")))
    (length, embed), (source, kdim), (vlength, vdim) = query, key, value
    if source != vlength:
        raise ShapeError(f"key {fmt(key)} and value {fmt(value)} have different lengths",
                         hint="key and value must have the same sequence length")
    _check_heads(embed, p["num_heads"], "num_heads")
    _causal(p, length, source, "the key")
    params = _attention_params(embed, kdim, vdim, p["bias"])
    macs = length * embed * embed * 2 + source * embed * (kdim + vdim) + 2 * length * source * embed
    derived = {"embed_dim": embed}
    if (kdim, vdim) != (embed, embed):
        derived.update(kdim=kdim, vdim=vdim)
    return Inferred(((length, embed), (length, source)), params, macs, derived)


register(LayerType(
    name="MultiheadAttention", category="Attention", torch_class="MultiheadAttention",
    doc="Scaled dot-product attention over several heads; port 1 gives the head-averaged weights.",
    params=(
        Param("num_heads", "int", 4, "parallel attention heads; must divide the embedding size", minimum=1),
        probability("dropout", 0.0, "dropout on the attention weights"),
        Param("bias", "bool", True, "learn biases in the projections"),
        _causal_param(""),
    ),
    inputs=("query", "key", "value"), outputs=("output", "weights"),
    fixed_ctor=(("batch_first", True),), infer=_mha, reader=lambda m: {"bias": m.in_proj_bias is not None},
    signature="embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False, kdim=None, "
              "vdim=None, batch_first=False",
    code=Code(call="{m}({xs}{masks})", unpack="{y}, {weights}", outputs=("{y}", "{weights}"),
              unused=((1, "{m}({xs}, need_weights=False{masks})"),)),
    dropout="dropout", attention=("",), masks=Masks(keys=1),
))


def _feed_forward(embed: int, ff: int, bias: bool) -> int:
    return 2 * embed * ff + ((ff + embed) if bias else 0)


def _norms(embed: int, count: int, bias: bool) -> int:
    return count * embed * (2 if bias else 1)


def _encoder(p, inputs):
    length, embed = _sequence(inputs[0], "src")
    _check_heads(embed, p["nhead"], "nhead")
    ff, bias = p["dim_feedforward"], p["bias"]
    params = _attention_params(embed, embed, embed, bias) + _feed_forward(embed, ff, bias) + _norms(embed, 2, bias)
    macs = length * (4 * embed * embed + 2 * length * embed + 2 * embed * ff)
    return Inferred(((length, embed),), params, macs, {"d_model": embed})


def _decoder(p, inputs):
    length, embed = _sequence(inputs[0], "tgt")
    source, memory_embed = _sequence(inputs[1], "memory")
    if memory_embed != embed:
        raise ShapeError(f"memory {fmt(inputs[1])} must have the target's embedding size {embed}",
                         hint="project the memory to d_model first")
    _check_heads(embed, p["nhead"], "nhead")
    ff, bias = p["dim_feedforward"], p["bias"]
    params = (2 * _attention_params(embed, embed, embed, bias) + _feed_forward(embed, ff, bias)
              + _norms(embed, 3, bias))
    macs = (length * (4 * embed * embed + 2 * length * embed + 2 * embed * ff)
            + 2 * length * embed * embed + 2 * source * embed * embed + 2 * length * source * embed)
    return Inferred(((length, embed),), params, macs, {"d_model": embed})


_TRANSFORMER_SIGNATURE = ("d_model, nhead, dim_feedforward=2048, dropout=0.1, activation='relu', layer_norm_eps=1e-05, "
                          "batch_first=False, norm_first=False, bias=True")


def _transformer_params(causal: str) -> tuple[Param, ...]:
    return (
        Param("nhead", "int", 4, "attention heads; must divide d_model", minimum=1),
        Param("dim_feedforward", "int", 2048, "width of the feed-forward block", minimum=1),
        probability("dropout", 0.1, "dropout inside the layer"),
        Param("activation", "choice", "relu", "feed-forward activation", choices=("relu", "gelu")),
        Param("layer_norm_eps", "float", 1e-5, "LayerNorm epsilon", minimum=0.0, advanced=True),
        Param("norm_first", "bool", False, "pre-norm (more stable for deep stacks)"),
        Param("bias", "bool", True, "learn biases in linear and norm layers", advanced=True),
        _causal_param(causal),
    )


def _read_transformer(m) -> dict:
    """A Transformer layer's settings, from the submodules torch builds (it keeps few of its arguments)."""
    gelu = getattr(m, "activation_relu_or_gelu", 1) == 2
    return {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features, "dropout": m.dropout.p,
            "activation": "gelu" if gelu else "relu", "layer_norm_eps": m.norm1.eps, "norm_first": m.norm_first,
            "bias": m.linear1.bias is not None, "batch_first": m.self_attn.batch_first}


_MASKED = Code(call="{m}({xs}{masks})")

register(LayerType(
    name="TransformerEncoderLayer", category="Attention", torch_class="TransformerEncoderLayer",
    doc="Self-attention plus a feed-forward block, each with a residual connection and LayerNorm.",
    params=_transformer_params(""), inputs=("src",),
    fixed_ctor=(("batch_first", True),), infer=_encoder, signature=_TRANSFORMER_SIGNATURE, reader=_read_transformer,
    dropout="dropout", attention=("self_attn",), code=_MASKED,
    masks=Masks(causal=("src_mask", "is_causal"), padding="src_key_padding_mask"),
))

register(LayerType(
    name="TransformerDecoderLayer", category="Attention", torch_class="TransformerDecoderLayer",
    doc="Self-attention, attention over the encoder memory, and a feed-forward block.",
    params=_transformer_params(" of the target (the memory stays fully visible)"), inputs=("tgt", "memory"),
    fixed_ctor=(("batch_first", True),), infer=_decoder, signature=_TRANSFORMER_SIGNATURE, reader=_read_transformer,
    dropout="dropout", attention=("self_attn", "multihead_attn"), code=_MASKED,
    masks=Masks(causal=("tgt_mask", "tgt_is_causal"), padding="tgt_key_padding_mask"),
))


def _positional(p, inputs):
    length, embed = _sequence(inputs[0], "input")
    if embed % 2:
        raise ShapeError(f"sinusoidal encoding needs an even embedding size, got {embed}",
                         hint="make the embedding size even")
    if length > p["max_len"]:
        raise ShapeError(f"sequence length {length} exceeds max_len {p['max_len']}", field="max_len",
                         hint=f"set max_len to at least {length}")
    return Inferred(((length, embed),), 0, 0, {"d_model": embed})


_POSITIONAL_ENCODING = '''
class PositionalEncoding(nn.Module):
    """Adds fixed sinusoidal position signals to a batch-first sequence (N, L, E)."""

    def __init__(self, d_model, max_len=5000, dropout=0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])
'''

register(LayerType(
    name="PositionalEncoding", category="Attention",
    doc="Adds fixed sinusoidal position signals to a sequence (N, L, E), as in 'Attention Is All You Need'.",
    params=(
        Param("max_len", "int", 5000, "longest sequence supported", minimum=1),
        probability("dropout", 0.1, "dropout after adding the encoding"),
    ),
    infer=_positional, code=Code(module="PositionalEncoding", helper=_POSITIONAL_ENCODING), dropout="dropout",
))
