"""Choosing the device a run uses: `auto`, `cpu`, `cuda`, `cuda:K` or `mps`.

`auto` picks the best device present (CUDA, then Apple's MPS, then the CPU). Asking for a
device this machine does not have is a `TrainingError(reason="device")` whose message says
what the machine does have.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.data import Prepared, Split
from engine.training.events import TrainingError
from engine.training.settings import DEVICE_HELP, parse_device_spec


@dataclass(frozen=True)
class DeviceInfo:
    device: torch.device
    name: str            # what to show: "CPU (2 threads)", "NVIDIA H100 80GB HBM3"

    @property
    def type(self) -> str:
        return self.device.type

    def __str__(self) -> str:
        return str(self.device)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[DeviceInfo]:
    """Every device this machine can train on, best first (the GUI's device box lists these)."""
    found = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            found.append(DeviceInfo(torch.device("cuda", i), torch.cuda.get_device_name(i)))
    if _mps_available():
        found.append(DeviceInfo(torch.device("mps"), "Apple MPS"))
    found.append(DeviceInfo(torch.device("cpu"), f"CPU ({torch.get_num_threads()} threads)"))
    return found


def _cuda_absent_reason() -> str:
    if torch.version.cuda is None:
        return f"this PyTorch ({torch.__version__}) was built without CUDA"
    return "no CUDA device was found (check the driver and CUDA_VISIBLE_DEVICES)"


def resolve_device(spec: str) -> DeviceInfo:
    parsed = parse_device_spec(spec)
    if parsed is None:
        raise TrainingError(f"device {spec!r} is not a device; use {DEVICE_HELP}", reason="device")
    kind, index = parsed
    if kind == "auto":
        return available_devices()[0]
    if kind == "cpu":
        return DeviceInfo(torch.device("cpu"), f"CPU ({torch.get_num_threads()} threads)")
    if kind == "mps":
        if not _mps_available():
            raise TrainingError("device 'mps' was asked for, but Apple's MPS is not available on this machine; "
                                "use --device cpu or auto", reason="device")
        return DeviceInfo(torch.device("mps"), "Apple MPS")
    if not torch.cuda.is_available():
        raise TrainingError(f"device {spec!r} was asked for, but {_cuda_absent_reason()}; "
                            "use --device cpu or auto", reason="device")
    count = torch.cuda.device_count()
    index = 0 if index is None else index
    if index >= count:
        names = ", ".join(f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(count))
        raise TrainingError(f"device 'cuda:{index}' was asked for, but this machine has {count} CUDA "
                            f"device(s): {names}", reason="device")
    return DeviceInfo(torch.device("cuda", index), torch.cuda.get_device_name(index))


def autocast_dtype(precision: str, device: DeviceInfo) -> torch.dtype | None:
    """The autocast dtype for a `mixed_precision` setting on a device, or None for full precision."""
    if precision == "off":
        return None
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16":
        if device.type != "cuda":
            raise TrainingError(f"training.mixed_precision 'fp16' needs a CUDA device, but the run uses "
                                f"{device.device}; use 'bf16', 'auto' or 'off'", reason="settings")
        return torch.float16
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise TrainingError(f"training.mixed_precision 'bf16' is not supported by {device.name}; "
                            "use 'fp16' or 'auto'", reason="settings")
    if device.type == "mps":
        raise TrainingError("training.mixed_precision 'bf16' is not supported on MPS; use 'off'", reason="settings")
    return torch.bfloat16


DEVICE_DATA_SHARE = 0.5         # data sets up to this share of the GPU's free memory are moved there once
MPS_DATA_LIMIT = 2 << 30        # MPS reports no free memory: a fixed limit there


def device_data_budget(device: torch.device) -> int:
    """How many bytes of data go to the accelerator once (the rest stays in host memory): a share of
    what the device reports free now, after the model is on it, leaving room for activations."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * DEVICE_DATA_SHARE)
    return MPS_DATA_LIMIT if device.type == "mps" else 0


def place_splits(data: Prepared, device: torch.device) -> tuple[Split, Split | None]:
    """The training and validation splits where a run reads them: on the accelerator when they fit
    (moved once), else where they are (host memory: batches are gathered into pinned buffers by
    engine.data.loader, so the data set itself is never copied or pinned whole)."""
    if device.type == "cpu":
        return data.train, data.val
    total_bytes = data.train.nbytes() + (data.val.nbytes() if data.val else 0)
    if total_bytes <= device_data_budget(device):
        return data.train.to(device), data.val.to(device) if data.val else None
    return data.train, data.val


OOM_ERRORS = (torch.cuda.OutOfMemoryError,) + ((torch.OutOfMemoryError,) if hasattr(torch, "OutOfMemoryError") else ())


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, OOM_ERRORS):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                              or "DefaultCPUAllocator" in text)
