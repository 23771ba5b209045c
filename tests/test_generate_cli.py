"""`python main.py predict FILE --run DIR --generate N --prompt TEXT`: a text model's run prints the prompt and
N characters; bad prompts and settings are messages with nothing on stdout (DESIGN §4)."""
from pathlib import Path

import pytest
import torch

import main
from graph.project import save
from tests.conftest import EXAMPLES
from tests.engine.test_generate import TEXT, _gpt
from tests.test_predict_cli import cli

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("chars")
    (folder / "t.txt").write_text(TEXT, encoding="utf-8")
    project = _gpt(vocab=len(set(TEXT)))
    project.training = {"epochs": 2, "batch_size": 16, "learning_rate": 0.01, "seed": 0}
    save(project, folder / "chars.loom")
    assert main.main(["train", str(folder / "chars.loom"), "--out", str(folder / "run"), "--quiet"]) == 0
    return folder / "chars.loom", folder / "run"


def test_prints_the_prompt_then_n_characters_the_same_for_a_seed(capsys, trained):
    design, run = trained
    code, out, err = cli(capsys, "predict", design, "--run", run, "--generate", 30, "--prompt", "the ", "--seed", 2)
    assert code == 0, err
    text = out.rstrip("\n")
    assert text.startswith("the ") and len(text) == 34 and set(text) <= set(TEXT)
    assert cli(capsys, "predict", design, "--run", run, "--generate", 30, "--prompt", "the ", "--seed", 2)[1] == out
    greedy = cli(capsys, "predict", design, "--run", run, "--generate", 30, "--prompt", "the ", "--top-k", 1)[1]
    assert greedy == cli(capsys, "predict", design, "--run", run, "--generate", 30, "--prompt", "the ", "--top-k", 1,
                         "--seed", 7, "--temperature", 3)[1]


@pytest.mark.parametrize(("args", "message"), [
    (["--prompt", "thé"], "never saw"),
    (["--prompt", "the", "--temperature", "0"], "--temperature must be above 0"),
    (["--prompt", ""], "--prompt is empty"),
])
def test_bad_prompts_print_nothing_on_stdout(capsys, trained, args, message):
    design, run = trained
    code, out, err = cli(capsys, "predict", design, "--run", run, "--generate", 5, *args)
    assert code == 1 and out == "" and message in err


def test_a_design_that_is_not_a_text_model_is_a_message(capsys):
    code, out, err = cli(capsys, "predict", EXAMPLES / "spiral_mlp.loom", "--generate", 5, "--prompt", "a")
    assert code == 1 and out == "" and "int64 Input" in err
