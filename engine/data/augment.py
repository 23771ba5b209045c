"""Image augmentation applied to training batches on the device: random flips, random crops
after zero padding, and Gaussian noise. Masks and reconstruction targets of the same height
and width get the same flips and crops as their images (never the noise)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.data.registry import DataError


@dataclass(frozen=True)
class Augment:
    flip: str = "none"            # none, horizontal, vertical, both
    crop_padding: int = 0
    noise: float = 0.0
    image_inputs: tuple[int, ...] = ()
    paired_targets: tuple[int, ...] = ()
    noisy_inputs: tuple[int, ...] = ()

    @property
    def geometric(self) -> bool:
        return self.flip != "none" or self.crop_padding > 0

    @property
    def active(self) -> bool:
        return self.geometric or (self.noise > 0 and bool(self.noisy_inputs))

    def apply(self, inputs: tuple[torch.Tensor, ...], targets: tuple[torch.Tensor, ...],
              gen: torch.Generator) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        """A transformed copy of one batch; `gen` is a CPU generator (the run's seed)."""
        xs, ys = list(inputs), list(targets)
        n = xs[0].shape[0]
        spatial = [("x", i) for i in self.image_inputs] + [("y", i) for i in self.paired_targets]

        def update(fn) -> None:
            for side, i in spatial:
                group = xs if side == "x" else ys
                group[i] = fn(group[i])

        device = xs[0].device
        for axis, kind in ((-1, "horizontal"), (-2, "vertical")):
            if self.flip in (kind, "both") and spatial:
                chosen = (torch.rand(n, generator=gen) < 0.5).to(device, non_blocking=True)

                def flip(t: torch.Tensor, chosen=chosen, axis=axis) -> torch.Tensor:
                    return torch.where(chosen.view(-1, *([1] * (t.dim() - 1))), t.flip(axis), t)

                update(flip)
        if self.crop_padding and spatial:
            p = self.crop_padding
            oy = torch.randint(0, 2 * p + 1, (n,), generator=gen).to(device, non_blocking=True)
            ox = torch.randint(0, 2 * p + 1, (n,), generator=gen).to(device, non_blocking=True)
            update(lambda t: random_crop(t, p, oy, ox))
        if self.noise > 0:
            for i in self.noisy_inputs:
                noise = torch.randn(xs[i].shape, generator=gen).to(device, non_blocking=True)
                xs[i] = xs[i] + noise.to(xs[i].dtype) * self.noise
        return tuple(xs), tuple(ys)


def random_crop(t: torch.Tensor, p: int, oy: torch.Tensor, ox: torch.Tensor) -> torch.Tensor:
    """Zero-pad the last two dims by p and cut out the original size at per-sample offsets."""
    shape = t.shape
    h, w = shape[-2], shape[-1]
    flat = t.reshape(shape[0], -1, h, w)
    padded = F.pad(flat, (p, p, p, p))
    rows = (oy[:, None] + torch.arange(h, device=t.device))[:, :, None]       # (N, H, 1)
    cols = (ox[:, None] + torch.arange(w, device=t.device))[:, None, :]       # (N, 1, W)
    index = torch.arange(shape[0], device=t.device)[:, None, None]
    cropped = padded[index, :, rows, cols]                                     # (N, H, W, C')
    return cropped.permute(0, 3, 1, 2).reshape(shape)


def build_augment(options: dict | None, input_shapes: list[tuple[int, ...]], input_dtypes: list[str],
                  target_shapes: list[tuple[int, ...]], input_names: list[str]) -> Augment | None:
    """Check `data.augment` against the graph's inputs and decide what each option touches."""
    if not options:
        return None
    images = tuple(i for i, (s, d) in enumerate(zip(input_shapes, input_dtypes)) if len(s) == 3 and d == "float32")
    noisy = tuple(i for i, d in enumerate(input_dtypes) if d == "float32")
    flip, pad, noise = options["flip"], options["crop_padding"], options["noise"]
    if (flip != "none" or pad) and not images:
        shapes = ", ".join(f"{n} {tuple(s)}" for n, s in zip(input_names, input_shapes))
        raise DataError(f"data.augment: flips and crops need an image Input (channels, height, width); "
                        f"the graph's inputs are {shapes}")
    if noise and not noisy:
        raise DataError("data.augment.noise: every Input takes int64 token ids; noise needs float inputs")
    hw = input_shapes[images[0]][-2:] if images else None
    paired = tuple(i for i, s in enumerate(target_shapes) if hw is not None and len(s) >= 2 and tuple(s[-2:]) == hw)
    augment = Augment(flip, pad, noise, images, paired, noisy)
    return augment if augment.active else None
