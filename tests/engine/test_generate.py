"""Text generation (engine.inference.generate) and the text data set (engine.data.text)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data.prepare import prepare_data
from engine.data.registry import Context, DataError, get
from engine.inference.generate import Sampling, TextModel, sample_ids
from engine.inference.predictor import PredictError, Predictor
from graph.analysis import analyse
from graph.project import Project
from tests.engine.designs._build import Builder

TEXT = "the cat sat on the mat. " * 40


def _options(**given):
    return {p.name: p.default for p in get("text").options} | given


def test_text_windows_are_next_character_examples(tmp_path: Path):
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    raw = get("text").load(_options(path="t.txt", context=8), Context(tmp_path, [], []))
    x, y = raw.inputs[0], raw.targets[0]
    assert raw.classes == sorted(set(TEXT))
    decode = np.array(raw.classes)
    assert "".join(decode[x[0]]) == TEXT[:8] and "".join(decode[y[0]]) == TEXT[1:9]
    assert "".join(decode[x[1]]) == TEXT[8:16]  # stride 0: windows side by side
    (vx,), _ = raw.val
    assert "".join(decode[vx[0]]) == TEXT[int(len(TEXT) * 0.9):][:8]  # the last tenth validates


def test_bundled_text_needs_no_file():
    raw = get("text").load(_options(context=32, characters=20_000), Context(Path("."), [], []))
    assert raw.inputs[0].shape[1] == 32 and len(raw.classes) > 40 and raw.info["characters"] == 20_000


def test_a_text_too_short_for_the_context_says_how_long_it_must_be(tmp_path: Path):
    (tmp_path / "t.txt").write_text("short", encoding="utf-8")
    with pytest.raises(DataError, match="data.context: the text has 5 characters.*at least 651"):
        get("text").load(_options(path="t.txt", context=64), Context(tmp_path, [], []))


def _gpt(vocab: int, length: int = 8) -> Project:
    b = Builder("Chars")
    x = b.add("Input", "tokens", shape=[length], dtype="int64")
    x = b.add("Embedding", "embed", x, num_embeddings=vocab, embedding_dim=16)
    x = b.add("MultiheadAttention", "attn", x, x, x, num_heads=2, is_causal=True)
    b.add("Output", "next", b.add("Linear", "head", x, out_features=vocab))
    b.project.data = {"dataset": "text", "path": "t.txt", "context": length}
    return b.project


def test_the_embedding_size_is_checked_against_the_vocabulary(tmp_path: Path):
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    project = _gpt(vocab=5)
    with pytest.raises(DataError, match="num_embeddings 5"):
        prepare_data(project.data, project.graph, analyse(project.graph), tmp_path)


def _text_model(tmp_path: Path) -> TextModel:
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    project = _gpt(vocab=len(set(TEXT)))
    prepared = prepare_data(project.data, project.graph, analyse(project.graph), tmp_path)
    torch.manual_seed(0)
    return TextModel(Predictor(project), prepared.classes)


def test_the_same_seed_gives_the_same_text_and_another_seed_another(tmp_path: Path):
    model = _text_model(tmp_path)
    first = "".join(model.generate("the ", 40, Sampling(seed=3)))
    assert first == "".join(model.generate("the ", 40, Sampling(seed=3)))
    assert first != "".join(model.generate("the ", 40, Sampling(seed=4)))
    assert len(first) == 40 and set(first) <= set(TEXT)


def test_top_k_1_is_greedy_whatever_the_seed_and_temperature(tmp_path: Path):
    model = _text_model(tmp_path)
    ids = model.encode("the cat sat on")  # longer than the context: only the last 8 are seen
    expected = list(ids)
    for _ in range(12):
        with torch.no_grad():
            expected.append(int(model.predictor.model(torch.tensor([expected[-8:]]))[0, -1].argmax()))
    got = [model.ids[c] for c in model.generate("the cat sat on", 12, Sampling(temperature=2.5, top_k=1, seed=9))]
    assert got == expected[len(ids):]


def test_sampling_follows_the_probabilities():
    scores = torch.log(torch.tensor([0.7, 0.2, 0.1, 0.0]))
    drawn = list(sample_ids(lambda w: scores.expand(1, w.shape[1], 4), [0], 3000, 4, Sampling(seed=1)))
    share = np.bincount(drawn, minlength=4) / len(drawn)
    np.testing.assert_allclose(share, [0.7, 0.2, 0.1, 0.0], atol=0.03)
    top2 = list(sample_ids(lambda w: scores.expand(1, w.shape[1], 4), [0], 500, 4, Sampling(top_k=2, seed=1)))
    assert set(top2) == {0, 1}


@pytest.mark.parametrize(("prompt", "sampling", "message"), [
    ("thé", Sampling(), "never saw: 'é'"),
    ("", Sampling(), "--prompt is empty"),
    ("the", Sampling(temperature=0), "--temperature must be above 0"),
    ("the", Sampling(top_k=0), "--top-k must be 1 or more"),
])
def test_bad_prompts_and_settings_are_messages(tmp_path: Path, prompt, sampling, message):
    model = _text_model(tmp_path)
    with pytest.raises(PredictError, match=message):
        "".join(model.generate(prompt, 5, sampling))


def test_a_head_wider_than_the_vocabulary_draws_only_its_characters(tmp_path: Path):
    """tiny_gpt scores 128 ids for a text of about 100 characters: untrained, it drew ids past the
    vocabulary and generation failed with an IndexError."""
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    project = _gpt(vocab=128)
    prepared = prepare_data(project.data, project.graph, analyse(project.graph), tmp_path)
    torch.manual_seed(0)
    model = TextModel(Predictor(project), prepared.classes)
    text = "".join(model.generate("the ", 200, Sampling(seed=1, temperature=5.0)))
    assert len(text) == 200 and set(text) <= set(TEXT)
