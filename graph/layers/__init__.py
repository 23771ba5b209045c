"""The catalogue: importing this package declares every layer type once."""
from graph.layers import activations, attention, conv, core, merge, norm, ops, padding, recurrent  # noqa: F401
