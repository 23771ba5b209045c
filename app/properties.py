"""The properties panel: an editor per parameter, built from the registry's Param declarations.

Kinds map to editors: int -> spin box with the declared range, float -> spin box, bool -> check
box, choice -> combo box, ints/size/padding/str -> a line edit that reads "3", "3, 3", "same".
An `optional` parameter gets a check box that turns it off (None). Every edit is applied at
once through the Editor (so it is one undoable command; typing into one field merges into one
step). Text that cannot be read as a value is flagged in place and not applied; a value that
can be read but does not work (out of range, wrong length, a shape that does not fit) is
applied, and the problem the analysis finds is shown under the field and on the node.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.block_commands import REPEAT, page_key, repeatable
from app.canvas import Canvas
from app.document import Document
from app.editor import Editor
from app.fields import guard_wheel, route_history_keys
from app.inferred import inferred_pairs
from app.training.pacing import Paced
from app.tuning.search_toggle import SearchToggles, node_key
from graph.blocks import reference
from graph.params import Param

INT_LIMIT = 2**31 - 1


class ParseError(ValueError):
    pass


def value_text(value: Any) -> str:
    """How a parameter value reads in a line edit: [1, 28, 28] -> '1, 28, 28'."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_text(param: Param, text: str) -> Any:
    """Read what a user typed into a line edit as a value of the parameter's kind."""
    text = text.strip()
    if param.kind == "str":
        return text
    if not text:
        if param.optional:
            return None
        raise ParseError(f"'{param.name}' needs a value ({param.expected()})")
    if param.kind == "padding" and text.lower() in ("same", "valid"):
        return text.lower()
    parts = [p for p in re.split(r"[,\s]+", text.strip("[]() ")) if p]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ParseError(f"'{text}' is not {param.expected()}") from None
    if param.kind in ("size", "padding") and len(numbers) == 1 and "," not in text and "[" not in text:
        return numbers[0]
    return numbers


