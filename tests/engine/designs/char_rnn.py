"""A character-level sequence classifier: Embedding, a two-layer recurrent layer, and a Linear
head reading the top layer's last hidden state (the recurrent node's port 1)."""
from __future__ import annotations

import torch
from torch import nn

from graph.project import Project
from tests.engine.designs._build import Builder

VOCAB, EMBED, HIDDEN, CLASSES, LENGTH = 60, 16, 32, 5, 20


def project(cell: str = "LSTM", bidirectional: bool = False) -> Project:
    b = Builder(f"Char {cell}")
    x = b.add("Input", "chars", shape=[LENGTH], dtype="int64")
    x = b.add("Embedding", "embed", x, num_embeddings=VOCAB, embedding_dim=EMBED)
    rnn = b.add(cell, "rnn", x, hidden_size=HIDDEN, num_layers=2, bidirectional=bidirectional)
    x = b.add("Linear", "fc", (rnn, 1), out_features=CLASSES)
    b.add("Output", "logits", x)
    return b.project


class CharRNN(nn.Module):
    def __init__(self, cell: str = "LSTM", bidirectional: bool = False):
        super().__init__()
        self.cell = cell
        self.bidirectional = bidirectional
        self.embed = nn.Embedding(VOCAB, EMBED)
        self.rnn = getattr(nn, cell)(EMBED, HIDDEN, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(HIDDEN * (2 if bidirectional else 1), CLASSES)

    def forward(self, chars):
        _, h_n = self.rnn(self.embed(chars))
        if self.cell == "LSTM":
            h_n = h_n[0]
        last = torch.cat((h_n[-2], h_n[-1]), dim=1) if self.bidirectional else h_n[-1]
        return self.fc(last)
