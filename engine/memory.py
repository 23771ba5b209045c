"""How much memory this machine can give us now, for refusing work that cannot fit (DESIGN §8)."""
from __future__ import annotations

import os


def available_bytes(device=None) -> int | None:
    """Memory a new allocation can have on `device` (a torch.device; None or a CPU: main memory,
    from MemAvailable on Linux, else free physical pages), or None when it cannot be told."""
    if device is not None and device.type == "cuda":
        import torch

        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError):
            return None
    if device is not None and device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
