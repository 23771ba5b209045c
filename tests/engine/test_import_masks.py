"""Causal attention masks made in forward come back as the attention node's is_causal: the mask
LayerLoom's exporter writes and the usual hand-written forms, whatever makes the mask (its value
decides); another mask is refused naming the keyword."""
from __future__ import annotations

import pytest
import torch

from engine.importer import ImportFailure, import_model

torch.set_num_threads(1)

MODEL = '''
import torch
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 16)
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)

    def forward(self, tokens):
        x = self.embed(tokens)
        T = x.size(1)
        {mask}
        y, _ = self.attn(x, x, x, {attn})
        return self.layer(y, {layer})


def example_inputs(batch_size=2):
    return (torch.randint(0, 11, (batch_size, 6)),)
'''


def _import(tmp_path, mask: str, attn: str, layer: str):
    path = tmp_path / "model.py"
    path.write_text(MODEL.replace("{mask}", mask).replace("{attn}", attn).replace("{layer}", layer))
    return import_model(f"{path}:Model")


@pytest.mark.parametrize(("mask", "attn", "layer"), [
    # what engine/codegen writes
    ("causal = torch.ones(x.size(1), x.size(1), dtype=torch.bool, device=x.device).triu(1)",
     "need_weights=False, attn_mask=causal, is_causal=True", "src_mask=causal, is_causal=True"),
    # hand-written: torch.triu of ones, without the hint
    ("causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)", "attn_mask=causal", "causal"),
    # torch's own helper (an additive -inf mask), the hint positional
    ("causal = nn.Transformer.generate_square_subsequent_mask(T)", "attn_mask=causal, is_causal=True",
     "causal, None, True"),
    # a fixed length: a constant tensor in the traced graph
    ("causal = torch.tril(torch.ones(6, 6)) == 0", "attn_mask=causal", "src_mask=causal"),
])
def test_a_causal_mask_made_in_forward_is_the_nodes_is_causal(tmp_path, mask, attn, layer):
    result = _import(tmp_path, mask, attn, layer)
    nodes = {n.id: n for n in result.project.graph.nodes}
    assert nodes["attn"].params.get("is_causal") is True
    assert nodes["layer"].params.get("is_causal") is True
    assert result.max_difference <= 1e-5
    assert "is_causal=True" in result.source_code


def test_no_mask_keeps_is_causal_off(tmp_path):
    result = _import(tmp_path, "pass", "need_weights=False", "")
    assert all("is_causal" not in n.params for n in result.project.graph.nodes)


def test_another_mask_is_refused_naming_the_keyword_and_line(tmp_path):
    with pytest.raises(ImportFailure) as caught:
        _import(tmp_path, "future = torch.ones(T, T, dtype=torch.bool).tril(-1)", "attn_mask=future", "")
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1
    assert problems[0].startswith("attn (model.py:17): attn_mask= is not the causal mask")
    assert "Traceback" not in str(caught.value)


BUFFER_MODEL = '''
import torch
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 16)
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.register_buffer("mask", torch.triu(torch.ones(6, 6, dtype=torch.bool), 1))

    def forward(self, tokens):
        x = self.embed(tokens)
        y, _ = self.attn(x, x, x, attn_mask=self.mask)
        return y


def example_inputs(batch_size=2):
    return (torch.randint(0, 11, (batch_size, 6)),)
'''


def test_a_causal_mask_held_as_a_buffer_is_the_nodes_is_causal(tmp_path):
    """GPT-style code keeps its mask in a buffer; it was refused as a learned tensor outside a layer."""
    path = tmp_path / "model.py"
    path.write_text(BUFFER_MODEL)
    result = import_model(f"{path}:Model")
    assert {n.id: n for n in result.project.graph.nodes}["attn"].params.get("is_causal") is True
    assert result.max_difference <= 1e-5


PADDED_MODEL = '''
import torch
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 16, padding_idx=0)
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)

    def forward(self, tokens):
        x = self.embed(tokens)
        y, _ = self.attn(x, x, x, {attn})
        return self.layer(y, {layer})


def example_inputs(batch_size=2):
    tokens = torch.randint(1, 11, (batch_size, 6))
    tokens[:, -2:] = 0
    return (tokens,)
'''


@pytest.mark.parametrize(("attn", "layer"), [
    ("key_padding_mask=tokens == 0", "src_key_padding_mask=tokens == 0"),
    ("tokens.eq(0)", "None, tokens.eq(0)"),                 # positional, as a method
])
def test_a_key_padding_mask_made_in_forward_is_the_token_inputs_padding_id(tmp_path, attn, layer):
    """`key_padding_mask=tokens == padding_id` was refused; the design writes it from the Input's padding_id."""
    path = tmp_path / "model.py"
    path.write_text(PADDED_MODEL.replace("{attn}", attn).replace("{layer}", layer))
    result = import_model(f"{path}:Model")
    nodes = {n.id: n for n in result.project.graph.nodes}
    assert nodes["tokens"].params.get("padding_id") == 0
    assert result.max_difference <= 1e-5


def test_another_key_padding_mask_is_refused_naming_the_keyword(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(PADDED_MODEL.replace("{attn}", "key_padding_mask=tokens > 5").replace("{layer}", ""))
    with pytest.raises(ImportFailure, match="key_padding_mask= is not `tokens == padding_id`"):
        import_model(f"{path}:Model")
