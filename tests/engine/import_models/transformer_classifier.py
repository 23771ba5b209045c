"""A small Transformer text classifier written with functional calls."""
import torch
import torch.nn.functional as F
from torch import nn


class Classifier(nn.Module):
    def __init__(self, vocab=64, dim=32, heads=4, layers=2, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, heads, dim_feedforward=64, dropout=0.0, batch_first=True)
            for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, classes)

    def forward(self, tokens):
        x = self.embed(tokens)
        for layer in self.encoder:
            x = layer(x)
        x = self.norm(x).mean(dim=1)
        x = F.gelu(self.proj(x))
        x = F.dropout(x, 0.1, training=self.training)
        return torch.softmax(self.out(x), dim=-1)


def example_inputs():
    return (torch.randint(0, 64, (2, 12)),)
