"""The code panel: the generated PyTorch code of the design, read-only, highlighted, kept current.

Generation runs a moment after the last edit (so typing a number does not regenerate per key),
at least three times as long as the last generation took (so that a big design never spends
more than a quarter of the time regenerating), and only while the panel is visible; a hidden
panel catches up when it is shown. A newly opened design replaces the old code at once.
Generating is text from the registry alone: it never imports torch on the GUI thread.

A big design's code is generated on a worker thread and coloured as it scrolls into view: for
5,000 nodes, generating took 2.2 s and colouring all 10,000 lines 1.2 s, each holding the window.
"""
from __future__ import annotations

import keyword
import re
import sys
import threading
import time

from PySide6 import QtCore, QtGui, QtWidgets

from app.gc_guard import guard
from graph.project import Project

DELAY_MS = 250
BACKGROUND_NODES = 250   # bigger designs: generated on a worker thread
LAZY_LINES = 2000        # longer code: coloured as it scrolls into view
SWITCH_S = 0.0002        # the GIL's switch interval while the worker runs
BIG_OPEN_MS = 1000       # a big design just opened: its first nodes are built before the worker starts
PENDING = "# Generating the code of this design…\n"


def generated_code(project: Project, problems: int) -> str:
    """The code for `project`, or a comment that says why there is none."""
    if problems:
        return (f"# The design has {problems} problem(s); the code appears when they are fixed.\n"
                "# See the Problems panel (click a problem to show its node).\n")
    try:
        from engine.codegen import generate_code
    except ImportError as exc:
        return ("# Code generation is not available in this build.\n"
                f"# ({type(exc).__name__}: {exc})\n")
    try:
        return generate_code(project)
    except Exception as exc:  # noqa: BLE001 -- shown to the user instead of a traceback
        return f"# Could not generate code: {type(exc).__name__}: {exc}\n"


class PythonHighlighter(QtGui.QSyntaxHighlighter):
    def __init__(self, document: QtGui.QTextDocument):
        super().__init__(document)

        def fmt(color: str, bold: bool = False, italic: bool = False) -> QtGui.QTextCharFormat:
            f = QtGui.QTextCharFormat()
            f.setForeground(QtGui.QColor(color))
            if bold:
                f.setFontWeight(QtGui.QFont.Weight.Bold)
            f.setFontItalic(italic)
            return f

        self.rules: list[tuple[re.Pattern, QtGui.QTextCharFormat]] = [
            (re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b"), fmt("#cc7832", bold=True)),
            (re.compile(r"\b(self|super|True|False|None)\b"), fmt("#9876aa")),
            (re.compile(r"\b(int|float|tuple|list|dict|len|range|print)\b"), fmt("#8888c6")),
            (re.compile(r"\b[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\b"), fmt("#6897bb")),
            (re.compile(r"@\w+"), fmt("#bbb529")),
            (re.compile(r"(?<=\bdef )\w+|(?<=\bclass )\w+"), fmt("#ffc66d")),
        ]
        self.lazy = False              # colour only the blocks `reveal` was asked for
        self._revealed: set[int] = set()
        self.string = fmt("#6a8759")
        self.comment = fmt("#808080", italic=True)
        self._strings = re.compile(r"('''|\"\"\"|'[^'\n]*'|\"[^\"\n]*\")")

    def reset(self, lazy: bool) -> None:
        self.lazy = lazy
        self._revealed.clear()

    def reveal(self, block: QtGui.QTextBlock, count: int) -> None:
        """Colour `count` blocks from `block` on (those in view), once each."""
        while block.isValid() and count > 0:
            if block.blockNumber() not in self._revealed:
                self._revealed.add(block.blockNumber())
                self.rehighlightBlock(block)
            block = block.next()
            count -= 1

    def highlightBlock(self, text: str) -> None:
        if self.lazy and self.currentBlock().blockNumber() not in self._revealed:
            return
        for pattern, form in self.rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), form)
        # strings and comments last, so keywords inside them are not coloured
        self.setCurrentBlockState(0)
        start = 0
        if self.previousBlockState() == 1:
            end = text.find('"""')
            if end < 0:
                self.setFormat(0, len(text), self.string)
                self.setCurrentBlockState(1)
                return
            self.setFormat(0, end + 3, self.string)
            start = end + 3
        i = start
        while i < len(text):
            if text[i] == "#":
                self.setFormat(i, len(text) - i, self.comment)
                return
            m = self._strings.match(text, i)
            if m:
                token = m.group(0)
                if token in ('"""', "'''"):
                    end = text.find(token, m.end())
                    if end < 0:
                        self.setFormat(i, len(text) - i, self.string)
                        self.setCurrentBlockState(1)
                        return
                    self.setFormat(i, end + 3 - i, self.string)
                    i = end + 3
                    continue
                self.setFormat(i, len(token), self.string)
                i = m.end()
                continue
            i += 1