class _FloatSpin(QtWidgets.QDoubleSpinBox):
    """A spin box that shows 1e-05 and 0.1 as written, not as 0.000010 and 0.100000."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(10)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        if not stripped or stripped in ("-", "+", ".", "-.") or stripped.lower().endswith(("e", "e-", "e+")):
            return (QtGui.QValidator.State.Intermediate, text, pos)
        try:
            float(stripped)
        except ValueError:
            return (QtGui.QValidator.State.Invalid, text, pos)
        return (QtGui.QValidator.State.Acceptable, text, pos)


class _ParamRow:
    """One parameter's editor, its optional on/off switch and its problem label."""

    def __init__(self, param: Param, apply: Callable[[str, Any], None]):
        self.param = param
        self._apply = apply
        self.widget = QtWidgets.QWidget()
        self.widget.setObjectName(f"param_{param.name}")
        layout = QtWidgets.QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        line = QtWidgets.QHBoxLayout()
        line.setSpacing(4)
        layout.addLayout(line)
        self.switch: QtWidgets.QCheckBox | None = None
        if param.optional and param.kind != "str":
            self.switch = QtWidgets.QCheckBox()
            self.switch.setToolTip(f"unchecked: {param.name} = None (torch's default behaviour)")
            self.switch.toggled.connect(self._on_switch)
            line.addWidget(self.switch)
        self.editor = self._make_editor()
        self.editor.setToolTip(f"{param.help}<br/><i>{html.escape(param.expected())}</i>")
        line.addWidget(self.editor, 1)
        self.reference = QtWidgets.QLabel()   # a "$name" value inside a block: set on the block node
        self.reference.setObjectName("blockReference")
        self.reference.hide()
        line.addWidget(self.reference, 1)
        self.problem = _problem_label()
        layout.addWidget(self.problem)
        self._parse_problem: str | None = None
        self._shown: Any = None   # the value last shown (the project's), for dropping unapplied text
        self._invalid = False
        if isinstance(self.editor, (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox)):
            guard_wheel(self.editor)
        if isinstance(self.editor, (QtWidgets.QAbstractSpinBox, QtWidgets.QLineEdit)):
            route_history_keys(self.editor, self.drop_unapplied)

    def _make_editor(self) -> QtWidgets.QWidget:
        p = self.param
        if p.kind == "int":
            box = QtWidgets.QSpinBox()
            low = int(p.minimum) if p.minimum is not None else -INT_LIMIT
            if p.allow_minus_one:
                low = min(low, -1)
            box.setRange(low, int(p.maximum) if p.maximum is not None else INT_LIMIT)
            box.valueChanged.connect(lambda v: self._emit(int(v)))
            return box
        if p.kind == "float":
            box = _FloatSpin()
            box.setRange(p.minimum if p.minimum is not None else -1e12, p.maximum if p.maximum is not None else 1e12)
            box.setSingleStep(0.1 if (p.maximum or 2) <= 1 else 1.0)
            box.valueChanged.connect(lambda v: self._emit(float(v)))
            return box
        if p.kind == "bool":
            box = QtWidgets.QCheckBox()
            box.toggled.connect(lambda v: self._emit(bool(v)))
            return box
        if p.kind == "choice":
            box = QtWidgets.QComboBox()
            for choice in p.choices:
                box.addItem(str(choice), choice)
            box.activated.connect(lambda i: self._emit(box.itemData(i)))
            return box
        edit = QtWidgets.QLineEdit()
        edit.setPlaceholderText(p.expected())
        edit.textEdited.connect(self._on_text_edited)
        edit.editingFinished.connect(self._on_editing_finished)
        return edit

    # -- editor -> value --------------------------------------------------------------
    def _emit(self, value: Any) -> None:
        if self.switch is not None and not self.switch.isChecked():
            return
        self._apply(self.param.name, value)

    def _on_switch(self, on: bool) -> None:
        self.editor.setEnabled(on)
        if not on:
            self._apply(self.param.name, None)
            return
        value = self._editor_value()
        if value is None:
            value = self.param.default if self.param.default is not None else self._fallback_value()
        self._apply(self.param.name, value)

    def _fallback_value(self) -> Any:
        p = self.param
        low = p.minimum if p.minimum is not None else 0
        return {"int": int(low), "float": float(low), "bool": False, "ints": [int(max(low, 1))] * max(p.min_len, 1),
                "size": int(max(low, 1)), "padding": 0, "choice": p.choices[0] if p.choices else None}.get(p.kind)

    def _editor_value(self) -> Any:
        e = self.editor
        if isinstance(e, QtWidgets.QSpinBox):
            return int(e.value())
        if isinstance(e, QtWidgets.QDoubleSpinBox):
            return float(e.value())
        if isinstance(e, QtWidgets.QCheckBox):
            return e.isChecked()
        if isinstance(e, QtWidgets.QComboBox):
            return e.currentData()
        try:
            return parse_text(self.param, e.text())
        except ParseError:
            return None

    def _on_text_edited(self, text: str) -> None:
        try:
            value = parse_text(self.param, text)
        except ParseError:
            return  # half-typed: judged when editing finishes
        self._set_parse_problem(None)
        self._emit(value)

    def _on_editing_finished(self) -> None:
        try:
            parse_text(self.param, self.editor.text())
        except ParseError as exc:
            self._set_parse_problem(str(exc))
            return
        self._set_parse_problem(None)

    def _set_parse_problem(self, message: str | None) -> None:
        self._parse_problem = message
        self.show_problem(None)

    def drop_unapplied(self) -> bool:
        """Throw away text that was typed but not applied (not a value yet) and show the value
        again; True when there was such text (Ctrl+Z then does only this)."""
        e = self.editor
        if isinstance(e, QtWidgets.QAbstractSpinBox):
            if e.hasAcceptableInput():
                return False
            e.lineEdit().setText(e.textFromValue(e.value()))
            return True
        try:
            unapplied = parse_text(self.param, e.text()) != self._shown
        except ParseError:
            unapplied = True
        if not unapplied:
            return False
        with QtCore.QSignalBlocker(e):
            e.setText(value_text(self._shown))
        self._set_parse_problem(None)
        return True

    def reset(self) -> None:
        """Another node is shown in this row: forget the last one's unapplied text."""
        self._parse_problem = None

    # -- value -> editor --------------------------------------------------------------
    def set_value(self, value: Any) -> None:
        name = reference(value)
        self.reference.setText(f"${name} (block parameter)" if name else "")
        self.reference.setToolTip(f"the block's parameter {name}: each block node sets it" if name else "")
        self.reference.setVisible(bool(name))
        self.editor.setVisible(not name)
        if name:
            return
        self._shown = value
        e = self.editor
        blockers = [QtCore.QSignalBlocker(e)]
        if self.switch is not None:
            blockers.append(QtCore.QSignalBlocker(self.switch))
            self.switch.setChecked(value is not None)
            e.setEnabled(value is not None)
            if value is None:
                return
        try:
            # a box that already shows the value is left alone: rewriting it would move the
            # cursor and reformat what the user is typing ("2e-3" -> "0.002")
            # a bad value from a file (0 where >= 1 is needed) is shown as it is, not clamped:
            # the box widens its range for it, and the problem is shown under it
            if isinstance(e, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox)):
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                if isinstance(e, QtWidgets.QSpinBox):
                    number = number and isinstance(value, int) and abs(value) <= INT_LIMIT
                if number and e.value() != value:
                    e.setRange(min(e.minimum(), value), max(e.maximum(), value))
                    e.setValue(value)
            elif isinstance(e, QtWidgets.QCheckBox):
                e.setChecked(bool(value))
            elif isinstance(e, QtWidgets.QComboBox):
                index = e.findData(value)
                if index < 0:
                    e.addItem(f"{value!r} (not allowed)", value)
                    index = e.count() - 1
                e.setCurrentIndex(index)
            elif not e.hasFocus() or self._parse_problem is None:
                try:
                    same = parse_text(self.param, e.text()) == value
                except ParseError:
                    same = False
                if not same:
                    e.setText(value_text(value))
        finally:
            del blockers

    def show_problem(self, message: str | None) -> None:
        message = self._parse_problem or message
        if self.problem.text() != (message or ""):
            self.problem.setText(message or "")
        self.problem.setVisible(bool(message))
        if self._invalid != bool(message):   # a new style is a re-polish: only when it changes
            self._invalid = bool(message)
            _mark_invalid(self.editor, self._invalid)


