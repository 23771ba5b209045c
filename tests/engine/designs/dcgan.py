"""The DCGAN generator: a latent vector reshaped to (N, nz, 1, 1), then transposed convolutions
with batch norm and ReLU up to a 3 x 32 x 32 image in tanh."""
from __future__ import annotations

from torch import nn

from graph.project import Project
from tests.engine.designs._build import Builder

NZ, NGF = 16, 16


def project() -> Project:
    b = Builder("DCGAN generator")
    x = b.add("Input", "z", shape=[NZ])
    x = b.add("Reshape", "to_map", x, shape=[NZ, 1, 1])
    x = b.add("ConvTranspose2d", "up1", x, out_channels=NGF * 4, kernel_size=4, bias=False)
    x = b.add("BatchNorm2d", "bn1", x)
    x = b.add("ReLU", "relu1", x)
    for i, channels in ((2, NGF * 2), (3, NGF)):
        x = b.add("ConvTranspose2d", f"up{i}", x, out_channels=channels, kernel_size=4, stride=2, padding=1,
                  bias=False)
        x = b.add("BatchNorm2d", f"bn{i}", x)
        x = b.add("ReLU", f"relu{i}", x)
    x = b.add("ConvTranspose2d", "up4", x, out_channels=3, kernel_size=4, stride=2, padding=1, bias=False)
    x = b.add("Tanh", "tanh", x)
    b.add("Output", "image", x, loss="none")
    return b.project


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 4), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
            nn.ConvTranspose2d(NGF, 3, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z.view(-1, NZ, 1, 1))
