"""Issue 19, done when: "build a character GPT from the palette with causal attention, train it on the
bundled text". A one-block GPT is built node by node through the window's own commands (token
embedding, positions, a pre-norm causal attention block wired by hand, a final norm and a head), its
shapes are inferred on the canvas, and a short run on the bundled text trains it."""
from __future__ import annotations

import math

import torch

from engine.inference import Predictor
from tests.app.gestures import drop_layer, wire
from tests.app.hand import chain, choose_dataset, rename, set_data, set_params, set_training, shoot
from tests.app.test_training import start, trainer_window, wait_end  # noqa: F401 -- the fixture

CONTEXT = 32


def build_gpt(window, qtbot) -> dict[str, str]:
    """tokens -> embed -> position -> [norm1 -> causal attention] + -> norm -> head -> next_char."""
    front = chain(window, ["Input", "Embedding", "PositionalEncoding", "LayerNorm"], 0.0)
    attn = drop_layer(window, "MultiheadAttention", (920.0, 0.0))
    add = drop_layer(window, "Add", (1150.0, 120.0))
    back = chain(window, ["LayerNorm", "Linear", "Output"], 120.0, start=1380.0)
    for port in range(3):                  # query, key and value: the normalised sequence itself
        wire(window, front[3], attn, 0, port)
    wire(window, front[2], add, 0, 0)      # the residual path around the attention
    wire(window, attn, add, 0, 1)
    wire(window, add, back[0])
    names = dict(zip(("tokens", "embed", "position", "norm1"), front)) | {"attn": attn, "add": add}
    names |= dict(zip(("norm", "head", "next_char"), back))
    renamed = {}
    for wanted, node in names.items():
        renamed[wanted] = rename(window, qtbot, node, wanted) if node != wanted else node
    set_params(window, qtbot, "tokens", shape=[CONTEXT], dtype="int64")
    set_params(window, qtbot, "embed", num_embeddings=128, embedding_dim=32)
    set_params(window, qtbot, "position", max_len=256, dropout=0.0)
    set_params(window, qtbot, "attn", num_heads=2, is_causal=True)
    set_params(window, qtbot, "head", out_features=128)
    return renamed


def test_a_gpt_built_by_hand_infers_its_shapes_and_trains(trainer_window, tmp_path, qtbot):  # noqa: F811
    window = trainer_window(None)
    window.resize(1280, 800)
    assert window.new_project()
    build_gpt(window, qtbot)
    doc, canvas = window.doc, window.canvas
    assert doc.analysis.valid, doc.analysis.diagnostics
    assert canvas.annotation("embed").shape == f"(N, {CONTEXT}, 32)"
    assert canvas.annotation("attn").shape.startswith(f"(N, {CONTEXT}, 32) |")   # and the weights
    assert canvas.annotation("head").shape == f"(N, {CONTEXT}, 128)"
    assert all(canvas.annotation(n.id).severity is None for n in doc.graph.nodes)
    # the mask set in Properties is causal: a later token never changes an earlier position's scores
    predictor = Predictor(doc.project)
    tokens = torch.randint(0, 128, (1, CONTEXT), generator=torch.Generator().manual_seed(0))
    changed = tokens.clone()
    changed[0, 20:] = (changed[0, 20:] + 1) % 128
    before, after = (predictor.predict([t])["next_char"].raw for t in (tokens, changed))
    torch.testing.assert_close(before[0, :20], after[0, :20])
    assert not torch.allclose(before[0, 20:], after[0, 20:])
    choose_dataset(window, "text")
    set_data(window, qtbot, context=CONTEXT, characters=40_000)
    set_training(window, qtbot, epochs=2, batch_size=64, optimizer="adamw", learning_rate=0.003)
    window.action_fit_view.trigger()
    shoot(window, "gpt-built")

    start(window, qtbot)
    result = wait_end(window, qtbot)
    assert result.kind == "finished" and result.reason == "completed", result
    epochs = window.training.store.epochs
    assert len(epochs) == 2
    bits = [e.val_loss / math.log(2) for e in epochs]
    assert bits[-1] < bits[0] < 7.0            # learning: below chance over 128 ids (7 bits) and falling
    shoot(window, "gpt-trained")
    # Predict: the run just trained writes text after a prompt
    predicting = window.predicting
    predicting.action.trigger()
    qtbot.waitUntil(lambda: predicting.idle and predicting.work is not None, timeout=60_000)
    panel = predicting.panel
    assert not panel.run.currentText().startswith("Random"), panel.run.currentText()
    box = panel.generate
    assert predicting.setup.generates and box.isVisibleTo(panel)
    qtbot.keyClicks(box.prompt, "The ")
    box.length.setValue(60)
    box.go.click()
    qtbot.waitUntil(lambda: predicting.idle and not box.stop.isEnabled(), timeout=60_000)
    text = box.output.toPlainText()
    assert text.startswith("The ") and len(text) == 64
    shoot(window, "gpt-generate")
