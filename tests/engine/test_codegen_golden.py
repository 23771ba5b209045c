"""Golden files: the exact code generated for a few designs (tests/golden/*.py).

A change to codegen or to a layer declaration that changes the generated code shows up here
as a diff to review. When the change is intended, regenerate the files with
    LAYERLOOM_UPDATE_GOLDEN=1 python -m pytest tests/engine/test_codegen_golden.py
and commit them with the change.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from engine.codegen import generate_code
from tests.conftest import ROOT
from tests.engine.designs import DESIGNS

GOLDEN = ROOT / "tests" / "golden"
CASES = {"lenet5": "lenet5", "resnet18_32px": "resnet18", "char_bigru": "char_bigru",
         "tiny_transformer": "transformer", "unet": "unet"}


@pytest.mark.parametrize("golden", sorted(CASES))
def test_generated_code_matches_the_golden_file(golden):
    path = GOLDEN / f"{golden}.py"
    source = generate_code(DESIGNS[CASES[golden]].project())
    if os.environ.get("LAYERLOOM_UPDATE_GOLDEN"):
        path.write_text(source, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with LAYERLOOM_UPDATE_GOLDEN=1 to write it"
    assert source == path.read_text(encoding="utf-8")


def test_golden_files_pass_ruff_with_default_rules():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", str(GOLDEN)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
