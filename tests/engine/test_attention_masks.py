"""Causal and key-padding masks (issue 19 item 2): shape rules, the generated calls, and the property
that makes a model causal: changing a later token never changes an earlier position's output."""
from __future__ import annotations

import pytest
import torch

from engine.codegen import generate_code, load_generated
from graph.analysis import analyse
from graph.block_library import load_library
from graph.blocks import Blocks
from tests.engine.designs._build import Builder

LENGTH, VOCAB = 10, 30


def _token_design(kind: str, causal: bool = True, padding_id: int | None = None) -> Builder:
    b = Builder("Masked")
    params = {"shape": [LENGTH], "dtype": "int64"} | ({"padding_id": padding_id} if padding_id is not None else {})
    x = b.add("Input", "tokens", **params)
    x = b.add("Embedding", "embed", x, num_embeddings=VOCAB, embedding_dim=16)
    if kind == "mha":
        x = b.add("MultiheadAttention", "attn", x, x, x, num_heads=2, is_causal=causal)
    elif kind == "encoder":
        x = b.add("TransformerEncoderLayer", "attn", x, nhead=2, dim_feedforward=32, dropout=0.0, is_causal=causal)
    elif kind == "decoder":  # the memory (an encoder's output) stays fully visible, so it comes from elsewhere
        memory = b.add("Input", "memory", shape=[5, 16])
        x = b.add("TransformerDecoderLayer", "attn", x, memory, nhead=2, dim_feedforward=32, dropout=0.0,
                  is_causal=causal)
    else:
        library = load_library()
        b.project.graph.blocks = Blocks()
        b.project.graph.blocks.add(library.get(kind))
        x = b.add(kind, "attn", x, d_model=16, num_heads=2, dim_feedforward=32)
    b.add("Output", "y", b.add("Linear", "head", x, out_features=VOCAB), loss="none")
    return b


def _model(b: Builder):
    source = generate_code(b.project)
    torch.manual_seed(0)
    return source, load_generated(source).build_model().eval()


@pytest.mark.parametrize("kind", ["mha", "encoder", "decoder", "CausalTransformerBlock"])
def test_a_later_token_never_changes_an_earlier_output(kind):
    _, model = _model(_token_design(kind))
    tokens = torch.randint(0, VOCAB, (3, LENGTH), generator=torch.Generator().manual_seed(1))
    memory = (torch.randn(3, 5, 16),) if kind == "decoder" else ()
    with torch.no_grad():
        before = model(tokens, *memory)
        for position in range(1, LENGTH):
            changed = tokens.clone()
            changed[:, position:] = (changed[:, position:] + 7) % VOCAB
            after = model(changed, *memory)
            torch.testing.assert_close(after[:, :position], before[:, :position], rtol=1e-5, atol=1e-5)
            assert not torch.allclose(after[:, position], before[:, position])


@pytest.mark.parametrize("kind", ["mha", "encoder", "TransformerBlock"])
def test_without_the_mask_later_tokens_reach_earlier_positions(kind):
    _, model = _model(_token_design(kind, causal=False))
    tokens = torch.randint(0, VOCAB, (2, LENGTH), generator=torch.Generator().manual_seed(1))
    changed = tokens.clone()
    changed[:, -1] = (changed[:, -1] + 1) % VOCAB
    with torch.no_grad():
        assert not torch.allclose(model(tokens)[:, 0], model(changed)[:, 0])


def test_causal_models_take_shorter_sequences_than_declared():
    """The mask follows the tensor's length, so a prompt shorter than the context runs while generating."""
    _, model = _model(_token_design("CausalTransformerBlock"))
    tokens = torch.randint(0, VOCAB, (1, LENGTH))
    with torch.no_grad():
        torch.testing.assert_close(model(tokens[:, :4]), model(tokens)[:, :4], rtol=1e-5, atol=1e-5)


def test_generated_code_passes_the_mask_with_the_flag_once_made():
    source, _ = _model(_token_design("encoder"))
    assert "causal = torch.ones(x.size(1), x.size(1), dtype=torch.bool, device=x.device).triu(1)" in source
    assert "self.attn(x, src_mask=causal, is_causal=True)" in source
    source, _ = _model(_token_design("decoder"))
    assert "tgt_mask=causal, tgt_is_causal=True" in source
    source, _ = _model(_token_design("mha", causal=False))
    assert "causal" not in source and "mask" not in source


def test_causal_attention_needs_keys_as_long_as_the_queries():
    b = Builder("Cross")
    q = b.add("Input", "q", shape=[4, 8])
    k = b.add("Input", "k", shape=[6, 8])
    b.add("Output", "y", b.add("MultiheadAttention", "attn", q, k, k, num_heads=2, is_causal=True), loss="none")
    errors = analyse(b.project.graph).errors
    assert [(e.node, e.field) for e in errors] == [("attn", "is_causal")]
    assert "6 against 4" in errors[0].message


def test_padding_ids_mask_the_keys_of_the_attention_they_feed():
    source, model = _model(_token_design("mha", causal=False, padding_id=0))
    assert "tokens_padding = tokens == 0" in source
    assert "key_padding_mask=tokens_padding" in source
    tokens = torch.randint(1, VOCAB, (2, LENGTH), generator=torch.Generator().manual_seed(2))
    tokens[:, -3:] = 0
    changed = tokens.clone()
    model.embed.weight.data[0] += 5.0  # what a padding position holds can no longer reach the others
    with torch.no_grad():
        after = model(changed)
        model.embed.weight.data[0] -= 5.0
        torch.testing.assert_close(after[:, :-3], model(tokens)[:, :-3], rtol=1e-5, atol=1e-5)


def test_padding_id_on_a_float_input_names_the_field():
    b = Builder("Float")
    b.add("Output", "y", b.add("Input", "x", shape=[3], padding_id=0), loss="none")
    errors = analyse(b.project.graph).errors
    assert [(e.node, e.field) for e in errors] == [("x", "padding_id")]
