"""Models the importer must refuse, naming each reason and its line."""
from torch import nn


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        if y.sum() > 0:
            return y
        return -y


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(1, 2, 3)
        self.shuffle = nn.ChannelShuffle(2)
        self.act = nn.Hardshrink()

    def forward(self, x):
        y = self.act(self.shuffle(self.conv(x)))
        return y[:, 0]


def not_a_module():
    return 42
