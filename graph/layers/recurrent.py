"""Recurrent layers, batch-first. Port 0: the whole output sequence (N, L, D*H);
port 1: the last time step's top-layer hidden state (N, D*H), both directions concatenated."""
from __future__ import annotations

from graph.layers._rules import require_rank
from graph.params import Param
from graph.registry import Code, Inferred, LayerType, register

_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _recurrent_rule(name: str):
    gates = _GATES[name]

    def infer(p, inputs):
        (shape,) = inputs
        require_rank(shape, (2,), "sequences (N, L, features)")
        length, features = shape
        hidden, directions = p["hidden_size"], 2 if p["bidirectional"] else 1
        params = 0
        for layer in range(p["num_layers"]):
            fin = features if layer == 0 else hidden * directions
            per_direction = gates * hidden * (fin + hidden) + (2 * gates * hidden if p["bias"] else 0)
            params += per_direction * directions
        out = hidden * directions
        return Inferred(((length, out), (out,)), params, params * length, {"input_size": features})

    return infer


def _recurrent_params(name: str) -> tuple[Param, ...]:
    params = (
        Param("hidden_size", "int", 64, "features in the hidden state", minimum=1),
        Param("num_layers", "int", 1, "stacked recurrent layers", minimum=1, maximum=16),
    )
    if name == "RNN":
        params += (Param("nonlinearity", "choice", "tanh", "activation of the cell", choices=("tanh", "relu")),)
    return params + (
        Param("bias", "bool", True, "learn bias weights"),
        Param("dropout", "float", 0.0, "dropout between stacked layers", minimum=0.0, maximum=1.0),
        Param("bidirectional", "bool", False, "also read the sequence backwards"),
    )


def _recurrent_code(name: str) -> Code:
    """Port 0 is the output sequence; port 1 the top layer's last hidden state, taken from h_n
    (inside (h_n, c_n) for LSTM), both directions joined when bidirectional."""
    unpack = "{y}, ({h_n}, _)" if name == "LSTM" else "{y}, {h_n}"
    both = Code(unpack=unpack, outputs=("{y}", "torch.cat(({h_n}[-2], {h_n}[-1]), dim=1)"))
    return Code(unpack=unpack, outputs=("{y}", "{h_n}[-1]"), variants=(("bidirectional", both),))


for _name, _doc in (
    ("RNN", "Elman recurrent layer; prone to vanishing gradients on long sequences."),
    ("LSTM", "Long short-term memory: gated recurrence that keeps long-range information."),
    ("GRU", "Gated recurrent unit: a lighter LSTM."),
):
    register(LayerType(
        name=_name, category="Recurrent", torch_class=_name, doc=_doc,
        params=_recurrent_params(_name), outputs=("sequence", "last_hidden"),
        fixed_ctor=(("batch_first", True),), infer=_recurrent_rule(_name), code=_recurrent_code(_name),
        dropout="dropout",
        signature="input_size, hidden_size, num_layers=1, " + ("nonlinearity='tanh', " if _name == "RNN" else "")
                  + "bias=True, batch_first=False, dropout=0.0, bidirectional=False",
    ))
