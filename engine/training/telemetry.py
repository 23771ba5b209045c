"""Live statistics of a run, sampled on the device at a bounded rate.

At most one sample per `every_steps` optimiser steps and per 1/`max_hz` seconds, a sample
computes, on the device where the model lives, per node: weight histograms, gradient norms
(after backward, before clipping), and the activations of a fixed probe batch (an extra
forward pass with hooks attached only for that pass). Each sample crosses to the CPU in a
few small transfers, so the cost per sample is a few small kernels and the cost per
training step is one comparison.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.training.events import Activations, ActivationSample, GradientNorms, Histogram, WeightStats
from engine.training.settings import Telemetry

MAX_HISTOGRAM_VALUES = 1 << 16


def group_parameters(model: torch.nn.Module, node_ids: Sequence[str]) -> dict[str, list[tuple[str, torch.nn.Parameter]]]:
    """Each node's parameters, by the first part of their names (submodules are named by node id)."""
    groups: dict[str, list[tuple[str, torch.nn.Parameter]]] = {n: [] for n in node_ids}
    for name, p in model.named_parameters():
        node = name.split(".", 1)[0]
        if node in groups:
            groups[node].append((name, p))
    return {n: ps for n, ps in groups.items() if ps}


def _weight_tensors(params: list[tuple[str, torch.nn.Parameter]]) -> list[torch.Tensor]:
    weights = [p for name, p in params if "weight" in name.rsplit(".", 1)[-1]]
    return weights or [p for _, p in params]


def _sampled(tensors: list[torch.Tensor], limit: int = MAX_HISTOGRAM_VALUES) -> torch.Tensor:
    """All values of the tensors, or an evenly strided sample of them when there are many."""
    total = sum(t.numel() for t in tensors)
    stride = max(1, math.ceil(total / limit))
    return torch.cat([t.detach().reshape(-1)[::stride] for t in tensors]).float()


def _histograms(values: list[torch.Tensor], bins: int) -> list[tuple[np.ndarray, float, float, float, float]]:
    """(counts, low, high, mean, std) per value tensor, with two device-to-host transfers in all."""
    if not values:
        return []
    if values[0].device.type == "mps":  # histc has no MPS kernel everywhere; these are small
        values = [v.cpu() for v in values]
    summary = torch.stack([torch.stack([*torch.aminmax(v), *reversed(torch.std_mean(v, correction=0))])
                           for v in values]).cpu().tolist()
    counts = []
    for v, (lo, hi, _, _) in zip(values, summary):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            counts.append(torch.zeros(bins, device=v.device))
            continue
        if hi <= lo:
            hi = lo + 1e-6
        counts.append(torch.histc(v, bins=bins, min=lo, max=hi))
    counts_cpu = torch.stack(counts).cpu().numpy().astype(np.int64)
    return [(c, s[0], s[1] if s[1] > s[0] else s[0] + 1e-6, s[2], s[3]) for c, s in zip(counts_cpu, summary)]


def _small(sample: torch.Tensor, max_maps: int) -> np.ndarray:
    """One sample's output made small enough to send to a plot."""
    x = sample.detach().float()
    if x.dim() == 3:       # feature maps (C, H, W)
        x = x[:max_maps]
        if x.shape[-2] > 32 or x.shape[-1] > 32:
            x = F.adaptive_avg_pool2d(x[None], (min(32, x.shape[-2]), min(32, x.shape[-1])))[0]
    elif x.dim() == 2:     # a sequence (L, E)
        x = x[:64, :64]
    elif x.dim() == 1:
        x = x[:256]
    else:
        x = x.reshape(-1)[:256]
    return x.cpu().numpy().astype(np.float32)


