"""Telemetry: sampled at a bounded rate; gradient norms, weight histograms and activations
computed per node as a hand computation gives them."""
import math

import torch
from torch import nn

from engine.training.settings import Telemetry
from engine.training.telemetry import Sampler, group_parameters


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 20, 3, padding=1)
        self.act = nn.ReLU()
        self.flat = nn.Flatten()
        self.fc = nn.Linear(20 * 40 * 40, 3)

    def forward(self, x):
        return self.fc(self.flat(self.act(self.conv(x))))


def sampler(settings=None, clock=None, probe=None):
    torch.manual_seed(0)
    model = Net()
    probe = probe if probe is not None else torch.randn(4, 1, 40, 40)
    kw = {"clock": clock} if clock else {}
    return model, Sampler(model, ["x", "conv", "act", "flat", "fc", "y"], settings or Telemetry(), (probe,),
                          ["x"], **kw)


def test_due_respects_steps_and_rate():
    now = [0.0]
    _, s = sampler(Telemetry(every_steps=3, max_hz=2.0), clock=lambda: now[0])
    assert s.due(1)
    assert not s.due(2) and not s.due(3)          # too few steps
    assert not s.due(4)                           # enough steps, too soon
    now[0] = 0.6
    assert s.due(5) and not s.due(9)
    _, off = sampler(Telemetry(enabled=False))
    assert not off.due(1)


def test_gradient_norms_per_node():
    model, s = sampler()
    model(torch.randn(2, 1, 40, 40)).sum().backward()
    event = s.gradient_norms(1, 1)
    conv = math.sqrt(model.conv.weight.grad.norm() ** 2 + model.conv.bias.grad.norm() ** 2)
    assert set(event.norms) == {"conv", "fc"}
    assert math.isclose(event.norms["conv"], conv, rel_tol=1e-5)
    total = math.sqrt(sum(p.grad.norm() ** 2 for p in model.parameters()))
    assert math.isclose(event.total, total, rel_tol=1e-5)


def test_weight_histograms_cover_weights_not_biases_and_sample_big_layers():
    model, s = sampler()
    event = s.weight_stats(1, 1)
    conv = event.layers["conv"]
    assert conv.counts.sum() == model.conv.weight.numel() and len(conv.counts) == 32
    assert math.isclose(conv.mean, float(model.conv.weight.detach().mean()), rel_tol=1e-4)
    assert math.isclose(conv.norm, float(model.conv.weight.detach().norm()), rel_tol=1e-5)
    fc = event.layers["fc"]
    assert fc.counts.sum() <= 1 << 16 < model.fc.weight.numel()  # a strided sample of a big layer


def test_activations_with_feature_maps_and_dead_units():
    model, s = sampler(Telemetry(max_feature_maps=5))
    event = s.activations(1, 1)
    assert model.training  # restored after the probe pass
    conv = event.nodes["conv"]
    assert conv.shape == (20, 40, 40) and conv.sample.shape == (5, 32, 32)
    act = event.nodes["act"]
    assert act.low >= 0 and 0 < act.zero_fraction < 1 and 0 <= act.dead_fraction < 1
    assert event.nodes["fc"].sample.shape == (3,) and "x" in event.nodes
    assert not model.conv._forward_hooks  # hooks live only for the probe pass
    with torch.no_grad():
        model.conv.bias.fill_(-100.0)
    assert s.activations(1, 2).nodes["act"].dead_fraction == 1.0


def test_group_parameters_by_node():
    model, _ = sampler()
    groups = group_parameters(model, ["conv", "fc", "act"])
    assert set(groups) == {"conv", "fc"} and [n for n, _ in groups["conv"]] == ["conv.weight", "conv.bias"]
