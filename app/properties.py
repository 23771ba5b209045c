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

from app.canvas import Canvas, count_text
from app.document import Document
from app.editor import Editor
from graph.params import Param
from graph.shape_text import node_shape_text, shapes_text

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
        self.problem = QtWidgets.QLabel()
        self.problem.setObjectName("problemText")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self._parse_problem: str | None = None

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

    # -- value -> editor --------------------------------------------------------------
    def set_value(self, value: Any) -> None:
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
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))
        self.editor.setProperty("invalid", bool(message))
        self.editor.style().unpolish(self.editor)
        self.editor.style().polish(self.editor)


class PropertiesPanel(QtWidgets.QScrollArea):
    """Shows and edits the one selected node; with none or several selected it says so."""

    def __init__(self, doc: Document, editor: Editor, canvas: Canvas, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.doc, self.editor, self.canvas = doc, editor, canvas
        self.setWidgetResizable(True)
        self.node_id: str | None = None
        self.rows: dict[str, _ParamRow] = {}
        self._body: QtWidgets.QWidget | None = None
        self._show_empty("Select a node to edit its parameters.")
        canvas.selection_changed.connect(self.refresh)
        doc.analysed.connect(lambda _analysis: self.refresh())

    # -- building ---------------------------------------------------------------------
    def _set_body(self, body: QtWidgets.QWidget) -> None:
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self._body = body
        self.setWidget(body)

    def _show_empty(self, text: str) -> None:
        self.node_id = None
        self.rows = {}
        label = QtWidgets.QLabel(text)
        label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setObjectName("propertiesHint")
        self._set_body(label)

    def refresh(self) -> None:
        ids = self.canvas.selected_ids()
        if len(ids) != 1:
            if self.node_id is not None or ids:
                self._show_empty("Select a node to edit its parameters." if not ids
                                 else f"{len(ids)} nodes selected. Select one to edit its parameters.")
            return
        if ids[0] != self.node_id:
            self._build(ids[0])
        self._update()

    def _build(self, node_id: str) -> None:
        node = self.doc.graph[node_id]
        layer = node.layer
        self.node_id = node_id
        self.rows = {}
        body = QtWidgets.QWidget()
        outer = QtWidgets.QVBoxLayout(body)
        outer.setContentsMargins(8, 8, 8, 8)
        title = QtWidgets.QLabel(f"<b>{html.escape(node.type)}</b>" +
                                 (f"<br/><span style='color:#9aa4ae'>{html.escape(layer.doc)}</span>" if layer else ""))
        title.setWordWrap(True)
        outer.addWidget(title)

        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        self.id_edit = QtWidgets.QLineEdit(node_id)
        self.id_edit.setObjectName("nodeId")
        self.id_edit.setToolTip("the node's id: a Python identifier, the attribute name in generated code")
        self.id_problem = QtWidgets.QLabel()
        self.id_problem.setObjectName("problemText")
        self.id_problem.setWordWrap(True)
        self.id_problem.hide()
        self.id_edit.textEdited.connect(self._check_id)
        self.id_edit.editingFinished.connect(self._apply_id)
        id_box = QtWidgets.QWidget()
        id_layout = QtWidgets.QVBoxLayout(id_box)
        id_layout.setContentsMargins(0, 0, 0, 0)
        id_layout.addWidget(self.id_edit)
        id_layout.addWidget(self.id_problem)
        form.addRow("id", id_box)
        self.trainable = QtWidgets.QCheckBox("learn this layer's weights")
        self.trainable.setObjectName("trainable")
        self.trainable.setToolTip("unchecked: the layer's parameters are frozen (requires_grad=False)")
        self.trainable.toggled.connect(lambda on: self.editor.set_trainable(self.node_id, on))
        form.addRow("trainable", self.trainable)

        advanced_rows = []
        if layer is not None:
            for param in layer.params:
                row = _ParamRow(param, self._apply_param)
                self.rows[param.name] = row
                label = QtWidgets.QLabel(param.name)
                label.setToolTip(param.help)
                if param.advanced:
                    advanced_rows.append((label, row))
                else:
                    form.addRow(label, row.widget)
        if advanced_rows:
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
            for label, row in advanced_rows:
                adv_form.addRow(label, row.widget)
            box.setVisible(False)

            def flip(on: bool) -> None:
                box.setVisible(on)
                toggle.setArrowType(QtCore.Qt.ArrowType.DownArrow if on else QtCore.Qt.ArrowType.RightArrow)

            toggle.toggled.connect(flip)
            outer.addWidget(toggle)
            outer.addWidget(box)
            self.advanced_toggle = toggle

        inferred = QtWidgets.QGroupBox("Inferred")
        self.inferred_form = QtWidgets.QFormLayout(inferred)
        outer.addWidget(inferred)
        self.node_problems = QtWidgets.QLabel()
        self.node_problems.setObjectName("problemText")
        self.node_problems.setWordWrap(True)
        outer.addWidget(self.node_problems)
        outer.addStretch(1)
        self._set_body(body)

    # -- updating ---------------------------------------------------------------------
    def _update(self) -> None:
        node = self.doc.graph.node(self.node_id)
        if node is None:
            return
        if not self.id_edit.hasFocus():
            self.id_edit.setText(node.id)
        with QtCore.QSignalBlocker(self.trainable):
            self.trainable.setChecked(node.trainable)
        values = node.values()
        problems = self.doc.analysis.problems_for(node.id)
        by_field: dict[str, list[str]] = {}
        general = []
        for d in problems:
            if d.field in self.rows:
                by_field.setdefault(d.field, []).append(d.text())
            elif d.field != "id":
                general.append(f"{d.severity}: {d.text()}")
        for name, row in self.rows.items():
            row.set_value(node.params.get(name, values.get(name)))
            row.show_problem("; ".join(by_field.get(name, [])) or None)
        self.node_problems.setText("<br/>".join(html.escape(g) for g in general))
        self.node_problems.setVisible(bool(general))
        self._fill_inferred(node)

    def _fill_inferred(self, node) -> None:
        form = self.inferred_form
        while form.rowCount():
            form.removeRow(0)
        info = self.doc.analysis.nodes.get(node.id)
        known = info is not None and info.outputs is not None

        def add(label: str, text: str) -> None:
            value = QtWidgets.QLabel(text)
            value.setObjectName("derivedValue")
            value.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, value)

        if not known:
            add("output", "? (see the problems)")
            return
        if info.inputs and any(s is not None for s in info.inputs):
            add("input", shapes_text(info.inputs))
        add("output", node_shape_text(info))
        add("parameters", f"{info.params:,}" + (f" ({count_text(info.params)})" if info.params >= 10_000 else ""))
        add("MACs", f"{info.macs:,}")
        for key, value in info.derived.items():
            add(key, value_text(value))

    def _apply_param(self, name: str, value: Any) -> None:
        if self.node_id is not None:
            self.editor.set_param(self.node_id, name, value)

    def _check_id(self, text: str) -> str | None:
        text = text.strip()
        problem = self.doc.graph.id_problem(text, renaming=self.node_id)
        self.id_problem.setText(problem or "")
        self.id_problem.setVisible(bool(problem))
        self.id_edit.setProperty("invalid", bool(problem))
        self.id_edit.style().unpolish(self.id_edit)
        self.id_edit.style().polish(self.id_edit)
        return problem

    def _apply_id(self) -> None:
        text = self.id_edit.text().strip()
        if self.node_id is None or text == self.node_id or self._check_id(text):
            return
        old = self.node_id
        self.node_id = text  # the rename keeps this panel; refresh() must not rebuild it
        if not self.editor.rename(old, text):
            self.node_id = old
