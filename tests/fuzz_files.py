"""Hostile project files for the fuzz tests: random mutations of valid designs, at the level of
the JSON document (types, sizes, unicode, missing and extra keys, NaN) and of the text itself
(numbers too long for Python's int, nesting deeper than its stack, text that is not Unicode).

Shared by tests/test_fuzz_files.py (load, check, export) and tests/app/test_fuzz_open.py (the
window), so both meet the same files."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import resource

from hypothesis import strategies as st

import main
from tests.test_check_cli import SOURCES, _parent, _paths, mutate

HOSTILE_TEXT = ["\ud800", "\udcff", "a\x00b", "\u202eevil", "\x1b[31mred", "名前", "🌀" * 40, "x" * 5000,
                "__class__", "_modules", "_apply", "forward", "training", "self", "class", "ℌ"]
HOSTILE_NUMBERS = [0, -1, 2 ** 31, 10 ** 12, 10 ** 40, 1e308, -1e308, 1e-320, float("nan"), float("inf"),
                   float("-inf"), True, 3.5]
MARK = "@@FUZZ@@"


def _values():
    return (st.sampled_from(HOSTILE_TEXT) | st.sampled_from(HOSTILE_NUMBERS) | st.text(max_size=8)
            | st.just([]) | st.just({}) | st.none() | st.lists(st.sampled_from(HOSTILE_NUMBERS), max_size=5))


def hostile_document(data) -> str:
    """The text of a mutated design: `mutate`'s graph edits, then hostile values and keys, then
    perhaps one text-level change JSON values cannot express."""
    source = data.draw(st.sampled_from(SOURCES), label="source")
    doc = mutate(data, source) if data.draw(st.booleans(), label="graph edits") else copy.deepcopy(source)
    for _ in range(data.draw(st.integers(0, 3), label="hostile edits")):
        paths = [p for p in _paths(doc) if p[0] not in ("format", "version")]  # else little gets past load
        kind = data.draw(st.sampled_from(["value", "key", "drop"]), label="hostile kind")
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="where")
        parent, key = _parent(doc, path), path[-1]
        if kind == "value":
            parent[key] = data.draw(_values(), label="value")
        elif kind == "key" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(HOSTILE_TEXT), label="key")] = data.draw(_values(), label="value")
        elif kind == "drop":
            del parent[key]
    text = json.dumps(doc)
    splice = data.draw(st.sampled_from([None, "digits", "nesting", "bytes"]), label="text edit")
    if splice is None or '"' not in text:
        return text
    at = data.draw(st.sampled_from([i for i, c in enumerate(text) if c == ":"] or [0]), label="at")
    if splice == "digits":
        return text[:at + 1] + " " + "9" * data.draw(st.sampled_from([400, 4301, 20_000])) + ", " + json.dumps(
            MARK) + text[at:]
    if splice == "nesting":
        depth = data.draw(st.sampled_from([70, 2_000, 200_000]), label="depth")
        return text[:at + 1] + " " + "[" * depth + "]" * depth + ", " + json.dumps(MARK) + text[at:]
    return text[:at] + "\udcff" + text[at:]   # written with surrogateescape: the byte 0xff, not UTF-8


def write(path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def memory_cap(extra: int = 3 << 30):
    """At most `extra` more bytes of address space than now: a file that tries to allocate beyond that
    fails inside the test (MemoryError, a refused allocation) instead of taking the machine."""
    try:
        with open("/proc/self/statm") as handle:
            used = int(handle.read().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux: no cap, the other bounds still hold
        yield
        return
    before = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, before[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, before)
