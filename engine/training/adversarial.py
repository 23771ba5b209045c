"""Adversarial training (`training.mode: "gan"`, DESIGN §9), the second training program.

The design holds two separate networks (engine.training.gan_design): the generator, noise Input ->
... -> Output `training.generator`, and the discriminator, data Input -> ... -> Output
`training.discriminator` (one logit per sample). The trainer builds the whole design's module as
for any run (model.py, weights.safetensors and checkpoints hold both networks); this program
builds each network's own generated module and gives it the whole model's very submodules, so
`generator(z)` and `discriminator(x)` run on the same parameters that the trainer saves.

A batch of real samples is one discriminator step; every `d_steps`-th batch is also a generator
step. Losses: `bce` (the non-saturating one: D minimises softplus(-D(x)) + softplus(D(G(z))), G
minimises softplus(-D(G(z)))) or `hinge`. The step's loss (the Step events, `train_loss`) is the
discriminator's; the metrics are both losses and D's mean output on real and on generated samples,
and, for 2-D data whose modes are known (gaussian_ring), the modes covered and the samples' quality.
With fp16 mixed precision each optimiser has its own GradScaler (the two losses have their own
scales and overflow apart); bf16 and full precision need none. Both are in the checkpoint.
After each epoch a fixed noise batch is run through the generator (eval mode) and sent as a
`Samples` event; the run folder saves it as samples/epoch_NNN.png.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.training.checkpoint import save_weights
from engine.training.events import Samples, TrainingError
from engine.training.gan_design import GanDesign, GanDesignError, split_gan
from engine.training.optim import build_optimizer
from engine.training.program import TrainingProgram

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

GENERATOR_CODE = "generator.py"
GENERATOR_WEIGHTS = "generator.safetensors"
IMAGE_SAMPLES = 64               # the fixed noise batch: an 8 x 8 grid of images...
POINT_SAMPLES = 1000             # ...or enough points that 1 % of them (a covered mode) is 10
REAL_POINTS = 1000               # real points behind the scatter
METRICS = ("d_loss", "g_loss", "d_real", "d_fake")
MODE_METRICS = ("modes", "quality")


def gan_design(trainer: Trainer) -> GanDesign:
    """The two networks of the trainer's design, or a TrainingError naming what is wrong."""
    s = trainer.settings
    try:
        return split_gan(trainer.project, s.generator, s.discriminator, trainer.analysis)
    except GanDesignError as exc:
        raise TrainingError(str(exc), "settings") from None


def share_modules(sub: torch.nn.Module, whole: torch.nn.Module) -> torch.nn.Module:
    """`sub` (a network's own generated module) running on `whole`'s submodules, parameters and
    buffers of the same names (node ids), so that both are one set of weights."""
    for name, _ in list(sub.named_children()):
        setattr(sub, name, getattr(whole, name))
    for name, _ in list(sub.named_parameters(recurse=False)):
        setattr(sub, name, getattr(whole, name))
    for name, _ in list(sub.named_buffers(recurse=False)):
        sub.register_buffer(name, getattr(whole, name))
    return sub


def mode_coverage(points: np.ndarray, centres: np.ndarray, std: float) -> tuple[int, float]:
    """(modes covered, quality) as DESIGN §9 defines them: a mode is covered when at least 1 % of the
    samples lie within 3 std of its centre; the quality is the fraction within 3 std of some centre."""
    near = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2) <= 3.0 * std
    covered = int((near.sum(axis=0) >= 0.01 * len(points)).sum())
    return covered, float(near.any(axis=1).mean()) if len(points) else 0.0


def build_networks(trainer: Trainer, design: GanDesign) -> tuple[torch.nn.Module, torch.nn.Module]:
    from engine.codegen import build_model

    generator = share_modules(build_model(design.generator), trainer.model)
    discriminator = share_modules(build_model(design.discriminator), trainer.model)
    return generator, discriminator