class Sampler:
    """Decides when to sample and computes the telemetry events."""

    def __init__(self, model: torch.nn.Module, node_ids: Sequence[str], settings: Telemetry,
                 probe: tuple[torch.Tensor, ...] | None, input_ids: Sequence[str],
                 forward: Callable[..., object] | None = None, clock: Callable[[], float] = time.perf_counter):
        self.model, self.settings, self.probe = model, settings, probe
        self.input_ids = list(input_ids)
        self.groups = group_parameters(model, node_ids)
        children = dict(model.named_children())
        self.modules = {n: children[n] for n in node_ids if n in children}
        self.forward = forward or model
        self.clock = clock
        self.period = 1.0 / settings.max_hz
        self.last_step = -10**9
        self.last_time = -math.inf

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def due(self, step: int) -> bool:
        """Whether this step is sampled; called once per step, so it must be cheap."""
        if not self.settings.enabled or step - self.last_step < self.settings.every_steps:
            return False
        now = self.clock()
        if now - self.last_time < self.period:
            return False
        self.last_step, self.last_time = step, now
        return True

    # -- gradients -------------------------------------------------------------------------
    @torch.no_grad()
    def gradient_norms(self, epoch: int, step: int) -> GradientNorms | None:
        nodes, grads, owners = [], [], []
        for node, params in self.groups.items():
            gs = [p.grad for _, p in params if p.grad is not None]
            if gs:
                nodes.append(node)
                owners.extend([len(nodes) - 1] * len(gs))
                grads.extend(gs)
        if not grads:
            return None
        norms = torch.stack([n.float() for n in torch._foreach_norm(grads)])
        per_node = torch.zeros(len(nodes), device=norms.device).index_add_(
            0, torch.tensor(owners, device=norms.device), norms * norms).sqrt()
        values = torch.cat([per_node, (norms * norms).sum().sqrt()[None]]).cpu().tolist()
        return GradientNorms(epoch, step, dict(zip(nodes, values[:-1])), values[-1])

    # -- weights ---------------------------------------------------------------------------
    @torch.no_grad()
    def weight_stats(self, epoch: int, step: int) -> WeightStats:
        nodes = list(self.groups)
        tensors = [_weight_tensors(self.groups[n]) for n in nodes]
        norms = torch.stack([torch.stack([t.detach().float().norm() for t in ts]).norm() for ts in tensors]).cpu().tolist() \
            if nodes else []
        hists = _histograms([_sampled(ts) for ts in tensors], self.settings.bins)
        layers = {n: Histogram(c, lo, hi, mean, std, norm)
                  for n, (c, lo, hi, mean, std), norm in zip(nodes, hists, norms)}
        return WeightStats(epoch, step, layers)

    # -- activations -----------------------------------------------------------------------
    @torch.no_grad()
    def activations(self, epoch: int, step: int, autocast=None) -> Activations | None:
        if self.probe is None or not self.settings.activations:
            return None
        captured: dict[str, torch.Tensor] = {}

        def hook_for(node: str):
            def hook(module, args, output):
                value = output[0] if isinstance(output, (tuple, list)) else output
                if isinstance(value, torch.Tensor):
                    captured[node] = value.detach()
            return hook

        handles = [m.register_forward_hook(hook_for(n)) for n, m in self.modules.items()]
        was_training = self.model.training
        self.model.eval()
        try:
            if autocast is not None:
                with autocast():
                    self.model(*self.probe)
            else:
                self.model(*self.probe)
        finally:
            for h in handles:
                h.remove()
            self.model.train(was_training)
        values = {i: x for i, x in zip(self.input_ids, self.probe) if x.is_floating_point()}
        values.update(captured)
        names = list(values)
        flats = [values[n].float().reshape(values[n].shape[0], -1) for n in names]
        if not flats:
            return None
        counts = torch.stack([torch.stack([torch.count_nonzero(f), torch.count_nonzero(f.amax(0) > 0)])
                              for f in flats]).cpu().tolist()
        extra = [(1.0 - nonzero / f.numel(), 1.0 - alive / f.shape[1]) for (nonzero, alive), f in zip(counts, flats)]
        hists = _histograms([_sampled([f]) for f in flats], self.settings.bins)
        nodes = {}
        for n, (counts, lo, hi, mean, std), (zero, dead) in zip(names, hists, extra):
            x = values[n]
            nodes[n] = ActivationSample(tuple(x.shape[1:]), mean, std, lo, hi, zero, dead, counts,
                                        _small(x[0], self.settings.max_feature_maps))
        return Activations(epoch, step, nodes)
