"""What makes a run fast on an accelerator without changing what it computes: the CUDA math
modes, torch.compile with a fallback, and reading step losses without waiting for the device.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch


def configure_cuda(tf32: bool) -> None:
    """TensorFloat-32 for float32 matrix products and convolutions (`training.tf32`, on by default, as
    cuDNN already does for convolutions), and cuDNN's autotuner: a run's batch shapes are fixed, so
    the fastest algorithm found for each on its first step is reused every step after."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True


def compiled(model: torch.nn.Module) -> Callable[..., Any]:
    """torch.compile's wrapper of the model, specialised to the shapes it meets (`dynamic=False`):
    a run meets few (the training batch, the validation batch and its last part), and a graph made
    for any batch size after a second size is seen is slower for all of them."""
    return torch.compile(model, dynamic=False)


class CompiledForward:
    """The compiled model, or the model itself from the first call where compiling fails (a call
    may compile anew: train and eval, another batch size); `on_fallback` gets the reason once."""

    def __init__(self, model: torch.nn.Module, compiled_forward: Callable[..., Any],
                 on_fallback: Callable[[str], None]):
        self.model, self.compiled, self.on_fallback = model, compiled_forward, on_fallback

    def __call__(self, *args: torch.Tensor) -> Any:
        if self.compiled is None:
            return self.model(*args)
        try:
            return self.compiled(*args)
        except Exception as exc:
            if _out_of_memory(exc):
                raise
            self.compiled = None
            self.on_fallback(f"torch.compile failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                             "running eagerly")
            return self.model(*args)


def _out_of_memory(exc: BaseException) -> bool:
    from engine.training.device import is_out_of_memory

    return is_out_of_memory(exc)


class LossReadings:
    """The losses of the steps since the last Step event. On the CPU each is read at once (free
    there); on an accelerator they stay on the device and are copied to the host in one
    non-blocking transfer when an event is due, and read at the next due time, when the copy has
    long finished: the host never waits for the device in the middle of an epoch."""

    def __init__(self, immediate: bool):
        self.immediate = immediate
        self.losses: list = []          # floats (immediate) or 0-d device tensors
        self.lrs: list[float] = []
        self.sizes: list[int] = []
        self._copy: tuple[torch.Tensor, Any, list[float], list[int], int] | None = None

    def add(self, loss: torch.Tensor, lr: float, size: int) -> float | None:
        """Log one step; returns its loss read at once (immediate mode), else None."""
        self.lrs.append(lr)
        self.sizes.append(size)
        if self.immediate:
            value = loss.item()
            self.losses.append(value)
            return value
        self.losses.append(loss.detach())
        return None

    def take(self, step: int, wait: bool) -> tuple[list[float], list[float], list[int], int] | None:
        """The steps whose losses can be read now: (losses, learning rates, batch sizes, the global
        step of the last); `wait` reads every step logged so far (an epoch's end), else those copied
        at the previous call (None while that copy is unfinished or there was none) and starts
        copying the rest."""
        if self.immediate:
            if not self.losses:
                return None
            out = (self.losses, self.lrs, self.sizes, step)
            self.losses, self.lrs, self.sizes = [], [], []
            return out
        ready = None
        if self._copy is not None and (wait or self._copy[1].query()):
            host, event, lrs, sizes, last = self._copy
            event.synchronize()
            ready = (host.tolist(), lrs, sizes, last)
            self._copy = None
        if self.losses and self._copy is None:
            values = torch.stack(self.losses).float()
            host = values.to("cpu", non_blocking=True)
            event = torch.cuda.Event() if values.is_cuda else None
            if event is not None:
                event.record()
            else:   # MPS, or the CPU in tests: nothing to overlap
                event = _Done()
            self._copy = (host, event, self.lrs, self.sizes, step)
            self.losses, self.lrs, self.sizes = [], [], []
            if wait:
                more = self.take(step, True)
                if ready is None:
                    return more
                return (ready[0] + more[0], ready[1] + more[1], ready[2] + more[2], more[3])
        return ready


class _Done:
    @staticmethod
    def query() -> bool:
        return True

    @staticmethod
    def synchronize() -> None:
        return None


def first_non_finite(values: list[float]) -> int | None:
    for k, v in enumerate(values):
        if not math.isfinite(v):
            return k
    return None
