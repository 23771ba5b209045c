"""`python main.py`'s first word (DESIGN §4): a subcommand, `--version`, or a file to open; a
mistyped command or a file that is not there is an error (exit 2) and never opens the window."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata

import pytest

import main
from tests.conftest import EXAMPLES, ROOT

PYPROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


@pytest.fixture
def opened(monkeypatch) -> list:
    """What the designer was asked to open; the window itself is never made here."""
    calls: list = []
    import app.launch
    import app.preflight

    monkeypatch.setattr(app.preflight, "window_problem", lambda: None)
    monkeypatch.setattr(app.launch, "run_designer", lambda path=None: calls.append(path) or 0)
    return calls


def test_version_prints_the_package_version(opened, capsys):
    assert main.main(["--version"]) == 0
    assert capsys.readouterr().out == f"layerloom {PYPROJECT_VERSION}\n"
    assert opened == []


def test_version_falls_back_to_pyproject_when_not_installed(opened, monkeypatch, capsys):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert main.main(["--version"]) == 0
    assert capsys.readouterr().out == f"layerloom {PYPROJECT_VERSION}\n"


def test_version_in_a_fresh_process():
    out = subprocess.run([sys.executable, "main.py", "--version"], cwd=ROOT, capture_output=True, text=True,
                         check=False, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"layerloom {PYPROJECT_VERSION}\n", "")


@pytest.mark.parametrize("argv, said", [
    (["chek", "x.loom"], "'chek' is neither a command nor a file; did you mean 'check'?"),
    (["exprot"], "did you mean 'export'?"),
    (["trian", "x.loom", "--epochs", "2"], "did you mean 'train'?"),
    (["frobnicate"], "'frobnicate' is neither a command nor a file (commands: check, export, train, import, predict, tune)"),
    (["nothere.loom"], "no such file: nothere.loom"),
    (["some/folder/x"], "no such file: some/folder/x"),
    ([str(EXAMPLES)], "is a folder, not a .loom file"),
    ([str(EXAMPLES / "spiral_mlp.loom"), "extra"], "the designer opens one file; unexpected: extra"),
    (["--no-such-option"], "unrecognized arguments: --no-such-option"),
])
def test_a_first_word_that_is_neither_command_nor_file_is_exit_2_without_a_window(argv, said, opened, capsys,
                                                                                  monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        code = main.main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and said in err and err.startswith("usage: layerloom"), err
    assert opened == []


def test_an_existing_file_opens_in_the_designer(opened):
    path = str(EXAMPLES / "spiral_mlp.loom")
    assert main.main([path]) == 0 and main.main([]) == 0
    assert opened == [path, None]


def test_a_window_that_cannot_open_is_exit_1_with_the_reason(monkeypatch, opened, capsys):
    import app.preflight

    monkeypatch.setattr(app.preflight, "window_problem", lambda: "error: LayerLoom cannot open its window:\n- x")
    assert main.main([]) == 1
    assert capsys.readouterr().err == "error: LayerLoom cannot open its window:\n- x\n"
    assert opened == []
