"""`check` reports the files that used to crash it (issue 12): exit 2 with one `error:` line that
names the file and what is wrong, never a traceback."""
import json

import pytest

from tests.conftest import EXAMPLES
from tests.fuzz_files import run_main

SPIRAL = EXAMPLES / "spiral_mlp.loom"


def text_for(kind: str) -> str:
    text = SPIRAL.read_text()
    doc = json.loads(text)
    if kind == "surrogate_name":
        doc["name"] = "\ud800"
    elif kind == "digits":
        return text.replace('"out_features": 3', '"out_features": ' + "1" * 5000)
    elif kind == "nesting":
        return text.replace('"ui": {}', '"ui": ' + "[" * 100_000 + "]" * 100_000)
    elif kind == "nan_pos":
        doc["graph"]["nodes"][0]["pos"] = [float("nan"), float("nan")]
    return json.dumps(doc)


@pytest.mark.parametrize(("kind", "message"), [
    ("surrogate_name", r"name: '\ud800' is not valid Unicode text"),
    ("digits", "a number with 5,000 digits is too long"),
    ("nesting", "nested too deeply"),
    ("nan_pos", '"pos" must be two finite numbers'),
])
def test_check_reports_what_used_to_crash_it(tmp_path, kind, message):
    path = tmp_path / f"{kind}.loom"
    path.write_text(text_for(kind))
    code, out, err = run_main("check", str(path))
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert err == f"error: {path}: " + err.split(": ", 2)[2] and message in err, err


def test_check_of_dev_zero_is_refused_quickly():
    code, _, err = run_main("check", "/dev/zero")
    assert code == 2 and "too large to be a design" in err
