"""An LSTM part-of-speech tagger: token ids in, one tag score vector per token out."""
import torch.nn.functional as F
from torch import nn


class LSTMTagger(nn.Module):
    def __init__(self, vocab=50, embed=16, hidden=24, tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.tag = nn.Linear(2 * hidden, tags)

    def forward(self, tokens):
        states, _ = self.lstm(self.embed(tokens))
        return F.log_softmax(self.tag(states), dim=-1)
