"""What every case module shares: the Case a strategy draws, the shape helpers, and the CASES and POLICY
tables the `case` decorator fills."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

BATCH = 3

sizes = st.integers(1, 6)
probabilities = st.floats(0.0, 1.0)
finite = st.floats(-3.0, 3.0)



@dataclass
class Case:
    params: dict            # user parameters, as a file would hold them
    shapes: list[tuple]     # input shapes without the batch dimension
    int_input: bool = False  # token ids (Embedding)


def shape(min_rank: int = 1, max_rank: int = 3, dims=sizes):
    return st.lists(dims, min_size=min_rank, max_size=max_rank).map(tuple)


def torch_dim(dim: int, rank_without_batch: int) -> int | None:
    """A torch dim index normalised to 0..rank (0 = batch), or None when out of range."""
    rank = rank_without_batch + 1
    return dim % rank if -rank <= dim < rank else None


def draw_dim(draw, s, extra: int = 0):
    """A dim for shape `s` (batch excluded), sometimes out of range."""
    return draw(st.integers(-len(s) - 2 - extra, len(s) + 1 + extra))


def is_batch(dim: int, rank_without_batch: int) -> bool:
    return torch_dim(dim, rank_without_batch) == 0


# ---------------------------------------------------------------------------------------------
# Strategies: one per type. `POLICY[name](values, shapes)` is True where LayerLoom refuses on
# purpose something torch would run (it would mix up the batch dimension, or give ports that
# vary with the data).
# ---------------------------------------------------------------------------------------------
CASES: dict[str, st.SearchStrategy[Case]] = {}
POLICY: dict[str, Callable[[dict, list[tuple]], bool]] = {}


def case(*names: str, policy: Callable[[dict, list[tuple]], bool] | None = None):
    """Register `fn` (a strategy factory, taking the type name if it has a parameter) for `names`."""
    def register(fn):
        for name in names:
            CASES[name] = fn(name) if inspect.signature(fn).parameters else fn()
            if policy is not None:
                POLICY[name] = policy
        return fn
    return register