class CodePanel(QtWidgets.QPlainTextEdit):
    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("codePanel")
        self.setReadOnly(True)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(9.5)
        self.setFont(font)
        self.highlighter = PythonHighlighter(self.document())
        self._source: tuple[Project, int] | None = None
        self._stale = False
        self._last_cost = 0.0  # seconds the last generation took
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._on_timer)
        self._generation = 0  # bumped by each schedule(): a worker's older result is dropped
        self._worker: threading.Thread | None = None
        self._results = _Results()  # no parent: the worker keeps it alive if the panel goes first
        self._results.ready.connect(self._generated)
        self._results.done.connect(guard().release, QtCore.Qt.ConnectionType.QueuedConnection)
        self.verticalScrollBar().valueChanged.connect(self._reveal)

    def schedule(self, project: Project, problems: int) -> None:
        """Regenerate soon. Another project (New, Open) drops the old code at once and is
        generated on the next turn of the event loop, without the delay meant for edits."""
        replaced = self._source is None or project is not self._source[0]
        self._source = (project, problems)
        self._generation += 1
        self._stale = True
        if replaced:
            self.setPlainText(PENDING)
        if self.isVisible():
            big = len(project.graph.nodes) > BACKGROUND_NODES
            self._timer.start((BIG_OPEN_MS if big else 0) if replaced else max(DELAY_MS, int(3000 * self._last_cost)))

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._timer.start(0)

    def regenerate(self) -> None:
        """Generate now, on this thread (tests and the benchmark call this)."""
        if self._source is None:
            return
        self._stale = False
        start = time.perf_counter()
        text = generated_code(*self._source)
        self._last_cost = time.perf_counter() - start
        self._show(text)

    def _on_timer(self) -> None:
        """Small designs (and designs with problems) now; big ones on a worker thread, one at a time."""
        if self._source is None:
            return
        project, problems = self._source
        if problems or len(project.graph.nodes) <= BACKGROUND_NODES:
            self.regenerate()
            return
        if self._worker is not None and self._worker.is_alive():
            self._timer.start(100)  # the running one's result will be stale: come back for this one
            return
        self._stale = False
        generation, results = self._generation, self._results

        def work() -> None:  # reads the live design; an edit meanwhile makes the result stale
            start = time.perf_counter()
            try:
                text = generated_code(project, problems)
                results.ready.emit(generation, text, time.perf_counter() - start)
            finally:
                sys.setswitchinterval(switch)
                results.done.emit()

        # Every Qt call lets go of the GIL; with the default 5 ms switch interval the GUI thread
        # then waited up to 5 ms per call for the worker, and building node items took 10x longer.
        # While it runs, garbage is collected on the GUI thread only (app/gc_guard.py).
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_S)
        guard().hold()
        self._worker = threading.Thread(target=work, name="codegen", daemon=True)
        self._worker.start()

    def _generated(self, generation: int, text: str, cost: float) -> None:
        self._last_cost = cost
        if generation == self._generation:
            self._show(text)

    def _show(self, text: str) -> None:
        if text != self.toPlainText():
            bar = self.verticalScrollBar()
            position = bar.value()
            self.highlighter.reset(lazy=text.count("\n") > LAZY_LINES)
            self.setPlainText(text)
            bar.setValue(position)
            self._reveal()

    def _reveal(self, *_args) -> None:
        if self.highlighter.lazy:
            lines = self.viewport().height() // max(1, self.fontMetrics().height()) + 2
            self.highlighter.reveal(self.firstVisibleBlock(), lines)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reveal()


class _Results(QtCore.QObject):
    """Carries a worker's code to the GUI thread (queued signals)."""

    ready = QtCore.Signal(int, str, float)  # generation, code, seconds it took
    done = QtCore.Signal()
