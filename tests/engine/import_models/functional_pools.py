"""A CNN that pools with torch.nn.functional calls, as many hand-written models do."""
import torch
import torch.nn.functional as F
from torch import nn


class FunctionalPools(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 2 * 2 + 4, 10)

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.conv(x)), 2)
        y = F.avg_pool2d(y, kernel_size=2, stride=2)
        pooled = F.adaptive_avg_pool2d(y, (2, 2))
        peak = F.adaptive_max_pool2d(y, 1)
        return self.head(torch.cat([torch.flatten(pooled, 1), torch.flatten(peak, 1)], dim=1))


def example_inputs():
    return (torch.randn(2, 1, 16, 16),)