class Adversarial(TrainingProgram):
    """A generator and a discriminator, each with its own optimiser, trained against each other."""

    def __init__(self, trainer: Trainer):
        super().__init__(trainer)
        s = self.settings = trainer.settings
        self.design = design = trainer.gan
        device = trainer.device.device
        self.generator, self.discriminator = build_networks(trainer, design)
        g_params = [p for p in self.generator.parameters() if p.requires_grad]
        d_params = [p for p in self.discriminator.parameters() if p.requires_grad]
        for params, what in ((g_params, "generator"), (d_params, "discriminator")):
            if not params:
                raise TrainingError(f"nothing to train in the {what}: it has no trainable parameters", "settings")
        self.g_optimizer = build_optimizer(g_params, s.replace(
            learning_rate=s.generator_learning_rate or s.learning_rate), device)
        self.d_optimizer = build_optimizer(d_params, s.replace(
            learning_rate=s.discriminator_learning_rate or s.learning_rate), device)
        self.hinge = s.gan_loss == "hinge"
        self._autocast = trainer.autocast()
        fp16 = trainer.amp_dtype == torch.float16
        self.g_scaler = torch.amp.GradScaler(trainer.device.type) if fp16 else None
        self.d_scaler = torch.amp.GradScaler(trainer.device.type) if fp16 else None
        self.noise_shape = design.noise_shape
        self.sample_shape = design.sample_shape
        info = trainer.data.info
        self.points = self.sample_shape == (2,)
        self.centres = np.asarray(info["modes"], dtype=np.float64) if self.points and "modes" in info else None
        self.mode_std = float(info.get("mode_std", 0.0))
        # the fixed noise batch, drawn from its own generator so that it is the same in every run of the seed
        fixed = torch.Generator().manual_seed(trainer.seed)
        count = POINT_SAMPLES if self.points else IMAGE_SAMPLES
        self.fixed_noise = torch.randn((count, *self.noise_shape), generator=fixed).to(device)
        real = trainer.val_split or trainer.train_split
        self.real_points = real.inputs[0][:REAL_POINTS].float().cpu().numpy() if self.points else None
        self.totals: torch.Tensor | None = None
        self.g_loss = torch.zeros((), device=device)
        self.last: Samples | None = None

    # -- set up ------------------------------------------------------------------------------
    def metric_names(self) -> list[str]:
        return list(METRICS) + (list(MODE_METRICS) if self.centres is not None else [])

    def probe(self, real: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The whole model's inputs for the telemetry probe: noise and real samples in Input order."""
        x = real[0]
        noise = torch.randn((x.shape[0], *self.noise_shape), generator=torch.Generator().manual_seed(1)).to(x.device)
        by_id = {self.design.noise: noise, self.design.data: x}
        return tuple(by_id[n.id] for n in self.trainer.project.graph.inputs())

    def restore(self, checkpoint: dict[str, Any]) -> list[str]:
        try:
            self.g_optimizer.load_state_dict(checkpoint["g_optimizer"])
            self.d_optimizer.load_state_dict(checkpoint["d_optimizer"])
        except (ValueError, KeyError):
            return ["the optimizers changed since the checkpoint; their state starts afresh"]
        for scaler, key in ((self.g_scaler, "g_scaler"), (self.d_scaler, "d_scaler")):
            if scaler is not None and checkpoint.get(key):
                scaler.load_state_dict(checkpoint[key])
        return []

    def state(self) -> dict[str, Any]:
        return {"g_optimizer": self.g_optimizer.state_dict(), "d_optimizer": self.d_optimizer.state_dict(),
                "g_scaler": self.g_scaler.state_dict() if self.g_scaler is not None else None,
                "d_scaler": self.d_scaler.state_dict() if self.d_scaler is not None else None}

    @property
    def lr(self) -> float:
        return self.g_optimizer.param_groups[0]["lr"]

    # -- an epoch ----------------------------------------------------------------------------
    def begin_epoch(self) -> None:
        # sums of d_loss, g_loss, d_real, d_fake (sample-weighted) and the samples of D and G steps
        self.totals = torch.zeros(6, device=self.trainer.device.device)

    def _noise(self, n: int, like: torch.Tensor) -> torch.Tensor:
        return torch.randn((n, *self.noise_shape), device=like.device, dtype=torch.float32)

    def _fake(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z).reshape(z.shape[0], *self.sample_shape)

    def _score(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x).reshape(x.shape[0]).float()

    def _run(self, fn, *args):
        if self._autocast is None:
            return fn(*args)
        with self._autocast():
            return fn(*args)

    def _update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer,
                scaler: torch.amp.GradScaler | None, sample: bool) -> None:
        """Backward and one optimiser step, through the player's GradScaler under fp16 (the sampled
        gradient norms are the unscaled ones)."""
        if scaler is None:
            loss.backward()
            if sample:
                self.trainer.sample_gradients()
            optimizer.step()
            return
        scaler.scale(loss).backward()
        if sample:
            scaler.unscale_(optimizer)
            self.trainer.sample_gradients()
        scaler.step(optimizer)
        scaler.update()

    def step(self, xs: tuple[torch.Tensor, ...], ys: tuple[torch.Tensor, ...], batch_index: int,
             sample: bool) -> tuple[torch.Tensor, float]:
        real = xs[0]
        n = real.shape[0]
        g_turn = batch_index % self.settings.d_steps == 0
        # the discriminator: real samples up, generated ones down
        with torch.no_grad():
            fake = self._run(self._fake, self._noise(n, real))
        d_real = self._run(self._score, real)
        d_fake = self._run(self._score, fake)
        if self.hinge:
            d_loss = F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
        else:
            d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        self.d_optimizer.zero_grad(set_to_none=True)
        self._update(d_loss, self.d_optimizer, self.d_scaler, sample and not g_turn)
        if g_turn:  # the generator: make the discriminator call its samples real
            scores = self._run(self._score, self._run(self._fake, self._noise(n, real)))
            g_loss = -scores.mean() if self.hinge else F.softplus(-scores).mean()
            self.g_optimizer.zero_grad(set_to_none=True)
            self._update(g_loss, self.g_optimizer, self.g_scaler, sample)
            self.d_optimizer.zero_grad(set_to_none=True)   # G's backward reached D's weights too
            self.g_loss = g_loss.detach()
        with torch.no_grad():
            seen = (d_real, d_fake) if self.hinge else (torch.sigmoid(d_real), torch.sigmoid(d_fake))
            self.totals += torch.stack([d_loss.detach() * n, self.g_loss * n if g_turn else self.g_loss * 0,
                                        seen[0].sum(), seen[1].sum(), real.new_tensor(float(n)),
                                        real.new_tensor(float(n if g_turn else 0))])
        return d_loss, self.d_optimizer.param_groups[0]["lr"]

    def train_metrics(self) -> dict[str, float]:
        d_sum, g_sum, real_sum, fake_sum, d_count, g_count = self.totals.cpu().tolist()
        metrics = {"d_loss": d_sum / max(d_count, 1), "g_loss": g_sum / max(g_count, 1),
                   "d_real": real_sum / max(d_count, 1), "d_fake": fake_sum / max(d_count, 1)}
        self.last = self._samples()
        if self.last.modes is not None:
            metrics.update(modes=float(self.last.modes), quality=self.last.quality)
        return metrics

    @torch.no_grad()
    def _samples(self) -> Samples:
        """The fixed noise batch through the generator (eval mode), with its mode coverage."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            out = self._run(self._fake, self.fixed_noise).float().cpu().numpy()
        finally:
            self.generator.train(was_training)
        trainer = self.trainer
        if self.centres is None:
            return Samples(trainer.epoch, trainer.global_step, out, self.real_points)
        modes, quality = mode_coverage(out, self.centres, self.mode_std)
        return Samples(trainer.epoch, trainer.global_step, out, self.real_points, modes, len(self.centres), quality)

    def validate(self) -> tuple[float | None, dict[str, float]]:
        return None, {}

    def end_epoch(self, watched: float) -> None:
        if self.last is not None:
            self.trainer.emit(self.last)

    # -- the run folder ----------------------------------------------------------------------
    def write_files(self, out_dir: Path) -> dict[str, str]:
        """generator.py (DESIGN §5, the generator alone) and generator.safetensors, which loads into it."""
        from engine.codegen import generate_code
        from graph.files import write_atomic

        write_atomic(out_dir / GENERATOR_CODE, generate_code(self.design.generator))
        save_weights(out_dir / GENERATOR_WEIGHTS, self.generator.state_dict(),
                     metadata={"format": "layerloom-weights", "project": self.design.generator.name})
        return {"generator": GENERATOR_CODE, "generator_weights": GENERATOR_WEIGHTS}
