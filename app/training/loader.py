"""Loading PyTorch and the trainer without freezing the window.

Importing torch takes a second or two, and the first optimiser pulls in torch._dynamo for a
few more. The designer itself never needs torch, so it starts without it; `engine_loader()`
imports the training side on a background thread (once per process) and then lists this
machine's devices (engine.training.device.available_devices: CPU, each CUDA device by
name, MPS). `ready` fires on the GUI thread when the training panel can be built;
`wait()` finishes the job synchronously for code that needs it now (the Train action,
tests). While a loading thread runs, garbage is collected on the GUI thread only
(app.gc_guard).
"""
from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any

from PySide6 import QtCore

from app.gc_guard import guard


class EngineLoader(QtCore.QObject):
    ready = QtCore.Signal()
    _thread_done = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        self.state = "idle"               # idle, loading, ready, failed
        self.error: str | None = None
        self.devices: list[Any] = []      # engine.training.device.DeviceInfo, best first
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._warm: threading.Thread | None = None
        self._thread_done.connect(guard().release, QtCore.Qt.ConnectionType.QueuedConnection)

    @property
    def is_ready(self) -> bool:
        return self.state == "ready"

    def start(self) -> None:
        """Begin loading in the background (no-op when started already)."""
        with self._lock:
            if self.state != "idle":
                return
            self.state = "loading"
            self._thread = self._background(self._load, "layerloom-engine-loader")

    def wait(self) -> bool:
        """Finish loading now (on this thread if it never started); True when ready."""
        with self._lock:
            idle = self.state == "idle"
            if idle:
                self.state = "loading"
        if idle:
            self._load()
        else:
            self._done.wait()
        return self.is_ready

    def warm_up(self) -> None:
        """Load, then also import what the first optimiser needs (torch._dynamo) and the plots'
        library, all in the background."""
        if self._warm is None:
            self._warm = self._background(self._warm_up, "layerloom-warm-up")

    def wait_warm(self) -> None:
        """Wait until the warm-up's imports are done too (benchmarks that measure its memory)."""
        if self._warm is not None:
            self._warm.join()

    def _background(self, job, name: str) -> threading.Thread:
        """Start `job` on a daemon thread, holding the GUI-thread-only collection until it ends."""
        guard().hold()

        def run() -> None:
            try:
                job()
            finally:
                with contextlib.suppress(RuntimeError):  # the application is going away
                    self._thread_done.emit()

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def _warm_up(self) -> None:
        self.wait()
        with contextlib.suppress(Exception):  # only a speed-up
            import torch._dynamo  # noqa: F401 -- the first torch.optim optimiser imports it
        with contextlib.suppress(Exception):  # the plots' library: only its modules, no widgets here
            import pyqtgraph  # noqa: F401

    def _load(self) -> None:
        try:
            # the packages name their parts lazily (engine.lazy): import the modules that load torch
            import engine.training.outputs
            import engine.training.trainer  # noqa: F401 -- with it engine.data's loaders and torch
            from engine.training.device import available_devices

            devices = available_devices()
        except Exception as exc:  # noqa: BLE001 -- shown in the training panel instead of the form
            self.error = f"{type(exc).__name__}: {exc}"
            self.state = "failed"
        else:
            self.devices = devices
            self.state = "ready"
        self._done.set()
        try:
            self.ready.emit()
        except RuntimeError:  # the application is going away
            pass

    def refresh_devices(self) -> list[Any]:
        if self.is_ready:
            from engine.training.device import available_devices

            self.devices = available_devices()
        return self.devices


@functools.cache
def engine_loader() -> EngineLoader:
    return EngineLoader()
