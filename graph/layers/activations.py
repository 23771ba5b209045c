"""Element-wise activations and the softmax family: the output shape is the input shape."""
from __future__ import annotations

from graph.layers._rules import dim_param, fmt, full_dim
from graph.params import Param
from graph.registry import Inferred, LayerType, ShapeError, register


def _same(p, inputs):
    return Inferred((inputs[0],))


def _activation(name: str, doc: str, *params: Param, rectifier: bool = False, function: str | None = None,
                tensor: bool = False, infer=_same, signature: str | None = None) -> None:
    """`function`: the name in torch.nn.functional taking the parameters after the input, in order;
    `tensor`: also torch.<function> and the Tensor method."""
    calls: tuple[str, ...] = ()
    if function:
        args = ", ".join(["input", *(p.name for p in params)])
        calls = (f"F.{function}({args})", f"aten.{function}({args})") + (
            (f"torch.{function}({args})", f".{function}({args})") if tensor else ())
    register(LayerType(name=name, category="Activation", torch_class=name, doc=doc, params=params, infer=infer,
                       rectifier=rectifier, functions=calls, signature=signature))


_activation("ReLU", "max(0, x): the default hidden activation.", rectifier=True, function="relu", tensor=True)
_activation("LeakyReLU", "x for x > 0, negative_slope * x otherwise.",
            Param("negative_slope", "float", 0.01, "slope for negative inputs", minimum=0.0), rectifier=True,
            function="leaky_relu")
_activation("ELU", "Exponential linear unit.", Param("alpha", "float", 1.0, "value for large negative inputs"),
            rectifier=True, function="elu")
_activation("GELU", "Gaussian error linear unit, as in Transformers.",
            Param("approximate", "choice", "none", "'tanh' uses the faster approximation", choices=("none", "tanh")),
            rectifier=True, function="gelu")
_activation("SiLU", "x * sigmoid(x), also called swish.", rectifier=True, function="silu")
_activation("Mish", "x * tanh(softplus(x)).", rectifier=True, function="mish")
_activation("Sigmoid", "1 / (1 + exp(-x)): squashes to (0, 1).", function="sigmoid", tensor=True)
_activation("Tanh", "Hyperbolic tangent: squashes to (-1, 1).", function="tanh", tensor=True)
_activation("Softplus", "log(1 + exp(beta * x)) / beta: a smooth ReLU.",
            Param("beta", "float", 1.0, "sharpness", minimum=1e-6),
            Param("threshold", "float", 20.0, "above beta * x > threshold the layer is linear", minimum=0.0),
            function="softplus")
_activation("ReLU6", "min(max(0, x), 6): a ReLU capped at 6, as in MobileNet.", rectifier=True, function="relu6")


def _hardtanh(p, inputs):
    if p["max_val"] <= p["min_val"]:
        raise ShapeError(f"max_val {p['max_val']:g} must be greater than min_val {p['min_val']:g}", field="max_val",
                         hint="raise max_val above min_val")
    return _same(p, inputs)


_activation("Hardtanh", "x clipped to [min_val, max_val]: a piecewise-linear tanh.",
            Param("min_val", "float", -1.0, "lower end of the linear region"),
            Param("max_val", "float", 1.0, "upper end of the linear region; above min_val"),
            function="hardtanh", infer=_hardtanh)
_activation("SELU", "Scaled ELU: self-normalising networks (pair it with AlphaDropout).", rectifier=True,
            function="selu")


_activation("CELU", "Continuously differentiable ELU: max(0, x) + min(0, alpha (exp(x / alpha) - 1)).",
            Param("alpha", "float", 1.0, "value for large negative inputs (CELU divides by it)", minimum=1e-3),
            rectifier=True, function="celu")
_activation("Hardswish", "x * relu6(x + 3) / 6: a cheap swish, as in MobileNetV3.", rectifier=True,
            function="hardswish")
_activation("Hardsigmoid", "relu6(x + 3) / 6: a cheap, piecewise-linear sigmoid.", function="hardsigmoid")
_activation("LogSigmoid", "log(sigmoid(x)), computed stably.", function="logsigmoid")
_activation("Softsign", "x / (1 + |x|): squashes to (-1, 1) more gently than tanh.", function="softsign")
_activation("Tanhshrink", "x - tanh(x).", function="tanhshrink")
_activation("Threshold", "x where x > threshold, value elsewhere.",
            Param("threshold", "float", 0.0, "inputs at or below it are replaced"),
            Param("value", "float", 0.0, "what replaces them"), rectifier=True, function="threshold",
            signature="threshold, value, inplace=False")


def _prelu(p, inputs):
    (shape,) = inputs
    n = p["num_parameters"]
    if n != 1 and (not shape or shape[0] != n):
        channels = shape[0] if shape else "none"
        raise ShapeError(f"num_parameters {n} must be 1 or the number of channels ({channels}) of {fmt(shape)}",
                         field="num_parameters", hint="use 1 (shared) or the channel count")
    return Inferred((shape,), n, 0)


register(LayerType(
    name="PReLU", category="Activation", torch_class="PReLU",
    doc="Leaky ReLU whose negative slope is learned.",
    params=(
        Param("num_parameters", "int", 1, "1 for one shared slope, or the channel count", minimum=1),
        Param("init", "float", 0.25, "initial slope"),
    ),
    infer=_prelu, rectifier=True,
))


def _softmax(p, inputs):
    full_dim(p["dim"], inputs[0], "dim")
    return Inferred((inputs[0],))


def _glu(p, inputs):
    (shape,) = inputs
    i = full_dim(p["dim"], shape, "dim")
    if shape[i] % 2:
        raise ShapeError(f"GLU halves dim {p['dim']}, whose size {shape[i]} is odd", field="dim",
                         hint="choose a dimension of even size, or make it even upstream")
    return Inferred((shape[:i] + (shape[i] // 2,) + shape[i + 1:],))


_activation("GLU", "Gated linear unit: splits `dim` in halves a, b and gives a * sigmoid(b) (half the size).",
            dim_param(-1, "dimension to split in halves"), function="glu", infer=_glu)


for _name, _doc in (("Softmax", "Normalises to probabilities along `dim`."),
                    ("LogSoftmax", "log(softmax(x)) along `dim`; pair it with the nll loss.")):
    _function = _name.lower().replace("logsoftmax", "log_softmax")
    register(LayerType(name=_name, category="Activation", torch_class=_name, doc=_doc, signature="dim=None",
                       params=(dim_param(-1, "dimension that sums to one"),), infer=_softmax,
                       functions=tuple(f"{prefix}{_function}(input, dim)" for prefix in ("F.", "torch.", ".", "aten."))))
