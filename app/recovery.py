"""Crash recovery (DESIGN §8): autosave unsaved work every minute, offer it back after a crash.

Each window owns a *slot* in the recovery folder: `<slot>.loom` (the design, written
atomically), `<slot>.json` (where it came from, when it was saved) and `<slot>.lock`, a
QLockFile held while the window lives. A clean close or a save removes the slot. At start,
a slot whose lock can be taken belongs to a program that is gone: that is work to offer back.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore

from app.document import Document
from graph.files import write_atomic
from graph.project import Project, dumps, load

INTERVAL_MS = 60_000


def default_directory() -> Path:
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".layerloom") / "recovery"


def _lock(path: Path) -> QtCore.QLockFile:
    lock = QtCore.QLockFile(str(path))
    lock.setStaleLockTime(0)  # stale only when its process is gone, however long it has lived
    return lock


@dataclass
class Recovery:
    """Autosaved work left behind by a window that did not close normally."""

    design: Path
    original: Path | None
    saved_at: float
    name: str

    def load(self) -> Project:
        return load(self.design)

    def discard(self) -> None:
        for suffix in (".loom", ".json", ".lock"):
            self.design.with_suffix(suffix).unlink(missing_ok=True)


def orphans(directory: Path) -> list[Recovery]:
    """Slots in `directory` that no running LayerLoom holds, newest first."""
    found = []
    if not directory.is_dir():
        return found
    for lock_path in directory.glob("*.lock"):  # left by a killed window that had nothing unsaved
        if not lock_path.with_suffix(".loom").exists():
            lock = _lock(lock_path)
            if lock.tryLock(0):
                lock.unlock()
    for design in directory.glob("*.loom"):
        lock = _lock(design.with_suffix(".lock"))
        if not lock.tryLock(0):
            continue  # a live window's slot
        lock.unlock()
        meta = {}
        try:
            meta = json.loads(design.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        original = meta.get("path") if isinstance(meta, dict) else None
        saved_at = meta.get("saved_at") if isinstance(meta, dict) else None
        found.append(Recovery(design, Path(original) if isinstance(original, str) else None,
                              float(saved_at) if isinstance(saved_at, (int, float)) else design.stat().st_mtime,
                              str(meta.get("name", design.stem)) if isinstance(meta, dict) else design.stem))
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Autosaver(QtCore.QObject):
    """Writes the document to this window's slot every `interval_ms` while it has unsaved changes."""

    def __init__(self, doc: Document, directory: Path, interval_ms: int = INTERVAL_MS,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.directory = Path(directory)
        self.slot = uuid.uuid4().hex[:12]
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock = _lock(self.directory / f"{self.slot}.lock")
        self.lock.tryLock(0)
        self._written: tuple[int, int] | None = None  # (undo index, document generation) last written
        self._generation = 0
        doc.replaced.connect(self._on_replaced)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    @property
    def design_path(self) -> Path:
        return self.directory / f"{self.slot}.loom"

    def _on_replaced(self) -> None:
        self._generation += 1

    def save_now(self) -> bool:
        """Write the slot if there is unsaved work not yet written; remove it when all is saved."""
        if not self.doc.dirty:
            self.discard()
            return False
        state = (self.doc.undo_stack.index(), self._generation)
        if state == self._written and self.design_path.exists():
            return False
        try:
            write_atomic(self.design_path, dumps(self.doc.project))
            meta = {"path": str(self.doc.path) if self.doc.path else None, "saved_at": time.time(),
                    "name": self.doc.display_name}
            write_atomic(self.design_path.with_suffix(".json"), json.dumps(meta))
        except OSError:
            return False  # autosave must never interrupt the user; the next tick tries again
        self._written = state
        return True

    def discard(self) -> None:
        self._written = None
        for suffix in (".loom", ".json"):
            (self.directory / f"{self.slot}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        """A clean end: nothing to recover."""
        self.timer.stop()
        self.discard()
        self.lock.unlock()

