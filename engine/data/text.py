"""The `text` data set: characters of a text cut into next-character examples, for language models.

The text is the user's .txt file (`path`) or, with no path, CPython's own documentation topics
(`pydoc_data.topics`, about 465 KB of English that ships with Python: nothing to download). The
vocabulary is the text's distinct characters in code-point order; it travels as the data set's
classes (the run's data info), so that prediction turns ids back into characters, and the usual
check holds it against the Embedding's num_embeddings. The last tenth of the text is the
validation set, so no validation window overlaps a training one.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.data.registry import Context, DataError, DatasetType, Raw, register
from graph.params import Param

VALIDATION_SHARE = 0.1


def bundled_text() -> str:
    """CPython's pydoc topics, in a fixed (sorted) order."""
    from pydoc_data.topics import topics

    return "".join(topics[key] for key in sorted(topics))


def _read(options: dict[str, Any], ctx: Context) -> str:
    if not options["path"]:
        return bundled_text()
    path = ctx.path(options["path"])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"data.path: {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except OSError as exc:
        raise DataError(f"data.path: {path} cannot be read ({exc.strerror or exc})") from None


def windows(ids: np.ndarray, context: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ids[i:i+context] and targets ids[i+1:i+context+1] for i = 0, stride, 2*stride, ..."""
    starts = np.arange(0, len(ids) - context, stride)
    index = starts[:, None] + np.arange(context)[None, :]
    return ids[index], ids[index + 1]


def _text(options: dict[str, Any], ctx: Context) -> Raw:
    text = _read(options, ctx)
    if options["characters"]:
        text = text[: options["characters"]]
    context, stride = options["context"], options["stride"] or options["context"]
    vocabulary = sorted(set(text))
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    ids = np.searchsorted(np.array([ord(c) for c in vocabulary], dtype=np.uint32), codes).astype(np.int64)
    split = int(len(ids) * (1 - VALIDATION_SHARE))
    if split - context < 1 or len(ids) - split - context < 1:
        need = int((context + 1) / VALIDATION_SHARE) + 1
        raise DataError(f"data.context: the text has {len(text):,} characters, too few for examples of "
                        f"{context} characters in both the training and the validation part (the last "
                        f"{VALIDATION_SHARE:.0%}): use a longer text (at least {need:,} characters) or a shorter context")
    x, y = windows(ids[:split], context, stride)
    vx, vy = windows(ids[split:], context, stride)
    return Raw([x], [y], vocabulary, ([vx], [vy]),
               {"characters": len(text), "vocabulary": len(vocabulary), "context": context})


register(DatasetType(
    "text", "file", "Characters of a text, cut into next-character examples (a character language model); "
    "with no path, CPython's documentation topics (about 465 KB of English, shipped with Python).",
    "x (context,) int64 character ids 0..vocabulary-1; label (context,) the next character at each position",
    _text,
    (Param("path", "str", "", "a UTF-8 .txt file, relative to the .loom file; empty: Python's bundled documentation"),
     Param("context", "int", 64, "characters per example (the model's sequence length)", minimum=1, maximum=65536),
     Param("stride", "int", 0, "characters between the starts of examples; 0: the context (no overlap)", minimum=0),
     Param("characters", "int", 0, "use only the first this many characters; 0: all", minimum=0)),
))
