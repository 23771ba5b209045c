"""Node ids become Python attribute and variable names in generated code (DESIGN §3, §8).

This module is the one place that decides whether an id is usable and that makes fresh,
legal, unique ids from any candidate text (the torch.fx `_Namespace` idea).
"""
from __future__ import annotations

import keyword
import re

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Names that would shadow nn.Module members or the names generated code relies on.
RESERVED = frozenset(["T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook", "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook", "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook", "register_module", "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu", "zero_grad", "self", "torch", "nn", "F", "math", "build_model", "example_inputs", "batch_size", "super"])


def id_problem(candidate: object) -> str | None:
    """Why `candidate` cannot be a node id, or None when it can."""
    if not isinstance(candidate, str) or not candidate:
        return "a node id must be non-empty text"
    if not _IDENTIFIER.match(candidate):
        return (f"id {candidate!r} is not a Python identifier: use letters, digits and '_', "
                "not starting with a digit")
    if keyword.iskeyword(candidate) or keyword.issoftkeyword(candidate):
        return f"id {candidate!r} is a Python keyword"
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