def _problem_label() -> QtWidgets.QLabel:
    """A problem under a field: plain text, so that quotes in it are not read as markup."""
    label = QtWidgets.QLabel()
    label.setObjectName("problemText")
    label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.hide()
    return label


def _mark_invalid(widget: QtWidgets.QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def _has_weights(node, info) -> bool:
    """Whether the trainable switch means anything for this node: the analysis (the registry's
    shape rule) counts its parameters; before shapes are known, a type that becomes a torch
    module may have some. A node frozen in the file keeps the switch, to be unfrozen."""
    if not node.trainable:
        return True
    if info is not None and info.outputs is not None:
        return info.params > 0
    layer = node.layer
    return layer is not None and layer.role == "layer" and (
        layer.torch_class is not None or (layer.code is not None and layer.code.module is not None))


class _Page(QtWidgets.QWidget):
    """The editors for one layer type. Built the first time a node of that type is selected and
    reused for every other (issue 11: a rebuild per click cost 8 ms of the GUI thread)."""

    def __init__(self, node, panel: PropertiesPanel):
        super().__init__()
        layer = panel.doc.edited_graph.layer_of(node)
        self.rows: dict[str, _ParamRow] = {}
        self.advanced_toggle: QtWidgets.QToolButton | None = None
        self.inferred: list[tuple[str, QtWidgets.QLabel]] = []
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        title = QtWidgets.QLabel(f"<b>{html.escape(node.type)}</b>" +
                                 (f"<br/><span style='color:#9aa4ae'>{html.escape(layer.doc)}</span>" if layer else ""))
        title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        title.setWordWrap(True)
        outer.addWidget(title)

        self.form = form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        self.id_edit = QtWidgets.QLineEdit()
        self.id_edit.setObjectName("nodeId")
        self.id_edit.setToolTip("the node's id: a Python identifier, the attribute name in generated code")
        self.id_problem = _problem_label()
        self.id_edit.textEdited.connect(panel._check_id)
        self.id_edit.editingFinished.connect(panel._apply_id)
        route_history_keys(self.id_edit, panel._drop_id_text)
        id_box = QtWidgets.QWidget()
        id_layout = QtWidgets.QVBoxLayout(id_box)
        id_layout.setContentsMargins(0, 0, 0, 0)
        id_layout.addWidget(self.id_edit)
        id_layout.addWidget(self.id_problem)
        form.addRow("id", id_box)
        self.trainable = QtWidgets.QCheckBox("learn this layer's weights")
        self.trainable.setObjectName("trainable")
        self.trainable.setToolTip("unchecked: the layer's parameters are frozen (requires_grad=False)")
        self.trainable.toggled.connect(lambda on: panel.editor.set_trainable(panel.node_id, on))
        form.addRow("trainable", self.trainable)

        advanced_rows = []
        for param in layer.params if layer is not None else ():
            row = _ParamRow(param, panel._apply_param)
            self.rows[param.name] = row
            panel.search_toggles.attach(row, lambda name=param.name: node_key(panel.doc, panel.node_id, name))
            label = QtWidgets.QLabel(param.name)
            label.setToolTip(param.help)
            if param.advanced:
                advanced_rows.append((label, row))
            else:
                form.addRow(label, row.widget)
        if advanced_rows:
            self._advanced(outer, advanced_rows)
        if repeatable(layer):
            self.rows[REPEAT.name] = row = _ParamRow(REPEAT, panel._apply_repeat)
            panel.search_toggles.attach(row, lambda: node_key(panel.doc, panel.node_id, REPEAT.name))
            form.addRow(REPEAT.name, row.widget)

        inferred = QtWidgets.QGroupBox("Inferred")
        self.inferred_form = QtWidgets.QFormLayout(inferred)
        outer.addWidget(inferred)
        self.node_problems = QtWidgets.QLabel()
        self.node_problems.setObjectName("problemText")
        self.node_problems.setTextFormat(QtCore.Qt.TextFormat.RichText)   # escaped lines joined by <br/>
        self.node_problems.setWordWrap(True)
        outer.addWidget(self.node_problems)
        outer.addStretch(1)

    def _advanced(self, outer: QtWidgets.QVBoxLayout, rows) -> None:
        toggle = QtWidgets.QToolButton()
        toggle.setText("Advanced")
        toggle.setCheckable(True)
        toggle.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toggle.setArrowType(QtCore.Qt.ArrowType.RightArrow)
        toggle.setAutoRaise(True)
        toggle.setObjectName("advancedToggle")
        box = QtWidgets.QWidget()
        adv_form = QtWidgets.QFormLayout(box)
        adv_form.setContentsMargins(12, 0, 0, 0)
        for label, row in rows:
            adv_form.addRow(label, row.widget)
        box.setVisible(False)

        def flip(on: bool) -> None:
            box.setVisible(on)
            toggle.setArrowType(QtCore.Qt.ArrowType.DownArrow if on else QtCore.Qt.ArrowType.RightArrow)

        toggle.toggled.connect(flip)
        outer.addWidget(toggle)
        outer.addWidget(box)
        self.advanced_toggle = toggle

    def show_inferred(self, pairs: list[tuple[str, str]]) -> None:
        """Fill the Inferred box; the same labels as last time only change their texts."""
        if [label for label, _ in pairs] != [label for label, _ in self.inferred]:
            while self.inferred_form.rowCount():
                self.inferred_form.removeRow(0)
            self.inferred = []
            for label, _ in pairs:
                value = QtWidgets.QLabel()
                value.setObjectName("derivedValue")
                value.setTextFormat(QtCore.Qt.TextFormat.PlainText)
                value.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
                self.inferred_form.addRow(label, value)
                self.inferred.append((label, value))
        for (_, value), (_, text) in zip(self.inferred, pairs):
            if value.text() != text:
                value.setText(text)


class _Pages(QtWidgets.QStackedWidget):
    """A stack whose size is its current page's (a QStackedWidget is as tall as its tallest
    page), so that the scroll area scrolls only as far as the page shown."""

    def __init__(self):
        super().__init__()
        self.currentChanged.connect(self._on_current)

    def _on_current(self, _index: int) -> None:
        current = self.currentWidget()
        policy = QtWidgets.QSizePolicy.Policy
        for i in range(self.count()):
            page = self.widget(i)
            sized = policy.Preferred if page is current else policy.Ignored   # Ignored: no minimum size
            page.setSizePolicy(sized, sized)
        self.updateGeometry()

    # QStackedLayout's size hint and height-for-width are the largest of all its pages
    def sizeHint(self) -> QtCore.QSize:
        return self.currentWidget().sizeHint()

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.currentWidget().minimumSizeHint()

    def heightForWidth(self, width: int) -> int:
        return self.currentWidget().heightForWidth(width)


class PropertiesPanel(QtWidgets.QScrollArea):
    """Shows and edits the one selected node; with none or several selected it says so."""

    def __init__(self, doc: Document, editor: Editor, canvas: Canvas, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.doc, self.editor, self.canvas = doc, editor, canvas
        self.setWidgetResizable(True)
        self.node_id: str | None = None
        self._pages: dict[str, _Page] = {}
        self._page: _Page | None = None
        self._stack = _Pages()
        self.search_toggles = SearchToggles(doc, self)   # "search this" on each parameter's row
        self._hint = QtWidgets.QLabel("Select a node to edit its parameters.")
        self._hint.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)
        self._hint.setObjectName("propertiesHint")
        self._stack.addWidget(self._hint)
        self.setWidget(self._stack)
        # while a run trains, a click shows its node as the GUI thread's CPU budget allows
        self._paced_refresh = Paced(self.refresh, lambda: doc.locked, parent=self)
        canvas.selection_changed.connect(self._paced_refresh)
        doc.analysed.connect(lambda _analysis: self.refresh())
        doc.replaced.connect(self._forget_pages)

    # the page shown: its rows and fields (empty when no node is shown)
    rows = property(lambda self: self._page.rows if self._page is not None else {})
    id_edit = property(lambda self: self._page.id_edit)
    id_problem = property(lambda self: self._page.id_problem)
    trainable = property(lambda self: self._page.trainable)
    advanced_toggle = property(lambda self: self._page.advanced_toggle)
    inferred_form = property(lambda self: self._page.inferred_form)
    node_problems = property(lambda self: self._page.node_problems)

    # -- showing ----------------------------------------------------------------------
    def refresh(self) -> None:
        ids = self.canvas.selected_ids()
        node = self.doc.edited_graph.node(ids[0]) if len(ids) == 1 else None
        if node is None:
            self.node_id, self._page = None, None
            self._hint.setText("Select a node to edit its parameters." if len(ids) != 1 else
                               f"{len(ids)} nodes selected. Select one to edit its parameters.")
            self._stack.setCurrentWidget(self._hint)
            return
        changed = node.id != self.node_id
        self.node_id = node.id
        key = page_key(self.doc.edited_graph, node)
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = _Page(node, self)
            self._stack.addWidget(page)
        if page is not self._page:
            self._page = page
            self._stack.setCurrentWidget(page)
        self._update(node, changed)

    def _forget_pages(self) -> None:
        """Another design: its types' pages are built afresh when needed (no widgets kept for
        types the new design never shows)."""
        for page in self._pages.values():
            self._stack.removeWidget(page)
            page.deleteLater()
        self._pages.clear()
        self.node_id, self._page = None, None
        self._stack.setCurrentWidget(self._hint)

    def _update(self, node, changed: bool) -> None:
        page = self._page
        if changed:
            for row in page.rows.values():
                row.reset()
            page.id_problem.hide()
            if page.id_edit.property("invalid"):
                _mark_invalid(page.id_edit, False)
        if (changed or not page.id_edit.hasFocus()) and page.id_edit.text() != node.id:
            page.id_edit.setText(node.id)
        analysis = self.doc.level_analysis
        info = analysis.nodes.get(node.id)
        page.form.setRowVisible(page.trainable, _has_weights(node, info))
        with QtCore.QSignalBlocker(page.trainable):
            page.trainable.setChecked(node.trainable)
        layer = self.doc.edited_graph.layer_of(node)   # a block's defaults are its definition's
        values = layer.resolve(node.params)[0] if layer is not None else dict(node.params)
        by_field: dict[str, list[str]] = {}
        general = []
        for d in analysis.problems_for(node.id):
            if d.field in page.rows:
                by_field.setdefault(d.field, []).append(d.text())
            elif d.field != "id":
                general.append(f"{d.severity}: {d.text()}")
        for name, row in page.rows.items():
            row.set_value(node.extra.get(name, 1) if row.param is REPEAT else node.params.get(name, values.get(name)))
            row.show_problem("; ".join(by_field.get(name, [])) or None)
        page.node_problems.setText("<br/>".join(html.escape(g) for g in general))
        page.node_problems.setVisible(bool(general))
        page.show_inferred(inferred_pairs(info, value_text))
        self.search_toggles.refresh(page)

    # -- editing ----------------------------------------------------------------------
    def _apply_param(self, name: str, value: Any) -> None:
        if self.node_id is not None:
            self.editor.set_param(self.node_id, name, value)

    def _apply_repeat(self, _name: str, value: Any) -> None:
        if self.node_id is not None:
            self.editor.set_repeat(self.node_id, value)

    def _check_id(self, text: str) -> str | None:
        text = text.strip()
        problem = self.doc.edited_graph.id_problem(text, renaming=self.node_id)
        self.id_problem.setText(problem or "")
        self.id_problem.setVisible(bool(problem))
        _mark_invalid(self.id_edit, bool(problem))
        return problem

    def _drop_id_text(self) -> bool:
        """Ctrl+Z in the id field with a new id typed but not applied: back to the node's id."""
        if self.node_id is None or self.id_edit.text().strip() == self.node_id:
            return False
        self.id_edit.setText(self.node_id)
        self._check_id(self.node_id)
        return True

    def _apply_id(self) -> None:
        text = self.id_edit.text().strip()
        if self.node_id is None or text == self.node_id or self._check_id(text):
            return
        old = self.node_id
        self.node_id = text  # the rename keeps this panel; refresh() must not rebuild it
        if not self.editor.rename(old, text):
            self.node_id = old
