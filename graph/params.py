"""Parameter declarations and the one place that checks a parameter value.

A `Param` is data: the palette, the property editor, the file loader, codegen and
the docs all read it. `Param.check(value)` turns a value from a file or an editor
into the canonical Python value, or raises `ParamError` with a message a user can act on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

KINDS = ("int", "float", "bool", "choice", "ints", "size", "padding", "str")


class ParamError(ValueError):
    """A parameter value that cannot be used; the message says what is expected."""


@dataclass(frozen=True)
class Param:
    """One constructor argument of a layer type.

    kind:
      int, float, bool, choice (one of `choices`), str,
      ints    a list of ints (shapes, permutations); `min_len`/`max_len` bound its length,
      size    an int or a list of `dims` ints (kernel_size, stride, ...),
      padding like size, or "same"/"valid".
    `minimum`/`maximum` bound each number. `optional` admits None (JSON null).
    `ctor=False` marks a LayerLoom-only setting that is not a torch constructor argument.
    `advanced` parameters are folded away in the property editor.
    """

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    dims: int = 1
    min_len: int = 0
    max_len: int | None = None
    optional: bool = False
    allow_minus_one: bool = False
    ctor: bool = True
    advanced: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    # -- checking ---------------------------------------------------------------------
    def check(self, value: Any) -> Any:
        """Return the canonical form of `value` or raise ParamError."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"'{self.name}' needs a value ({self.expected()})")
        return getattr(self, f"_check_{self.kind}")(value)

    def expected(self) -> str:
        """A short phrase describing the accepted values, for messages and tooltips."""
        rng = self._range_text()
        return {
            "int": f"a whole number{rng}",
            "float": f"a number{rng}",
            "bool": "true or false",
            "choice": "one of " + ", ".join(repr(c) for c in self.choices),
            "str": "text",
            "ints": f"a list of whole numbers{rng}",
            "size": f"a whole number or a list of {self.dims}{rng}",
            "padding": f"a whole number, a list of {self.dims}, 'same' or 'valid'{rng}",
        }[self.kind] + (" or null" if self.optional else "")

    def _range_text(self) -> str:
        lo, hi = self.minimum, self.maximum
        fmt = (lambda v: str(int(v)) if float(v).is_integer() else str(v))
        if lo is not None and hi is not None:
            return f" from {fmt(lo)} to {fmt(hi)}"
        if lo is not None:
            return f" >= {fmt(lo)}"
        if hi is not None:
            return f" <= {fmt(hi)}"
        return ""

    def _fail(self, value: Any) -> ParamError:
        return ParamError(f"'{self.name}' is {value!r}; expected {self.expected()}")

    def _in_range(self, value: float, original: Any) -> None:
        if self.allow_minus_one and value == -1:
            return
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise self._fail(original)

    def _check_int(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(value)
        self._in_range(value, value)
        return value

    def _check_float(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(value)
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int beyond any float, e.g. 10**400 from a file
            finite = False
        if not finite:
            raise self._fail(value)
        self._in_range(value, value)
        return float(value)

    def _check_bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self._fail(value)
        return value

    def _check_choice(self, value: Any) -> Any:
        if isinstance(value, bool) or value not in self.choices:
            raise self._fail(value)
        return value

    def _check_str(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._fail(value)
        return value

    def _check_ints(self, value: Any) -> list[int]:
        if not isinstance(value, (list, tuple)):
            raise self._fail(value)
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            raise ParamError(
                f"'{self.name}' has {len(value)} entries; expected "
                + (f"{self.min_len} to {self.max_len}" if self.max_len is not None else f"at least {self.min_len}")
            )
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                raise self._fail(value)
            self._in_range(item, value)
            out.append(item)
        if self.allow_minus_one and out.count(-1) > 1:
            raise ParamError(f"'{self.name}' may contain -1 only once")
        return out

    def _check_size(self, value: Any) -> int | list[int]:
        if isinstance(value, (list, tuple)):
            if len(value) != self.dims:
                raise self._fail(value)
            return [self._check_int(v) for v in value]
        return self._check_int(value)

    def _check_padding(self, value: Any) -> int | list[int] | str:
        if isinstance(value, str):
            if value not in ("same", "valid"):
                raise self._fail(value)
            return value
        return self._check_size(value)


def as_tuple(value: int | list[int] | tuple[int, ...], dims: int) -> tuple[int, ...]:
    """Expand an int-or-list size parameter to a tuple of `dims` ints."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * dims
