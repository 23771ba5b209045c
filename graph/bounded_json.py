"""JSON from a file someone else wrote, read within bounds (DESIGN §8).

A design file is small, shallow text. Anything else (a multi-gigabyte file, /dev/zero, a
5,000-digit number, arrays nested thousands deep, text that is not valid Unicode) is refused
with a message *before* it can exhaust memory, the interpreter's digit limit or its stack, so
that every reader of user files (check, export, train, the window) reports instead of raising.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any

from graph.footprint import size_text

MAX_BYTES = 64 << 20   # a 10,000-node design is about 1 MiB
MAX_DIGITS = 1000      # far beyond any size or seed; Python refuses ints over 4,300 digits
MAX_DEPTH = 64         # a design nests about 6 deep; the JSON parser's own limit is the C stack

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # how JSON text writes one


class BoundsError(ValueError):
    """The text is beyond what a design can be; the message says which bound and where."""


def read_bytes(path: str | os.PathLike, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes, never more than `limit` read: a larger file (or an endless device) is refused."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise BoundsError(f"the file is {size_text(size)}, too large to be a design (at most {size_text(limit)})")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise BoundsError(f"the file goes on past {size_text(limit)}, too large to be a design")
    return data


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise BoundsError(f"a number with {digits:,} digits is too long (at most {MAX_DIGITS:,})")
    return int(text)


def loads(text: str) -> Any:
    """json.loads with the bounds above; json.JSONDecodeError still means malformed text."""
    try:
        value = json.loads(text, parse_int=_int)
    except RecursionError:
        raise BoundsError(f"the text is nested too deeply (at most {MAX_DEPTH} levels)") from None
    if not _plainly_fine(text, value):
        problem = problem_in(value)
        if problem:
            raise BoundsError(problem)
    return value


def _plainly_fine(text: str, value: Any) -> bool:
    """The common case, quickly: no lone surrogate in the text, neither as a character nor written
    as a JSON escape (a regex at C speed; an escaped backslash before "ud8.." only sends the text
    the slow way), and no container deeper than MAX_DEPTH. Only a document that fails this is
    walked by `problem_in`, which builds the paths its message names (a third of a 5,000-node load)."""
    if _SURROGATE.search(text) or _ESCAPED_SURROGATE.search(text):
        return False
    level: list[Any] = [value]
    for _ in range(MAX_DEPTH):
        level = [sub for item in level if isinstance(item, (dict, list))
                 for sub in (item.values() if isinstance(item, dict) else item)
                 if isinstance(sub, (dict, list))]
        if not level:
            return True
    return False


def _where(path: tuple) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "the document"


def problem_in(value: Any, max_depth: int | None = MAX_DEPTH) -> str | None:
    """What makes a parsed document unusable (deeper than `max_depth`, text that is not valid Unicode),
    naming where; None when it is fine. Walked with a stack, not recursion, so any depth is safe."""
    stack: list[tuple[Any, tuple, int]] = [(value, (), 0)]
    while stack:
        item, path, depth = stack.pop()
        if max_depth is not None and depth > max_depth:
            return f"{_where(path)}: nested more than {max_depth} levels deep"
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return f"{_where(path)}: {item!r} is not valid Unicode text (it holds a lone surrogate)"
        elif isinstance(item, dict):
            for key, sub in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"{_where(path)}: the key {key!r} is not valid Unicode text (it holds a lone surrogate)"
                stack.append((sub, path + (key,), depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((sub, path + (i,), depth + 1) for i, sub in enumerate(item))
    return None
