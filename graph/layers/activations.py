"""Element-wise activations and the softmax family: the output shape is the input shape."""
from __future__ import annotations

from graph.layers._rules import dim_param, fmt, full_dim
from graph.params import Param
from graph.registry import Inferred, LayerType, ShapeError, register


def _same(p, inputs):
    return Inferred((inputs[0],))


def _activation(name: str, doc: str, *params: Param, rectifier: bool = False, function: str | None = None,
                tensor: bool = False) -> None:
    """`function`: the name in torch.nn.functional taking the parameters after the input, in order;
    `tensor`: also torch.<function> and the Tensor method."""
    calls: tuple[str, ...] = ()
    if function:
        args = ", ".join(["input", *(p.name for p in params)])
        calls = (f"F.{function}({args})",) + ((f"torch.{function}({args})", f".{function}({args})") if tensor else ())
    register(LayerType(name=name, category="Activation", torch_class=name, doc=doc, params=params, infer=_same,
                       rectifier=rectifier, functions=calls))


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


for _name, _doc in (("Softmax", "Normalises to probabilities along `dim`."),
                    ("LogSoftmax", "log(softmax(x)) along `dim`; pair it with the nll loss.")):
    _function = _name.lower().replace("logsoftmax", "log_softmax")
    register(LayerType(name=_name, category="Activation", torch_class=_name, doc=_doc, signature="dim=None",
                       params=(dim_param(-1, "dimension that sums to one"),), infer=_softmax,
                       functions=tuple(f"{prefix}{_function}(input, dim)" for prefix in ("F.", "torch.", "."))))
