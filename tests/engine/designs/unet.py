"""A two-level U-Net: double 3x3 convolutions, max pooling down, transposed convolutions up,
and Concat skips from the encoder to the decoder."""
from __future__ import annotations

import torch
from torch import nn

from graph.project import Project
from tests.engine.designs._build import Builder

SIZE, IN_CH, BASE, CLASSES = 32, 1, 8, 2


def project() -> Project:
    b = Builder("U-Net")

    def double(name: str, x: str, channels: int) -> str:
        x = b.add("Conv2d", f"{name}_conv1", x, out_channels=channels, kernel_size=3, padding=1)
        x = b.add("ReLU", f"{name}_relu1", x)
        x = b.add("Conv2d", f"{name}_conv2", x, out_channels=channels, kernel_size=3, padding=1)
        return b.add("ReLU", f"{name}_relu2", x)

    x = b.add("Input", "image", shape=[IN_CH, SIZE, SIZE])
    enc1 = double("enc1", x, BASE)
    x = b.add("MaxPool2d", "pool1", enc1, kernel_size=2)
    enc2 = double("enc2", x, BASE * 2)
    x = b.add("MaxPool2d", "pool2", enc2, kernel_size=2)
    x = double("mid", x, BASE * 4)
    x = b.add("ConvTranspose2d", "up2", x, out_channels=BASE * 2, kernel_size=2, stride=2)
    x = b.add("Concat", "cat2", x, enc2)
    x = double("dec2", x, BASE * 2)
    x = b.add("ConvTranspose2d", "up1", x, out_channels=BASE, kernel_size=2, stride=2)
    x = b.add("Concat", "cat1", x, enc1)
    x = double("dec1", x, BASE)
    x = b.add("Conv2d", "head", x, out_channels=CLASSES, kernel_size=1)
    b.add("Output", "mask", x, loss="cross_entropy")
    return b.project


def double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = double_conv(IN_CH, BASE)
        self.enc2 = double_conv(BASE, BASE * 2)
        self.mid = double_conv(BASE * 2, BASE * 4)
        self.up2 = nn.ConvTranspose2d(BASE * 4, BASE * 2, 2, stride=2)
        self.dec2 = double_conv(BASE * 4, BASE * 2)
        self.up1 = nn.ConvTranspose2d(BASE * 2, BASE, 2, stride=2)
        self.dec1 = double_conv(BASE * 2, BASE)
        self.head = nn.Conv2d(BASE, CLASSES, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        m = self.mid(self.pool(e2))
        d2 = self.dec2(torch.cat((self.up2(m), e2), dim=1))
        d1 = self.dec1(torch.cat((self.up1(d2), e1), dim=1))
        return self.head(d1)
