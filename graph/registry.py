"""The one registry of layer types (DESIGN §2).

Every layer type is a frozen `LayerType` declared once, in `graph/layers/`. The palette,
the property editor, shape inference, validation, the code generator and the docs read
that declaration; nothing else in the project lists layer types.

Shapes here never include the batch dimension: `(1, 28, 28)` means tensors `(N, 1, 28, 28)`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph.params import Param, ParamError

Shape = tuple[int, ...]

CATEGORIES = (
    "Input/Output",
    "Core",
    "Activation",
    "Convolution",
    "Pooling",
    "Normalisation",
    "Recurrent",
    "Attention",
    "Merge/Split",
)

# How a type treats element types: "float" takes and gives float tensors, "int" takes
# int64 token ids and gives floats (Embedding), "same" passes its input's dtype through.
DTYPE_RULES = ("float", "int", "same")


class ShapeError(ValueError):
    """Raised by a shape rule when its inputs or parameters cannot work together.

    `field` names the parameter at fault when there is one; `hint` says what would fix it.
    """

    def __init__(self, message: str, field: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint


@dataclass(frozen=True)
class Inferred:
    """What a shape rule found for one node.

    outputs: one shape per output port.
    params:  trainable parameter count, equal to torch's `sum(p.numel())`.
    macs:    multiply-accumulates for one sample (see docs/shapes.md for the convention).
    derived: constructor sizes that follow from the inputs (`in_features`, ...); codegen
             passes them to the torch constructor along with the user's parameters.
    """

    outputs: tuple[Shape, ...]
    params: int = 0
    macs: int = 0
    derived: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Code:
    """How the code generator writes a node whose forward line is not `self.<id>(x)`.

    Templates are `str.format` strings over these fields:
      {m}      the node's submodule, `self.<id>`;
      {x}      the first input; {x0}, {x1}, ... each input;
      {xs}     all inputs joined by ', ' ({xs: + } joins them by ' + ');
      {y}      the node's own variable (named by its id); other names in `unpack` are
               the node's further variables;
      {i}      the output port number (in an `outputs` template shared by all ports);
      {out}    the inferred output shape without the batch, {out:*} spread as 'a, b, c';
      {<param>} a parameter as a Python literal, {<param>:*} a list parameter spread.

    role:     "layer"; "input" (a forward() argument) or "output" (returned by forward()).
    call:     the expression computed once per node; default "{m}({xs})".
    unpack:   assignment target for the call's result, e.g. "{y}, ({h_n}, _)"; default "{y}".
    outputs:  one expression per output port over the unpacked names, or a single template
              using {i} for every port; default "{y}".
    variants: (bool parameter, Code used instead when that parameter is true).
    unused:   (output port, call used instead when nothing reads that port), e.g. attention
              without its weights: "{m}({xs}, need_weights=False)".
    module:   a class defined in the generated file (types without a torch_class);
    helper:   that class's source, written once into the file.
    """

    role: str = "layer"
    call: str = "{m}({xs})"
    unpack: str = "{y}"
    outputs: tuple[str, ...] = ("{y}",)
    variants: tuple[tuple[str, Code], ...] = ()
    unused: tuple[tuple[int, str], ...] = ()
    module: str | None = None
    helper: str = ""

    def for_values(self, values: dict[str, Any]) -> Code:
        """The spec that applies to a node with these parameter values."""
        for param, variant in self.variants:
            if values.get(param):
                return variant
        return self


@dataclass(frozen=True)
class Masks:
    """The attention masks a layer's forward() takes, by keyword (DESIGN §2: torch's boolean is_causal).

    causal:  (mask keyword, flag keyword), passed when the node's `is_causal` is true; torch wants
             the square mask itself beside the flag, which is only a hint that the mask is causal.
    padding: the key-padding keyword, passed when a token Input with a `padding_id` feeds the node
             (graph.masks.padding_sources).
    keys:    the input port whose sequence the padding mask covers (MultiheadAttention's key).
    """

    causal: tuple[str, str] = ("attn_mask", "is_causal")
    padding: str = "key_padding_mask"
    keys: int = 0


Params = dict[str, Any]
InferFn = Callable[[Params, list[Shape]], Inferred]
PortsFn = Callable[[Params], tuple[str, ...]]


@dataclass(frozen=True)
class LayerType:
    """The declaration of one layer type.

    name:        the torch.nn class name where one exists (`Linear`, `Conv2d`).
    category:    palette group, one of CATEGORIES.
    doc:         one line shown in the palette and the docs.
    params:      user-settable parameters, in torch constructor order.
    inputs:      input port names, or a function of the params (variadic `Add`).
    outputs:     output port names, or a function of the params (`Chunk`).
    infer:       pure shape rule: (params with defaults filled, input shapes) -> Inferred.
    torch_class: the `torch.nn` class the node becomes, or None for LayerLoom types that
                 codegen writes by hand (Reshape, Add, PositionalEncoding, ...).
    fixed_ctor:  constructor arguments LayerLoom always passes (`batch_first=True`).
    signature:   torch_class's constructor arguments as torch declares them, in its order and
                 with its defaults (`"in_features, out_features, bias=True"`; device and dtype
                 left out), where they are not just the derived sizes followed by `params` with
                 the declared defaults. Codegen reads the order, the required arguments and
                 torch's defaults from here, so writing code needs no torch
                 (tests/engine/test_codegen_signatures.py holds it to torch).
    dtype:       see DTYPE_RULES.
    code:        how codegen writes the node when it is not `self.<id>(x)` (see `Code`).
    rectifier:   a ReLU-like activation, whose units can die (give <= 0 for every sample): the
                 live plots show its dead fraction rather than its spread.
    size_param:  the parameter that sets the size of the output's feature or channel dimension
                 (Linear's `out_features`, Conv2d's `out_channels`): a data mismatch names it.
    functions:   the torch calls the importer (engine/importer) reads as this type, each written as
                 a call over argument names: `"F.leaky_relu(input, negative_slope)"`, `".flatten(input,
                 start_dim, end_dim)"` (a Tensor method), `"torch.cat([inputs], dim)"` (a list of inputs
                 on the numbered ports), `"aten.conv2d(input, weight(out_channels, _, *kernel_size), ...)"`
                 (an ATen operation of a torch.export program, whose `weight(...)` names the parameters
                 its tensor's shape gives). A name that is a parameter takes the argument's value (a bool
                 parameter given a tensor or None: whether there is one, as `bias`), one that is an input
                 port (or `input`, `inputs`) a tensor; `_` ignores an argument.
    reader:      how the importer reads the parameters from a built `torch_class` module where they
                 are not attributes of the same name (a function of the module; graph/ needs no torch
                 for it): LayerNorm's `normalized_dims` is `len(module.normalized_shape)`.
    dropout:     the parameter holding the probability of the dropout the layer draws while training
                 (`"p"`, `"dropout"`). A node with it above 0 is stochastic, and its module differs
                 between training and eval mode in nothing else: MC-dropout prediction
                 (engine/inference) puts just these modules in training mode.
    attention:   where the layer's attention weights come from: the paths, inside the node's module,
                 of its `nn.MultiheadAttention` submodules (`""` the module itself, `"self_attn"`);
                 prediction asks each for its weights per head.
    masks:       the attention masks its forward() takes (see `Masks`); codegen writes them from the
                 node's `is_causal` and its token Input's `padding_id`.
    """

    name: str
    category: str
    doc: str
    infer: InferFn
    params: tuple[Param, ...] = ()
    inputs: tuple[str, ...] | PortsFn = ("input",)
    outputs: tuple[str, ...] | PortsFn = ("output",)
    torch_class: str | None = None
    fixed_ctor: tuple[tuple[str, Any], ...] = ()
    signature: str | None = None
    dtype: str = "float"
    code: Code | None = None
    rectifier: bool = False
    size_param: str | None = None
    functions: tuple[str, ...] = ()
    reader: Callable[[Any], Params] | None = None
    dropout: str | None = None
    attention: tuple[str, ...] = ()
    masks: Masks | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.name}: unknown category {self.category!r}")
        if self.dtype not in DTYPE_RULES:
            raise ValueError(f"{self.name}: unknown dtype rule {self.dtype!r}")
        if self.size_param is not None and self.param(self.size_param) is None:
            raise ValueError(f"{self.name}: size_param {self.size_param!r} is not one of its parameters")
        if self.dropout is not None and self.param(self.dropout) is None:
            raise ValueError(f"{self.name}: dropout {self.dropout!r} is not one of its parameters")
        if self.masks is not None and self.param("is_causal") is None:
            raise ValueError(f"{self.name}: masks need an is_causal parameter")

    @property
    def role(self) -> str:
        """"input" (a model input), "output" (a model output) or "layer": see `Code.role`."""
        return self.code.role if self.code is not None else "layer"

    # -- parameters -------------------------------------------------------------------
    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def defaults(self) -> Params:
        return {p.name: p.default for p in self.params}

    def resolve(self, given: Params) -> tuple[Params, list[tuple[str, str]]]:
        """Fill defaults and check every given value.

        Returns the complete params and a list of (field, message) problems; a bad value
        falls back to its default so that inference can still go on.
        """
        values = self.defaults()
        problems: list[tuple[str, str]] = []
        for key, value in given.items():
            spec = self.param(key)
            if spec is None:
                known = ", ".join(p.name for p in self.params) or "none"
                problems.append((key, f"unknown parameter {key!r} for {self.name} (parameters: {known})"))
                continue
            try:
                values[key] = spec.check(value)
            except ParamError as exc:
                problems.append((key, str(exc)))
        return values, problems

    def non_default(self, values: Params) -> Params:
        """The subset of `values` that differs from the declared defaults (what files store)."""
        out = {}
        for p in self.params:
            if p.name in values and values[p.name] != p.default:
                out[p.name] = values[p.name]
        return out

    # -- ports ------------------------------------------------------------------------
    def input_ports(self, values: Params) -> tuple[str, ...]:
        return self.inputs(values) if callable(self.inputs) else self.inputs

    def output_ports(self, values: Params) -> tuple[str, ...]:
        return self.outputs(values) if callable(self.outputs) else self.outputs


_REGISTRY: dict[str, LayerType] = {}


def register(layer: LayerType) -> LayerType:
    """Add a declaration; each type name may be declared only once."""
    if layer.name in _REGISTRY:
        raise ValueError(f"layer type {layer.name!r} is declared twice")
    _REGISTRY[layer.name] = layer
    return layer


_loaded = False


def _load_catalogue() -> None:
    # Importing the package runs every declaration module once. The flag skips the import
    # statement afterwards: with PySide6 loaded, every `import` goes through shiboken's import
    # hook, which made this the biggest cost of `analyse` in the designer.
    global _loaded
    if not _loaded:
        import graph.layers  # noqa: F401

        _loaded = True


def get(name: str) -> LayerType | None:
    _load_catalogue()
    return _REGISTRY.get(name)


def all_types() -> list[LayerType]:
    """Every declared type, grouped by category in palette order, then by declaration order."""
    _load_catalogue()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(_REGISTRY.values(), key=lambda t: order[t.category])


def numbered_ports(prefix: str, count_param: str) -> PortsFn:
    """Ports `prefix0..prefixN-1` whose count is a parameter (variadic merges, Chunk)."""

    def ports(values: Params) -> tuple[str, ...]:
        count = values.get(count_param)
        count = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1
        return tuple(f"{prefix}{i}" for i in range(count))

    return ports
