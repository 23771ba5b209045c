"""Text generation in the Predict panel (issue 19 item 4): for a token model trained on the `text`
data set, a prompt, temperature, top-k, length and seed, and the text appearing as it is drawn.

The worker thread runs `stream(...)` (engine.inference.generate underneath) and hands characters to
`Streamer.chunk` in bursts at most every CHUNK_S seconds, so a fast model does not flood the GUI
thread with one event per character (at most ~20 repaints a second); the job's answer is the whole
text, which replaces what the chunks built up. Each generation has a number: chunks of one that was
stopped or replaced are dropped.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from PySide6 import QtCore, QtGui, QtWidgets

CHUNK_S = 0.05           # at most 20 chunks a second reach the GUI thread
DEFAULT_LENGTH = 200


class Streamer(QtCore.QObject):
    """Lives on the GUI thread; emitted from the worker, so each chunk arrives queued."""

    chunk = QtCore.Signal(int, str)   # generation number, characters


def stream(characters: Iterable[str], number: int, stop: threading.Event,
           emit: Callable[[int, str], None]) -> tuple[int, str, bool]:
    """Drain `characters`, emitting what came since the last emit at most every CHUNK_S seconds.
    Returns (number, every character drawn, whether it was stopped)."""
    drawn: list[str] = []
    sent = 0
    last = time.monotonic()
    for character in characters:
        drawn.append(character)
        if stop.is_set():
            return number, "".join(drawn), True
        now = time.monotonic()
        if now - last >= CHUNK_S:
            emit(number, "".join(drawn[sent:]))
            sent, last = len(drawn), now
    return number, "".join(drawn), False


class GenerateBox(QtWidgets.QGroupBox):
    """The Generate section's widgets; the controller does the work."""

    generate_requested = QtCore.Signal()
    stop_requested = QtCore.Signal()

    def __init__(self):
        super().__init__("Generate")
        self.setObjectName("generateBox")
        layout = QtWidgets.QVBoxLayout(self)
        self.prompt = QtWidgets.QLineEdit()
        self.prompt.setObjectName("generatePrompt")
        self.prompt.setPlaceholderText("a prompt in the characters of the training text")
        self.prompt.setToolTip("The text the model goes on from (it sees the last characters of its context)")
        layout.addWidget(self.prompt)
        form = QtWidgets.QGridLayout()   # two rows of two: four fields side by side are wider than the dock
        self.temperature = QtWidgets.QDoubleSpinBox()
        self.temperature.setObjectName("generateTemperature")
        self.temperature.setRange(0.05, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip("Below 1 safer, above 1 wilder")
        self.top_k = QtWidgets.QSpinBox()
        self.top_k.setObjectName("generateTopK")
        self.top_k.setRange(0, 100_000)
        self.top_k.setSpecialValueText("all")
        self.top_k.setToolTip("Draw only among the K likeliest characters (1: always the likeliest; all: off)")
        self.length = QtWidgets.QSpinBox()
        self.length.setObjectName("generateLength")
        self.length.setRange(1, 100_000)
        self.length.setValue(DEFAULT_LENGTH)
        self.length.setToolTip("How many characters to generate")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setObjectName("generateSeed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed and settings give the same text")
        for i, (label, box) in enumerate((("T", self.temperature), ("top-k", self.top_k), ("length", self.length),
                                          ("seed", self.seed))):
            form.addWidget(QtWidgets.QLabel(label), i // 2, 2 * (i % 2))
            form.addWidget(box, i // 2, 2 * (i % 2) + 1)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        layout.addLayout(form)
        buttons = QtWidgets.QHBoxLayout()
        self.go = QtWidgets.QPushButton("Generate")
        self.go.setObjectName("generateButton")
        self.stop = QtWidgets.QPushButton("Stop")
        self.stop.setObjectName("generateStop")
        self.stop.setEnabled(False)
        buttons.addStretch(1)
        buttons.addWidget(self.go)
        buttons.addWidget(self.stop)
        layout.addLayout(buttons)
        self.output = QtWidgets.QPlainTextEdit()
        self.output.setObjectName("generateOutput")
        self.output.setReadOnly(True)
        self.output.setMinimumHeight(140)
        layout.addWidget(self.output)
        self.go.clicked.connect(self.generate_requested)
        self.prompt.returnPressed.connect(self.generate_requested)
        self.stop.clicked.connect(self.stop_requested)

    def settings(self) -> tuple[str, int, float, int | None, int]:
        """(prompt, length, temperature, top-k or None, seed)."""
        k = self.top_k.value()
        return self.prompt.text(), self.length.value(), self.temperature.value(), k or None, self.seed.value()

    def started(self, prompt: str) -> None:
        self.output.setPlainText(prompt)
        self.stop.setEnabled(True)

    def append(self, text: str) -> None:
        cursor = self.output.textCursor()
        cursor.movePosition(QtGui.QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.output.setTextCursor(cursor)
        self.output.ensureCursorVisible()

    def finished(self, text: str | None) -> None:
        """The whole text (None: keep what is shown, after a failure)."""
        if text is not None:
            self.output.setPlainText(text)
            self.output.moveCursor(QtGui.QTextCursor.MoveOperation.End)
        self.stop.setEnabled(False)
