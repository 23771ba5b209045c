"""Generate in the Predict panel (issue 19 item 4): tiny_gpt's random weights, a prompt, 20
characters with top-k 1 appearing in the panel, equal to what the engine's TextModel draws; the
worker's chunks coalesced; no Generate section for a design that is not a text model."""
from __future__ import annotations

import threading
import time

from app.predict.generation import CHUNK_S, stream
from app.training.loader import engine_loader
from graph.project import load, save
from tests.conftest import EXAMPLES

WAIT_MS = 60_000


def tiny_gpt(tmp_path):
    """tiny_gpt with random weights that score only the text's characters: its 128 token ids cut
    to the vocabulary (untrained, ids beyond it would be drawn as often as any)."""
    from engine.data.prepare import prepare_data
    from graph.analysis import analyse

    project = load(EXAMPLES / "tiny_gpt.loom")
    size = len(prepare_data(project.data, project.graph, analyse(project.graph), EXAMPLES).classes)
    for node in project.graph.nodes:
        if node.type in ("Embedding", "Linear"):
            key = "num_embeddings" if node.type == "Embedding" else "out_features"
            node.params[key] = size
    path = tmp_path / "tiny_gpt.loom"
    save(project, path)
    return path


def open_predict(make_window, tmp_path, qtbot, path):
    engine_loader().wait()
    window = make_window(path, runs_dir=tmp_path / "user-runs")
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window._shown)
    window.predicting.action.trigger()
    predicting = window.predicting
    qtbot.waitUntil(lambda: predicting.idle and predicting.work is not None, timeout=WAIT_MS)
    return window, predicting


def test_generate_shows_the_prompt_and_the_engines_greedy_characters(make_window, tmp_path, qtbot):
    from engine.inference.generate import Sampling, TextModel

    window, predicting = open_predict(make_window, tmp_path, qtbot, tiny_gpt(tmp_path))
    panel = predicting.panel
    assert panel.run.currentText().startswith("Random")
    box = panel.generate
    assert predicting.setup.generates and box.isVisibleTo(panel)
    vocabulary = predicting.setup.classes
    prompt = "".join(c for c in "the cat " if c in vocabulary) or vocabulary[1] * 3
    chunks: list[str] = []
    predicting.streamer.chunk.connect(lambda _n, text: chunks.append(text))

    qtbot.keyClicks(box.prompt, prompt)
    box.top_k.setValue(1)
    box.length.setValue(20)
    box.go.click()
    assert box.stop.isEnabled() and box.output.toPlainText() == prompt   # the prompt shows at once
    qtbot.waitUntil(lambda: predicting.idle and not box.stop.isEnabled(), timeout=WAIT_MS)

    shown = box.output.toPlainText()
    assert shown.startswith(prompt) and len(shown) == len(prompt) + 20
    expected = "".join(TextModel(predicting.work.predictor, predicting.work.prepared.classes)
                       .generate(prompt, 20, Sampling(1.0, 1, 0)))
    assert shown == prompt + expected
    assert "".join(chunks) == expected[:len("".join(chunks))]   # what streamed in is a beginning of it
    window.close()


def test_a_prompt_character_the_model_never_saw_is_a_note(make_window, tmp_path, qtbot):
    window, predicting = open_predict(make_window, tmp_path, qtbot, tiny_gpt(tmp_path))
    box = predicting.panel.generate
    unseen = next(c for c in "\u2603\u00a7~^" if c not in predicting.setup.classes)
    box.prompt.setText(unseen)
    box.go.click()
    qtbot.waitUntil(lambda: predicting.idle and not box.stop.isEnabled(), timeout=WAIT_MS)
    assert "never saw" in predicting.panel.notes.text() and "Traceback" not in predicting.panel.notes.text()
    window.close()


def test_no_generate_section_for_a_classifier(make_window, tmp_path, qtbot):
    window, predicting = open_predict(make_window, tmp_path, qtbot, EXAMPLES / "spiral_mlp.loom")
    assert not predicting.setup.generates and not predicting.panel.generate.isVisibleTo(predicting.panel)
    window.close()


def test_stream_coalesces_characters_and_stops():
    def slow(n):
        for i in range(n):
            time.sleep(0.005)
            yield str(i % 10)

    emitted: list[str] = []
    start = time.monotonic()
    number, text, stopped = stream(slow(60), 7, threading.Event(), lambda _n, t: emitted.append(t))
    elapsed = time.monotonic() - start
    assert (number, stopped) == (7, False) and text == "".join(str(i % 10) for i in range(60))
    assert 1 <= len(emitted) <= elapsed / CHUNK_S + 1            # at most one emit per CHUNK_S
    assert text.startswith("".join(emitted))

    stop = threading.Event()
    stop.set()
    assert stream(slow(60), 8, stop, lambda _n, _t: None) == (8, "0", True)
