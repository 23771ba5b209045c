"""An exported `.py` run directly shows that it works (issue 11, item 4): it builds the model,
runs it on `example_inputs()` and prints one line per output with its shape."""
from __future__ import annotations

import subprocess
import sys

import main
from tests.conftest import EXAMPLES
from tests.engine.designs._build import Builder


def run_exported(path) -> subprocess.CompletedProcess:
    """`python model.py` in the file's folder, with neither the repo nor PYTHONPATH on the path."""
    return subprocess.run([sys.executable, "-E", "-s", path.name], cwd=path.parent, capture_output=True,
                          text=True, timeout=300, check=False)


def test_running_an_exported_file_prints_its_output_shapes(tmp_path, capsys):
    out = tmp_path / "lenet5.py"
    assert main.main(["export", str(EXAMPLES / "lenet5.loom"), "-o", str(out)]) == 0
    capsys.readouterr()
    result = run_exported(out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["logits: (2, 10)"]


def test_each_output_gets_its_line_and_importing_prints_nothing(tmp_path):
    b = Builder("Two heads")
    x = b.add("Input", "model", shape=[4])  # an id that a careless __main__ block would shadow
    hidden = b.add("Linear", "hidden", x, out_features=3)
    b.add("Output", "scores", hidden)
    b.add("Output", "features", b.add("ReLU", "act", hidden), loss="none")
    path = tmp_path / "two_heads.py"
    from engine.export import export

    export(b.project, path)
    result = run_exported(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["scores: (2, 3)", "features: (2, 3)"]
    imported = subprocess.run([sys.executable, "-E", "-s", "-c", "import two_heads"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=False)
    assert imported.returncode == 0 and imported.stdout == "", imported.stderr
