"""Packages that name their parts without importing them (PEP 562).

`engine.training` and `engine.data` re-export their trainer and data loaders, which import
torch; a module that wants only the declarations (`engine.training.settings`, the keys the
training panel reads) must be importable without paying for torch, so a package's `__init__`
imports each name's module the first time the name is asked for.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> tuple[Callable[[str], Any],
                                                                             Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`, whose names live in submodules:
    {"engine.training.trainer": ("Trainer",), ...}."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name]), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
