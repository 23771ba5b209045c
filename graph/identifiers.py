"""Node ids become Python attribute and variable names in generated code (DESIGN §3, §8).

This module is the one place that decides whether an id is usable and that makes fresh,
legal, unique ids from any candidate text (the torch.fx `_Namespace` idea).
"""
from __future__ import annotations

import keyword
import re

from graph.module_names import NN_MODULE_NAMES

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Names the generated code itself relies on (DESIGN §5), beside every name nn.Module defines or sets
# on an instance (generated from torch by tools/gen_module_names.py): an id becomes an attribute.
CODE_NAMES = frozenset(["self", "torch", "nn", "F", "math", "build_model", "example_inputs", "batch_size", "super"])
RESERVED = NN_MODULE_NAMES | CODE_NAMES


def id_problem(candidate: object) -> str | None:
    """Why `candidate` cannot be a node id, or None when it can."""
    if not isinstance(candidate, str) or not candidate:
        return "a node id must be non-empty text"
    if not _IDENTIFIER.match(candidate):
        return (f"id {candidate!r} is not a Python identifier: use letters, digits and '_', "
                "not starting with a digit")
    if keyword.iskeyword(candidate) or keyword.issoftkeyword(candidate):
        return f"id {candidate!r} is a Python keyword"
    if candidate in NN_MODULE_NAMES:
        return f"id {candidate!r} is reserved: torch's nn.Module uses that name (the layer would replace it)"
    if candidate in RESERVED or candidate.startswith("__"):
        return f"id {candidate!r} is reserved (it would clash with a name in the generated code)"
    return None


def sanitize(text: str) -> str:
    """Turn any text into a legal identifier stem: 'Conv2d' -> 'conv2d', 'fc-1 x' -> 'fc_1_x'."""
    stem = re.sub(r"[^0-9a-zA-Z_]+", "_", text).strip("_").lower() or "node"
    if stem[0].isdigit():
        stem = "n" + stem
    if id_problem(stem):
        stem += "_"
    return stem


def fresh_id(candidate: str, taken: set[str] | frozenset[str]) -> str:
    """A legal id not in `taken`: the sanitized candidate itself or with the lowest free number."""
    stem = sanitize(candidate)
    if stem not in taken and not id_problem(stem):
        return stem
    base = re.sub(r"\d+\Z", "", stem) or stem
    number = 1
    while f"{base}{number}" in taken or id_problem(f"{base}{number}"):
        number += 1
    return f"{base}{number}"
