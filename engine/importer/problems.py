"""What stops an import: every unsupported module or operation, each with its place in the source."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing that cannot come in. `where`: the module path (`layer1.0.conv1`) or the traced
    operation; `line`: `file.py:42` in the user's source, when known."""

    where: str
    message: str
    line: str | None = None

    def __str__(self) -> str:
        place = f"{self.where} ({self.line})" if self.line else self.where
        return f"{place}: {self.message}"


class ImportFailure(Exception):
    """The import is refused; `problems` lists every reason (or the message says the one)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        head = super().__str__()
        return "\n".join([head, *(f"  {p}" for p in self.problems)])
