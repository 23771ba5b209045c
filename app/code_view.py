"""The code panel: the generated PyTorch code of the design, read-only, highlighted, kept current.

Generation runs a moment after the last edit (so typing a number does not regenerate per key),
at least three times as long as the last generation took (so that a big design never spends
more than a quarter of the time regenerating), and only while the panel is visible; a hidden
panel catches up when it is shown. A newly opened design replaces the old code at once.
Generating is text from the registry alone: it never imports torch on the GUI thread.
"""
from __future__ import annotations

import keyword
import re
import time

from PySide6 import QtCore, QtGui, QtWidgets

from graph.project import Project

DELAY_MS = 250
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
        self.string = fmt("#6a8759")
        self.comment = fmt("#808080", italic=True)
        self._strings = re.compile(r"('''|\"\"\"|'[^'\n]*'|\"[^\"\n]*\")")

    def highlightBlock(self, text: str) -> None:
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
        self._timer.timeout.connect(self.regenerate)

    def schedule(self, project: Project, problems: int) -> None:
        """Regenerate soon. Another project (New, Open) drops the old code at once and is
        generated on the next turn of the event loop, without the delay meant for edits."""
        replaced = self._source is None or project is not self._source[0]
        self._source = (project, problems)
        self._stale = True
        if replaced:
            self.setPlainText(PENDING)
        if self.isVisible():
            self._timer.start(0 if replaced else max(DELAY_MS, int(3000 * self._last_cost)))

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._timer.start(0)

    def regenerate(self) -> None:
        """Generate now (the timer calls this; tests may too)."""
        if self._source is None:
            return
        self._stale = False
        start = time.perf_counter()
        text = generated_code(*self._source)
        self._last_cost = time.perf_counter() - start
        if text != self.toPlainText():
            bar = self.verticalScrollBar()
            position = bar.value()
            self.setPlainText(text)
            bar.setValue(position)
