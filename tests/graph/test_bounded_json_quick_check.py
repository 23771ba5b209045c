"""bounded_json's quick check reads the text, not the parsed document: a surrogate written as a
JSON escape is still refused, and text that only looks like one (an escaped backslash) loads."""
from __future__ import annotations

import json

import pytest

from graph import bounded_json


@pytest.mark.parametrize("text", ['{"a": "\\ud800"}', '{"a": "x\\uDBFFy"}', '{"\\udc00": 1}', '["\ud800"]'])
def test_a_lone_surrogate_escaped_or_not_is_refused(text):
    with pytest.raises(bounded_json.BoundsError, match="not valid Unicode"):
        bounded_json.loads(text)


def test_a_backslash_before_ud8_and_a_surrogate_pair_load():
    assert bounded_json.loads('{"a": "\\\\ud800"}') == {"a": "\\ud800"}
    assert bounded_json.loads(json.dumps({"a": "\U0001f600"})) == {"a": "\U0001f600"}   # \ud83d\ude00: a pair


def test_too_deep_is_still_refused():
    with pytest.raises(bounded_json.BoundsError, match="nested more than"):
        bounded_json.loads("[" * 70 + "]" * 70)
