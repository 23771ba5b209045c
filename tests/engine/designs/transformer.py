"""A small Transformer encoder classifier: Embedding, sinusoidal PositionalEncoding, two
encoder layers, mean over the sequence, and a Linear head."""
from __future__ import annotations

import math

import torch
from torch import nn

from graph.project import Project
from tests.engine.designs._build import Builder

VOCAB, D_MODEL, HEADS, FF, LENGTH, CLASSES = 100, 32, 4, 64, 16, 4


def project() -> Project:
    b = Builder("Tiny Transformer")
    x = b.add("Input", "tokens", shape=[LENGTH], dtype="int64")
    x = b.add("Embedding", "embed", x, num_embeddings=VOCAB, embedding_dim=D_MODEL)
    x = b.add("PositionalEncoding", "pos", x, max_len=64)
    for i in (1, 2):
        x = b.add("TransformerEncoderLayer", f"enc{i}", x, nhead=HEADS, dim_feedforward=FF)
    x = b.add("Permute", "channels_first", x, dims=[0, 2, 1])
    x = b.add("AdaptiveAvgPool1d", "pool", x, output_size=1)
    x = b.add("Flatten", "flatten", x)
    x = b.add("Linear", "head", x, out_features=CLASSES)
    b.add("Output", "logits", x)
    return b.project


class SinusoidalPositions(nn.Module):
    def __init__(self, d_model: int, max_len: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("table", table, persistent=False)

    def forward(self, x):
        return self.dropout(x + self.table[: x.shape[1]])


class TransformerClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.pos = SinusoidalPositions(D_MODEL, 64)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=FF, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(D_MODEL, CLASSES)

    def forward(self, tokens):
        x = self.encoder(self.pos(self.embed(tokens)))
        return self.head(x.mean(dim=1))
